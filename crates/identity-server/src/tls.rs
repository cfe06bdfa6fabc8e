//! HTTPS served by the host itself: the rustls configuration built once at start from `[tls]`'s
//! PEM files, and the `Strict-Transport-Security` header that https responses carry.
//!
//! Only HTTP/1.1 is offered (ALPN), as the listener serves nothing else. The certificate is read
//! once: renewing it takes a restart, which the listener's graceful shutdown makes cheap.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Failure, Result};

/// One year, as the header's commonly preloaded value; without `includeSubDomains`, which only
/// the owner of the whole domain can promise.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The certificate chain and key files of `[tls]`.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    /// The PEM certificate chain.
    pub(crate) cert_file: PathBuf,
    /// The PEM private key.
    pub(crate) key_file: PathBuf,
}

impl TlsFiles {
    /// The server's TLS configuration: the chain and key read, parsed and checked to match, so
    /// that a wrong file stops the start with its name instead of failing every handshake.
    pub(crate) fn server_config(&self) -> Result<Arc<ServerConfig>> {
        let chain = read_chain(&self.cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&self.key_file).map_err(|error| {
            Failure::new(format!("[tls] key_file {}: no usable private key ({error})", self.key_file.display()))
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Failure::new(format!("cannot set up TLS: {error}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| {
                Failure::new(format!(
                    "[tls] cert_file {} and key_file {} do not make a usable pair: {error}",
                    self.cert_file.display(),
                    self.key_file.display()
                ))
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Every certificate of a PEM file, which must hold at least one.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let unreadable =
        |error: &dyn std::fmt::Display| Failure::new(format!("[tls] cert_file {}: {error}", path.display()));
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|error| unreadable(&error))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| unreadable(&error))?;
    if chain.is_empty() {
        return Err(unreadable(&"no PEM certificate in it"));
    }
    Ok(chain)
}

/// Adds `Strict-Transport-Security` to every response that lacks it: browsers that reached the
/// server once over https never try plain http again for a year.
pub(crate) async fn strict_transport_security(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::STRICT_TRANSPORT_SECURITY)
        .or_insert(HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    response
}

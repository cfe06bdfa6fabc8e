//! `[tls]`: the certificate and key with which `serve` answers HTTPS itself, without a proxy in
//! front.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[tls]`. Both files or neither: with both the server speaks only HTTPS.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TlsConfig {
    /// The PEM certificate chain, the server's certificate first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cert_file: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of that certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_file: Option<PathBuf>,
}

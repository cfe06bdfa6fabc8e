//! HTTPS served by the binary itself from the `[tls]` certificate and key: discovery and a token
//! over TLS with a client that trusts only that certificate, `Strict-Transport-Security` on the
//! responses, and clear refusals of incomplete or mismatched files and of a plain-http issuer.

use test_support::Backend;

use crate::support::{PASSWORD_CLIENT, TestEnv, env};

/// A new self-signed certificate for `localhost` and 127.0.0.1, and its key, in PEM.
fn self_signed_certificate() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("a key pair");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("certificate parameters");
    let certificate = params.self_signed(&key).expect("a self-signed certificate");
    (certificate.pem(), key.serialize_pem())
}

/// Writes a certificate and key into the test directory: their paths.
fn write_pair(env: &TestEnv, name: &str) -> (String, String, String) {
    let (certificate, key) = self_signed_certificate();
    let path = |file: std::path::PathBuf| file.to_str().expect("UTF-8").to_owned();
    let cert_file = path(env.write_file(&format!("{name}.crt"), &certificate));
    let key_file = path(env.write_file(&format!("{name}.key"), &key));
    (certificate, cert_file, key_file)
}

#[tokio::test]
async fn https_with_the_configured_certificate_serves_discovery_and_tokens() {
    let env = env(Backend::Sqlite).await;
    env.create_user("alice", &[]);
    let (certificate, cert_file, key_file) = write_pair(&env, "server");
    let server = env.serve_with_env(
        &[],
        &[
            ("IDENTITY_TLS__CERT_FILE", &cert_file),
            ("IDENTITY_TLS__KEY_FILE", &key_file),
            ("IDENTITY_LIMITS__HEADER_READ_TIMEOUT", "1"),
        ],
    );
    assert!(server.address.starts_with("https://127.0.0.1:"), "{}", server.address);

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certificate.as_bytes()).expect("PEM"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = trusting.get(server.url("/.well-known/openid-configuration")).send().await.expect("over TLS");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("strict-transport-security").map(|value| value.to_str().expect("ASCII")),
        Some("max-age=31536000")
    );
    let discovery: serde_json::Value = serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert_eq!(discovery["issuer"], server.address.as_str(), "the default issuer is the https address");
    assert_eq!(discovery["token_endpoint"], server.url("/connect/token"));

    let token = trusting
        .post(server.url("/connect/token"))
        .basic_auth(PASSWORD_CLIENT.0, Some(PASSWORD_CLIENT.1))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", crate::support::PASSWORD),
            ("scope", "openid"),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(token.status(), 200);
    let token: serde_json::Value = serde_json::from_str(&token.text().await.expect("body")).expect("JSON");
    let access_token = token["access_token"].as_str().expect("an access token");
    test_support::secrets::remember(access_token);

    // A connection that never starts its handshake is closed after the header-read timeout
    // (1 s here, waited for with 10x slack), not held.
    let address = server.address.trim_start_matches("https://");
    let mut silent = std::net::TcpStream::connect(address).expect("connects");
    silent.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("a read timeout");
    let mut byte = [0_u8; 1];
    let closed = std::io::Read::read(&mut silent, &mut byte);
    assert!(matches!(closed, Ok(0)), "closed by the server, not held: {closed:?}");

    let untrusting = reqwest::Client::new();
    let refused = untrusting.get(server.url("/.well-known/openid-configuration")).send().await;
    assert!(refused.is_err(), "a client that does not trust the certificate gets no answer");
    let plain = untrusting.get(server.url("/health/live").replacen("https://", "http://", 1)).send().await;
    assert!(plain.is_err() || plain.is_ok_and(|response| !response.status().is_success()), "no plain http");
}

#[tokio::test]
async fn incomplete_or_mismatched_tls_files_refuse_to_serve_naming_them() {
    let env = env(Backend::Sqlite).await;
    let (_, cert_file, key_file) = write_pair(&env, "first");
    let (_, _, other_key_file) = write_pair(&env, "second");
    env.serve_refused("127.0.0.1:0", &[], &[("IDENTITY_TLS__CERT_FILE", &cert_file)])
        .fails_with("[tls] needs both cert_file and key_file");
    env.serve_refused(
        "127.0.0.1:0",
        &[],
        &[("IDENTITY_TLS__CERT_FILE", &cert_file), ("IDENTITY_TLS__KEY_FILE", &other_key_file)],
    )
    .fails_with("do not make a usable pair");
    env.serve_refused(
        "127.0.0.1:0",
        &[],
        &[("IDENTITY_TLS__CERT_FILE", &key_file), ("IDENTITY_TLS__KEY_FILE", &key_file)],
    )
    .fails_with("no PEM certificate");
    env.serve_refused(
        "127.0.0.1:0",
        &[],
        &[("IDENTITY_TLS__CERT_FILE", "/nonexistent/server.crt"), ("IDENTITY_TLS__KEY_FILE", &key_file)],
    )
    .fails_with("/nonexistent/server.crt");
    let pair = [("IDENTITY_TLS__CERT_FILE", cert_file.as_str()), ("IDENTITY_TLS__KEY_FILE", key_file.as_str())];
    env.serve_refused("127.0.0.1:0", &["--issuer", "http://localhost:5000"], &pair).fails_with("is not https");
}

//! JOSE parsing and validation of access tokens at introspection and userinfo. An input starting
//! with byte 0 edits a genuine access token (each following 3 bytes: a big-endian position and a
//! byte to XOR there); any other input is the token itself, as text. Nothing but the genuine token
//! may be active, and nothing may panic or make a server error.
#![no_main]

use axum::http::HeaderValue;
use identity_fuzz::{Server, inactive};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let server = Server::get();
    let token = match data.split_first() {
        Some((0, edits)) => {
            let mut bytes = server.genuine_token().as_bytes().to_vec();
            for edit in edits.chunks_exact(3) {
                let at = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % bytes.len();
                bytes[at] ^= edit[2];
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    if token == server.genuine_token() {
        return;
    }
    let (status, body) = server.introspect(&token);
    assert!(inactive(status, &body) || (token.is_empty() && status.is_client_error()), "{status}: {body}");
    if let Ok(authorization) = HeaderValue::from_str(&format!("Bearer {token}")) {
        let status = server.userinfo(authorization);
        assert!(status.is_client_error(), "userinfo answered {status}");
    }
});

//! Client authentication and form parsing with an arbitrary `Authorization` header and form body
//! (the input split in two by `arbitrary`): `decode_form` never panics and what it decodes
//! re-encodes to itself; the token, introspection and revocation endpoints answer without a server
//! error, and userinfo refuses the header, whatever they get.
#![no_main]

use axum::http::HeaderValue;
use identity_fuzz::{INTROSPECTION, REVOCATION, Server, TOKEN, form};
use libfuzzer_sys::fuzz_target;
use oidc_server::decode_form;

fuzz_target!(|input: (&[u8], &[u8])| {
    let (authorization, body) = input;
    if let Some(pairs) = decode_form(body) {
        assert_eq!(decode_form(&form(&pairs)), Some(pairs));
    }
    let authorization = HeaderValue::from_bytes(authorization).ok();
    let server = Server::get();
    for path in [TOKEN, INTROSPECTION, REVOCATION] {
        let (status, answer) = server.post_form(path, authorization.clone(), body.to_vec());
        assert!(!status.is_server_error(), "{path} answered {status}: {answer}");
    }
    if let Some(authorization) = authorization {
        let status = server.userinfo(authorization);
        assert!(status.is_client_error(), "userinfo answered {status}");
    }
});

//! Properties of the token server's parsers of untrusted input, checked with proptest:
//!
//! - `decode_form` never panics; encoded pairs decode to themselves, whatever they hold; a
//!   decoded body re-encodes to pairs that decode alike; escapes of bytes that are not UTF-8 are
//!   refused, never decoded lossily;
//! - client authentication (the router in process, on the token endpoint): a `client_secret_basic`
//!   header built from any client id and secret, form-urlencoded as RFC 6749 §2.3.1 says (or raw,
//!   when they hold nothing to encode), authenticates exactly that client, and a wrong secret is
//!   `invalid_client`; any `Authorization` header with any body, at the token, introspection,
//!   revocation and userinfo endpoints, is answered without a server error (and never with
//!   userinfo); a repeated parameter is `invalid_request`;
//! - JOSE: arbitrary strings, dot-separated base64url parts and forged JWTs (any `alg`, `typ` and
//!   `kid`, including the server's own key id, with the claims of a valid token) are never active
//!   at introspection nor accepted at userinfo; a genuine access token with any one character
//!   changed is never active;
//! - a `TokenClaim` with any JSON value survives serde, and any text deserializes to one or fails
//!   without panicking.
//!
//! The server runs on `test_support::clock`'s fixed instant, so nothing depends on today's date.

mod claims;
mod client_auth;
mod form;
mod jose;
mod support;

//! End-to-end tests of the server over real HTTP on an ephemeral port, driven by the
//! `openidconnect` and `oauth2` client crates and, for exact error shapes, by raw `reqwest`.

mod discovery;
mod errors;
mod grants;
mod id_tokens;
mod support;
mod tokens_at_resources;

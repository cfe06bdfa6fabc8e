//! End-to-end tests of the server over real HTTP on an ephemeral port, driven by the
//! `openidconnect` and `oauth2` client crates and, for exact error shapes, by raw `reqwest`; the
//! interactive tests use a cookie-keeping `reqwest` client as the browser and a small login page
//! that signs users in through the server's session API.

mod authorize;
mod code_flow;
mod cors;
mod discovery;
mod end_session;
mod errors;
mod grants;
mod id_tokens;
mod sessions;
mod support;
mod tokens_at_resources;

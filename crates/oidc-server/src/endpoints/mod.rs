//! The HTTP endpoints and their routes.

mod authorize;
mod discovery;
mod end_session;
mod introspection;
mod jwks;
mod revocation;
mod token;
mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::ServerState;

pub(crate) const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks";
pub(crate) const AUTHORIZE_PATH: &str = "/connect/authorize";
pub(crate) const TOKEN_PATH: &str = "/connect/token";
pub(crate) const USERINFO_PATH: &str = "/connect/userinfo";
pub(crate) const INTROSPECTION_PATH: &str = "/connect/introspect";
pub(crate) const REVOCATION_PATH: &str = "/connect/revocation";
pub(crate) const END_SESSION_PATH: &str = "/connect/endsession";

type SharedState = Arc<ServerState>;

/// Every endpoint, still needing the shared state.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery::discovery))
        .route(JWKS_PATH, get(jwks::jwks))
        .route(AUTHORIZE_PATH, get(authorize::authorize).post(authorize::authorize))
        .route(END_SESSION_PATH, get(end_session::end_session).post(end_session::end_session))
        .route(TOKEN_PATH, post(token::token))
        .route(USERINFO_PATH, get(userinfo::userinfo).post(userinfo::userinfo))
        .route(INTROSPECTION_PATH, post(introspection::introspect))
        .route(REVOCATION_PATH, post(revocation::revoke))
}

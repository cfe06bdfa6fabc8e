//! The HTTP endpoints and their routes.

mod authorize;
mod cors;
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

use crate::protocol::paths::{
    AUTHORIZE_PATH, DISCOVERY_PATH, END_SESSION_PATH, INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH,
    USERINFO_PATH,
};
use crate::state::ServerState;

type SharedState = Arc<ServerState>;

/// Every endpoint, still needing the shared state; the CORS layer is added with it
/// ([`with_cors`]).
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

/// `router` with CORS answers for browser clients ([`cors`]).
pub(crate) fn with_cors(router: Router, state: &SharedState) -> Router {
    router.layer(axum::middleware::from_fn_with_state(Arc::clone(state), cors::cors))
}

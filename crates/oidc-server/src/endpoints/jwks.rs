//! The JSON Web Key Set of the published signing keys (RFC 7517 §5).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::SharedState;
use crate::protocol::error::OAuthError;

pub(super) async fn jwks(State(state): State<SharedState>) -> Response {
    match state.keys.jwks().await {
        Ok(jwks) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], jwks).into_response(),
        Err(error) => OAuthError::from(error).into_response(),
    }
}

//! The revocation endpoint (RFC 7009) for refresh tokens.
//!
//! Revoking a refresh token revokes its whole grant family (every rotation of it). Unknown tokens
//! and other clients' tokens are answered with 200 like revoked ones, so the endpoint reveals
//! nothing. JWT access tokens are self-contained and cannot be revoked before they expire:
//! `unsupported_token_type`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::SharedState;
use crate::protocol::client_auth::authenticate_client;
use crate::protocol::error::{ErrorCode, OAuthError};
use crate::protocol::form::FormParams;
use crate::stores::grants::GrantFilter;
use crate::tokens::looks_like_jwt;
use crate::tokens::refresh_token::find_refresh_token;

pub(super) async fn revoke(
    State(state): State<SharedState>,
    headers: HeaderMap,
    form: FormParams,
) -> Result<Response, OAuthError> {
    let client = authenticate_client(&state, &headers, &form).await?;
    let token = form.require("token")?;
    // `token_type_hint` is ignored (RFC 7009 §2.1 allows it): the shape tells the type.
    if looks_like_jwt(token) {
        return Err(OAuthError::new(ErrorCode::UnsupportedTokenType)
            .with_description("access tokens are self-contained and expire on their own"));
    }
    match find_refresh_token(&state, token).await? {
        Some(grant) if grant.client_id == client.client_id => {
            let revoked = state.grants.remove_all(&GrantFilter::family(grant.family_id)).await?;
            tracing::info!(client_id = %client.client_id, revoked, "refresh token revoked");
        }
        Some(_) => {
            tracing::info!(client_id = %client.client_id, "ignored revocation of another client's refresh token");
        }
        None => tracing::debug!(client_id = %client.client_id, "revocation of an unknown token"),
    }
    Ok(StatusCode::OK.into_response())
}

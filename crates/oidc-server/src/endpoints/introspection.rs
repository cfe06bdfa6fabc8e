//! The introspection endpoint (RFC 7662). Any confidential client, one that authenticates with a
//! secret, may introspect access tokens (resource servers are registered as clients); refresh
//! tokens only by the client that holds them. A public client is refused with `invalid_client`:
//! anyone can present its id, so it would make the endpoint a free token-liveness oracle
//! (RFC 7662 §2.1, §4). Anything invalid, expired, revoked, foreign or of an inactive user is
//! `active: false`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::SharedState;
use crate::claims::claim_types;
use crate::error::Result;
use crate::model::client::Client;
use crate::protocol::client_auth::authenticate_client;
use crate::protocol::error::OAuthError;
use crate::protocol::form::FormParams;
use crate::protocol::response::no_store_json;
use crate::services::profile::IsActiveCaller;
use crate::state::ServerState;
use crate::tokens::access_token::validate_access_token;
use crate::tokens::looks_like_jwt;
use crate::tokens::refresh_token::{RefreshTokenPayload, find_refresh_token};

pub(super) async fn introspect(
    State(state): State<SharedState>,
    headers: HeaderMap,
    form: FormParams,
) -> Result<Response, OAuthError> {
    let caller = authenticate_client(&state, &headers, &form).await?;
    if !caller.require_client_secret {
        tracing::info!(client_id = %caller.client_id, "introspection refused to a public client");
        return Err(OAuthError::invalid_client());
    }
    let token = form.require("token")?;
    // The token's shape tells its type, so `token_type_hint` is not needed (RFC 7662 §2.1
    // lets the server ignore it).
    let description = if looks_like_jwt(token) {
        access_token_description(&state, token).await?
    } else {
        refresh_token_description(&state, &caller, token).await?
    };
    let body = match description {
        Some(mut claims) => {
            claims.insert("active".into(), true.into());
            claims
        }
        None => Map::from_iter([("active".to_owned(), Value::Bool(false))]),
    };
    Ok(no_store_json(StatusCode::OK, &body))
}

/// The claims of a valid access token whose client and user are still active.
async fn access_token_description(state: &ServerState, token: &str) -> Result<Option<Map<String, Value>>> {
    let Some(access_token) = validate_access_token(state, token).await? else {
        return Ok(None);
    };
    let Some(client_id) = access_token.client_id() else {
        return Ok(None);
    };
    let Some(client) = state.enabled_client(client_id).await? else {
        return Ok(None);
    };
    if let Some(subject) = access_token.subject()
        && !state.is_user_active(&subject, &client, IsActiveCaller::AccessTokenValidation).await?
    {
        return Ok(None);
    }
    Ok(Some(access_token.payload().clone()))
}

/// The facts of a valid, unconsumed refresh token of `caller` whose user is still active.
async fn refresh_token_description(
    state: &ServerState,
    caller: &Client,
    handle: &str,
) -> Result<Option<Map<String, Value>>> {
    let Some(grant) = find_refresh_token(state, handle).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let usable = grant.client_id == caller.client_id && grant.consumed_time.is_none() && !grant.is_expired(now);
    if !usable {
        return Ok(None);
    }
    let payload = RefreshTokenPayload::from_grant(&grant)?;
    if !state.is_user_active(&payload.subject, caller, IsActiveCaller::RefreshTokenValidation).await? {
        return Ok(None);
    }
    let mut body = Map::new();
    body.insert(claim_types::CLIENT_ID.into(), grant.client_id.into());
    body.insert(claim_types::SUBJECT.into(), payload.subject.subject_id.into());
    body.insert(claim_types::SCOPE.into(), payload.scopes.join(" ").into());
    body.insert(claim_types::ISSUED_AT.into(), grant.creation_time.timestamp().into());
    if let Some(expiration) = grant.expiration {
        body.insert(claim_types::EXPIRATION.into(), expiration.timestamp().into());
    }
    Ok(Some(body))
}

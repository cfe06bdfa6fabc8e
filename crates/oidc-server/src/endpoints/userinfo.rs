//! The userinfo endpoint (OpenID Connect Core §5.3), protected by bearer access tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::SharedState;
use crate::claims::{add_claims_to_json, claim_types};
use crate::error::Error;
use crate::model::resources::{OPENID_SCOPE, RequestedResources, Resources};
use crate::protocol::bearer::{BearerChallenge, bearer_token};
use crate::protocol::error::OAuthError;
use crate::protocol::response::no_store_json;
use crate::services::profile::{IsActiveCaller, IsActiveContext, ProfileCaller, ProfileDataRequestContext};
use crate::state::ServerState;
use crate::tokens::access_token::validate_access_token;

/// Why a userinfo request was refused.
enum Rejection {
    Challenge(BearerChallenge),
    Failure(OAuthError),
}

impl From<BearerChallenge> for Rejection {
    fn from(challenge: BearerChallenge) -> Self {
        Self::Challenge(challenge)
    }
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        Self::Failure(error.into())
    }
}

pub(super) async fn userinfo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    match user_claims(&state, &headers).await {
        Ok(claims) => no_store_json(StatusCode::OK, &claims),
        Err(Rejection::Challenge(challenge)) => challenge.into_response(),
        Err(Rejection::Failure(failure)) => failure.into_response(),
    }
}

async fn user_claims(state: &ServerState, headers: &HeaderMap) -> Result<Map<String, Value>, Rejection> {
    let token = bearer_token(headers)?;
    let invalid = |description| Rejection::Challenge(BearerChallenge::InvalidToken(description));
    let access_token =
        validate_access_token(state, token).await?.ok_or_else(|| invalid("the access token is invalid or expired"))?;
    let scopes = access_token.scopes();
    if !scopes.iter().any(|scope| scope == OPENID_SCOPE) {
        return Err(BearerChallenge::InsufficientScope(OPENID_SCOPE).into());
    }
    let subject = access_token.subject().ok_or_else(|| invalid("the access token has no user"))?;
    let client_id = access_token.client_id().ok_or_else(|| invalid("the access token has no client"))?;
    let client = state.enabled_client(client_id).await?.ok_or_else(|| invalid("the client is unknown or disabled"))?;
    let resources = RequestedResources::new(
        scopes.clone(),
        Resources::new(
            state.resources.find_identity_resources_by_scope_name(&scopes).await?,
            state.resources.find_api_scopes_by_name(&scopes).await?,
            state.resources.find_api_resources_by_scope_name(&scopes).await?,
        ),
    );
    // Whether the user is active and what they may see, in one call: a profile service may
    // read the user once for both.
    let mut active = IsActiveContext::new(&subject, &client, IsActiveCaller::UserInfoRequestValidation);
    let mut context = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::UserInfo, &resources);
    state.profile.get_profile_data_if_active(&mut active, &mut context).await?;
    if !active.is_active {
        return Err(invalid("the user is not active"));
    }

    let mut claims = Map::new();
    claims.insert(claim_types::SUBJECT.into(), subject.subject_id.clone().into());
    // The subject identifier always comes from the token: a profile service cannot change it.
    let issued = context.issued_claims.iter().filter(|claim| {
        let is_subject = claim.claim_type == claim_types::SUBJECT;
        if is_subject && claim.value.as_str() != Some(subject.subject_id.as_str()) {
            tracing::warn!("the profile service issued a different `sub` at userinfo; ignored");
        }
        !is_subject
    });
    add_claims_to_json(&mut claims, issued);
    Ok(claims)
}

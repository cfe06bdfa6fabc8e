//! The token endpoint (RFC 6749 §3.2): authorization-code (with PKCE), client-credentials,
//! password and refresh-token grants.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::SharedState;
use crate::claims::{Subject, authentication_methods};
use crate::events::ServerEvent;
use crate::model::client::{Client, GrantType, RefreshTokenUsage};
use crate::model::resources::RequestedResources;
use crate::protocol::client_auth::authenticate_client;
use crate::protocol::error::{ErrorCode, OAuthError};
use crate::protocol::form::FormParams;
use crate::protocol::pkce;
use crate::protocol::response::no_store_json;
use crate::protocol::scopes::{parse_scope_parameter, validate_scopes};
use crate::services::password::{GrantValidationResult, INVALID_CREDENTIALS, ResourceOwnerPasswordValidationContext};
use crate::services::profile::{IsActiveCaller, ProfileCaller, ProfileDataRequestContext};
use crate::state::ServerState;
use crate::stores::grants::{ConsumeOutcome, GrantFilter, PersistedGrant};
use crate::tokens::access_token::{TokenUser, issue_access_token};
use crate::tokens::authorization_code::{AuthorizationCodePayload, consume_authorization_code};
use crate::tokens::id_token::{IdTokenRequest, issue_id_token};
use crate::tokens::refresh_token::{
    GrantFamily, RefreshTokenPayload, find_refresh_token, issue_refresh_token, new_refresh_token,
};

const INVALID_REFRESH_TOKEN: &str = "the refresh token is invalid, expired or revoked";
const INVALID_CODE: &str = "the authorization code is invalid, expired or used";

/// A successful token response (RFC 6749 §5.1). Not `Debug`, so tokens cannot end up in logs.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// The user the tokens are about, for the server's event; not part of the response.
    #[serde(skip)]
    subject_id: Option<String>,
}

pub(super) async fn token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    form: FormParams,
) -> Result<Response, OAuthError> {
    let mut request = TokenRequest::default();
    match issue(&state, &headers, &form, &mut request).await {
        Ok(response) => {
            if let (Some(grant_type), Some(client_id)) = (request.grant_type, request.client_id.as_deref()) {
                tracing::debug!(client_id, grant_type = grant_type.as_str(), "tokens issued");
                let subject_id = response.subject_id.as_deref();
                state.record(&ServerEvent::TokensIssued { grant_type, client_id, subject_id });
            }
            Ok(no_store_json(StatusCode::OK, &response))
        }
        Err(error) => {
            state.record(&ServerEvent::TokenRequestRefused {
                grant_type: request.grant_type,
                client_id: request.client_id.as_deref(),
                error: error.code(),
            });
            Err(error)
        }
    }
}

/// What is known of a token request as it is checked, for its event.
#[derive(Default)]
struct TokenRequest {
    grant_type: Option<GrantType>,
    client_id: Option<String>,
}

async fn issue(
    state: &ServerState,
    headers: &HeaderMap,
    form: &FormParams,
    request: &mut TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    request.grant_type = form.get("grant_type").and_then(GrantType::from_name);
    let client = authenticate_client(state, headers, form).await?;
    request.client_id = Some(client.client_id.clone());
    form.require("grant_type")?;
    let grant_type =
        request.grant_type.filter(|grant_type| state.supports_grant_type(*grant_type)).ok_or_else(|| {
            OAuthError::new(ErrorCode::UnsupportedGrantType).with_description("the grant type is not supported")
        })?;
    if !client.allows_grant_type(grant_type) {
        tracing::info!(client_id = %client.client_id, grant_type = grant_type.as_str(), "grant type not allowed for client");
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient)
            .with_description("the client is not allowed to use this grant type"));
    }
    match grant_type {
        GrantType::AuthorizationCode => authorization_code(state, &client, form).await,
        GrantType::ClientCredentials => client_credentials(state, &client, form).await,
        GrantType::Password => password(state, &client, form).await,
        GrantType::RefreshToken => refresh(state, &client, form).await,
    }
}

fn requested_scopes(form: &FormParams) -> Option<Vec<String>> {
    form.get("scope").map(parse_scope_parameter)
}

async fn token_response(
    state: &ServerState,
    client: &Client,
    user: Option<&TokenUser<'_>>,
    resources: &RequestedResources,
    refresh_token: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let access_token = issue_access_token(state, client, user, resources).await?;
    Ok(TokenResponse {
        access_token: access_token.token,
        token_type: "Bearer",
        expires_in: access_token.expires_in,
        scope: resources.scope_values().join(" "),
        refresh_token,
        id_token: None,
        subject_id: user.map(|user| user.subject.subject_id.clone()),
    })
}

async fn client_credentials(
    state: &ServerState,
    client: &Client,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let resources =
        validate_scopes(state.resources.as_ref(), client, requested_scopes(form), GrantType::ClientCredentials).await?;
    token_response(state, client, None, &resources, None).await
}

async fn password(state: &ServerState, client: &Client, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    let Some(validator) = &state.password_validator else {
        return Err(OAuthError::new(ErrorCode::UnsupportedGrantType));
    };
    let user_name = form.require("username")?;
    let password = form.require("password")?;
    if user_name.chars().count() > state.options.max_user_name_length
        || password.chars().count() > state.options.max_password_length
    {
        return Err(OAuthError::invalid_grant(INVALID_CREDENTIALS));
    }
    let resources =
        validate_scopes(state.resources.as_ref(), client, requested_scopes(form), GrantType::Password).await?;
    let mut context = ResourceOwnerPasswordValidationContext::new(
        user_name.to_owned(),
        password.to_owned(),
        client,
        &resources,
        state.clock.now(),
    );
    validator.validate(&mut context).await?;
    let subject = match context.result {
        GrantValidationResult::Success(subject) => subject,
        GrantValidationResult::Error { error, description } => {
            tracing::info!(client_id = %client.client_id, error = error.as_str(), "password grant rejected");
            let rejection = OAuthError::new(error);
            return Err(match description {
                Some(description) => rejection.with_description(description),
                None if error == ErrorCode::InvalidGrant => rejection.with_description(INVALID_CREDENTIALS),
                None => rejection,
            });
        }
    };
    if client.require_two_factor && !subject.has_authentication_method(authentication_methods::MULTIPLE_FACTORS) {
        tracing::info!(client_id = %client.client_id, "password grant refused: the client requires two-factor");
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient)
            .with_description("the client requires a two-factor sign-in, which this grant did not give"));
    }
    let Some(user) =
        TokenUser::if_active(state, client, &subject, &resources, IsActiveCaller::ResourceOwnerValidation).await?
    else {
        tracing::info!(client_id = %client.client_id, "password grant for inactive user refused");
        return Err(OAuthError::new(ErrorCode::InvalidGrant));
    };
    let refresh_token = if resources.offline_access() {
        let payload = RefreshTokenPayload { subject: subject.clone(), scopes: resources.scope_values().to_vec() };
        let family = GrantFamily::start(client, state.clock.now())?;
        Some(issue_refresh_token(state, client, &payload, family).await?)
    } else {
        None
    };
    token_response(state, client, Some(&user), &resources, refresh_token).await
}

/// A consumed one-time grant (refresh token or authorization code) came back: it may have been
/// stolen, so every token of its family is revoked (RFC 6749 §4.1.2; OAuth 2.0 Security BCP,
/// refresh token rotation). Answers `invalid_grant` with `description`.
async fn revoke_family_after_replay(
    state: &ServerState,
    grant: &PersistedGrant,
    description: &'static str,
) -> OAuthError {
    tracing::warn!(
        client_id = %grant.client_id,
        family = %grant.family_id,
        grant_type = grant.grant_type.as_str(),
        "replay detected; revoking the whole grant"
    );
    // Twice: a store under snapshot isolation per statement (PostgreSQL's READ COMMITTED) does
    // not delete a token that a racing rotation committed after the first delete's snapshot. The
    // second delete starts after the first committed, so it sees any token whose rotation could
    // still have found its parent; a rotation inserting later finds the parent gone and fails.
    let family = GrantFilter::family(grant.family_id.clone());
    for _ in 0..2 {
        if let Err(error) = state.grants.remove_all(&family).await {
            return error.into();
        }
    }
    OAuthError::invalid_grant(description)
}

/// Checks the PKCE `code_verifier` against the code's challenge. A verifier without a challenge
/// is refused too, so that PKCE cannot be stripped from the authorization request unnoticed
/// (OAuth 2.0 Security BCP §4.8.2).
fn verify_code_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) if pkce::verifies(verifier, challenge) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant("the code_verifier does not match the code_challenge")),
        (Some(_), None) => Err(OAuthError::invalid_grant("the code_verifier is required")),
        (None, Some(_)) => Err(OAuthError::invalid_grant("the authorization request had no code_challenge")),
    }
}

async fn authorization_code(
    state: &ServerState,
    client: &Client,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let grant = match consume_authorization_code(state, code).await? {
        ConsumeOutcome::Consumed(grant) => grant,
        ConsumeOutcome::AlreadyConsumed(grant) => {
            return Err(revoke_family_after_replay(state, &grant, INVALID_CODE).await);
        }
        ConsumeOutcome::NotFound => return Err(OAuthError::invalid_grant(INVALID_CODE)),
    };
    if grant.client_id != client.client_id {
        tracing::info!(client_id = %client.client_id, "authorization code of another client presented");
        return Err(OAuthError::invalid_grant(INVALID_CODE));
    }
    if grant.is_expired(state.clock.now()) {
        return Err(OAuthError::invalid_grant(INVALID_CODE));
    }
    let payload = AuthorizationCodePayload::from_grant(&grant)?;
    if payload.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant("the redirect_uri does not match the authorization request"));
    }
    verify_code_verifier(payload.code_challenge.as_deref(), form.get("code_verifier"))?;
    let resources =
        validate_scopes(state.resources.as_ref(), client, Some(payload.scopes.clone()), GrantType::AuthorizationCode)
            .await?;
    let subject = &payload.subject;
    let Some(user) =
        TokenUser::if_active(state, client, subject, &resources, IsActiveCaller::AuthorizationCodeValidation).await?
    else {
        tracing::info!(client_id = %client.client_id, "authorization code of an inactive user refused");
        return Err(OAuthError::new(ErrorCode::InvalidGrant));
    };
    let refresh_token = if resources.offline_access() {
        let refresh = RefreshTokenPayload { subject: subject.clone(), scopes: resources.scope_values().to_vec() };
        let family = GrantFamily::of_authorization_code(&grant, client, state.clock.now())?;
        Some(issue_refresh_token(state, client, &refresh, family).await?)
    } else {
        None
    };
    let mut response = token_response(state, client, Some(&user), &resources, refresh_token).await?;
    add_id_token(state, client, subject, &resources, payload.nonce.as_deref(), &mut response).await?;
    // A replay that raced this redemption removed the family, the code's grant included, perhaps
    // before the refresh token above was stored: revoke again and fail.
    if state.grants.get(&grant.key).await?.is_none() {
        return Err(revoke_family_after_replay(state, &grant, INVALID_CODE).await);
    }
    Ok(response)
}

async fn refresh(state: &ServerState, client: &Client, form: &FormParams) -> Result<TokenResponse, OAuthError> {
    let handle = form.require("refresh_token")?;
    let now = state.clock.now();
    let grant = find_refresh_token(state, handle)
        .await?
        .filter(|grant| grant.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant(INVALID_REFRESH_TOKEN))?;
    if grant.is_expired(now) {
        return Err(OAuthError::invalid_grant(INVALID_REFRESH_TOKEN));
    }
    if grant.consumed_time.is_some() {
        return Err(revoke_family_after_replay(state, &grant, INVALID_REFRESH_TOKEN).await);
    }
    let payload = RefreshTokenPayload::from_grant(&grant)?;
    let scopes = match requested_scopes(form) {
        Some(requested) if requested.iter().all(|scope| payload.scopes.contains(scope)) => requested,
        Some(_) => {
            return Err(OAuthError::invalid_scope("the requested scope exceeds the original grant"));
        }
        None => payload.scopes.clone(),
    };
    let resources = validate_scopes(state.resources.as_ref(), client, Some(scopes), GrantType::RefreshToken).await?;
    let Some(user) =
        TokenUser::if_active(state, client, &payload.subject, &resources, IsActiveCaller::RefreshTokenValidation)
            .await?
    else {
        tracing::info!(client_id = %client.client_id, "refresh for inactive user refused");
        return Err(OAuthError::new(ErrorCode::InvalidGrant));
    };
    let refresh_token = match client.refresh_token_usage {
        RefreshTokenUsage::ReUse => handle.to_owned(),
        RefreshTokenUsage::OneTime => {
            // The old token consumed and its successor stored in one transaction: a crash
            // cannot leave the family without a live token.
            let (rotated, successor) = new_refresh_token(state, client, &payload, GrantFamily::continuing(&grant))?;
            match state.grants.consume_and_store(&grant.key, now, successor).await? {
                ConsumeOutcome::Consumed(_) => {}
                ConsumeOutcome::AlreadyConsumed(grant) => {
                    return Err(revoke_family_after_replay(state, &grant, INVALID_REFRESH_TOKEN).await);
                }
                ConsumeOutcome::NotFound => {
                    return Err(OAuthError::invalid_grant(INVALID_REFRESH_TOKEN));
                }
            }
            // A replay racing this rotation removes the family, the consumed parent and perhaps
            // the rotated token included: then revoke again and fail, so that no token of a
            // family revoked for replay survives and the client is not handed a dead one.
            if state.grants.get(&grant.key).await?.is_none() {
                return Err(revoke_family_after_replay(state, &grant, INVALID_REFRESH_TOKEN).await);
            }
            rotated
        }
    };
    let mut response = token_response(state, client, Some(&user), &resources, Some(refresh_token)).await?;
    // OpenID Connect Core §12.2: a new id token for the same sign-in (its `auth_time`, `amr` and
    // `sid` come from the grant's subject), without a nonce.
    add_id_token(state, client, &payload.subject, &resources, None, &mut response).await?;
    Ok(response)
}

/// Adds an id token for `subject` to `response` when the grant has `openid`: bound to the access
/// token (`at_hash`), with `nonce` when the authorization request had one, and the user claims
/// when the client always wants them in id tokens.
async fn add_id_token(
    state: &ServerState,
    client: &Client,
    subject: &Subject,
    resources: &RequestedResources,
    nonce: Option<&str>,
    response: &mut TokenResponse,
) -> Result<(), OAuthError> {
    if !resources.is_openid() {
        return Ok(());
    }
    let mut request = IdTokenRequest::new(client, subject);
    request.nonce = nonce;
    request.access_token = Some(&response.access_token);
    request.lifetime = client.identity_token_lifetime;
    if client.always_include_user_claims_in_id_token {
        let mut context = ProfileDataRequestContext::new(subject, client, ProfileCaller::IdentityToken, resources);
        state.profile.get_profile_data(&mut context).await?;
        request.claims = context.issued_claims;
    }
    response.id_token = Some(issue_id_token(state, &request).await?);
    Ok(())
}

//! The OpenID Provider configuration document (OpenID Connect Discovery 1.0 §3).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{
    AUTHORIZE_PATH, END_SESSION_PATH, INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, SharedState, TOKEN_PATH,
    USERINFO_PATH,
};
use crate::claims::claim_types;
use crate::error::Result;
use crate::model::client::{GrantType, OFFLINE_ACCESS_SCOPE};
use crate::protocol::error::OAuthError;
use crate::protocol::pkce;
use crate::protocol::response::json;
use crate::state::ServerState;

const CLIENT_AUTHENTICATION_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Claims every user token can carry besides the identity resources' user claims.
const SESSION_CLAIMS: [&str; 5] = [
    claim_types::SUBJECT,
    claim_types::AUTHENTICATION_TIME,
    claim_types::IDENTITY_PROVIDER,
    claim_types::AUTHENTICATION_METHOD,
    claim_types::SESSION_ID,
];

#[derive(Serialize)]
struct ProviderMetadata {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: Vec<String>,
    claims_supported: Vec<String>,
    grant_types_supported: Vec<&'static str>,
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    code_challenge_methods_supported: [&'static str; 1],
    prompt_values_supported: Vec<&'static str>,
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    /// RFC 9207: authorization responses carry `iss`.
    authorization_response_iss_parameter_supported: bool,
    /// Request objects are not supported; `request_uri_parameter_supported` defaults to `true`
    /// (OpenID Connect Discovery §3), so it must be stated.
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    /// OpenID Connect Back-Channel Logout 1.0, with `sid` in every logout token.
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    /// OpenID Connect Front-Channel Logout 1.0, with `iss` and `sid` for clients that ask.
    frontchannel_logout_supported: bool,
    frontchannel_logout_session_supported: bool,
}

async fn provider_metadata(state: &ServerState) -> Result<ProviderMetadata> {
    let resources = state.resources.get_all_resources().await?;
    let mut scopes_supported: Vec<String> = resources
        .identity_resources
        .iter()
        .map(|resource| resource.name.clone())
        .chain(resources.api_scopes.iter().map(|scope| scope.name.clone()))
        .collect();
    scopes_supported.push(OFFLINE_ACCESS_SCOPE.to_owned());
    let mut claims_supported: Vec<String> = SESSION_CLAIMS.iter().map(|claim| (*claim).to_owned()).collect();
    for claim in resources.identity_resources.iter().flat_map(|resource| &resource.user_claims) {
        if !claims_supported.contains(claim) {
            claims_supported.push(claim.clone());
        }
    }
    let grant_types_supported = GrantType::ALL
        .into_iter()
        .filter(|grant_type| state.supports_grant_type(*grant_type))
        .map(GrantType::as_str)
        .collect();
    Ok(ProviderMetadata {
        issuer: state.issuer.clone(),
        jwks_uri: state.endpoint_url(JWKS_PATH),
        authorization_endpoint: state.endpoint_url(AUTHORIZE_PATH),
        token_endpoint: state.endpoint_url(TOKEN_PATH),
        userinfo_endpoint: state.endpoint_url(USERINFO_PATH),
        introspection_endpoint: state.endpoint_url(INTROSPECTION_PATH),
        revocation_endpoint: state.endpoint_url(REVOCATION_PATH),
        end_session_endpoint: state.endpoint_url(END_SESSION_PATH),
        scopes_supported,
        claims_supported,
        grant_types_supported,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        code_challenge_methods_supported: [pkce::S256],
        prompt_values_supported: ["none", "login", "consent"]
            .into_iter()
            .chain(state.options.create_account_url.is_some().then_some("create"))
            .collect(),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: state
            .keys
            .algorithms()
            .iter()
            .map(|algorithm| algorithm.as_str())
            .collect(),
        token_endpoint_auth_methods_supported: CLIENT_AUTHENTICATION_METHODS,
        introspection_endpoint_auth_methods_supported: CLIENT_AUTHENTICATION_METHODS,
        revocation_endpoint_auth_methods_supported: CLIENT_AUTHENTICATION_METHODS,
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        frontchannel_logout_supported: true,
        frontchannel_logout_session_supported: true,
    })
}

pub(super) async fn discovery(State(state): State<SharedState>) -> Response {
    match provider_metadata(&state).await {
        Ok(metadata) => json(StatusCode::OK, &metadata),
        Err(error) => OAuthError::from(error).into_response(),
    }
}

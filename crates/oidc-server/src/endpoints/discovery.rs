//! The OpenID Provider configuration document (OpenID Connect Discovery 1.0 §3).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{AUTHORIZE_PATH, INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, SharedState, TOKEN_PATH, USERINFO_PATH};
use crate::claims::claim_types;
use crate::error::Result;
use crate::model::client::{GrantType, OFFLINE_ACCESS_SCOPE};
use crate::protocol::error::OAuthError;
use crate::protocol::response::json;
use crate::server::ServerState;

const CLIENT_AUTHENTICATION_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

#[derive(Serialize)]
struct ProviderMetadata {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    scopes_supported: Vec<String>,
    claims_supported: Vec<String>,
    grant_types_supported: Vec<&'static str>,
    response_types_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
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
    let mut claims_supported = vec![claim_types::SUBJECT.to_owned()];
    for claim in resources.identity_resources.iter().flat_map(|resource| &resource.user_claims) {
        if !claims_supported.contains(claim) {
            claims_supported.push(claim.clone());
        }
    }
    let grant_types_supported = [GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken]
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
        scopes_supported,
        claims_supported,
        grant_types_supported,
        response_types_supported: ["code"],
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
    })
}

pub(super) async fn discovery(State(state): State<SharedState>) -> Response {
    match provider_metadata(&state).await {
        Ok(metadata) => json(StatusCode::OK, &metadata),
        Err(error) => OAuthError::from(error).into_response(),
    }
}

//! Discovery and the published keys.

use oauth2::{Scope, TokenResponse as _};
use oidc_server::{KeyManagementOptions, ServerOptions, SigningAlgorithm};
use openidconnect::IssuerUrl;
use openidconnect::core::{CoreGrantType, CoreProviderMetadata};

use crate::support::{MACHINE, TestServer};

#[tokio::test]
async fn openidconnect_discovers_the_server_with_an_exactly_matching_issuer() {
    let server = TestServer::start().await;
    let issuer = IssuerUrl::new(server.issuer.clone()).expect("issuer url");
    let metadata = CoreProviderMetadata::discover_async(issuer, &server.http).await.expect("discovery succeeds");
    assert_eq!(metadata.issuer().as_str(), server.issuer);
    assert_eq!(metadata.token_endpoint().map(|url| url.as_str().to_owned()), Some(server.url("/connect/token")));
    assert_eq!(metadata.jwks_uri().as_str(), server.url("/.well-known/jwks"));
    // discover_async also fetched the key set.
    assert_eq!(metadata.jwks().keys().len(), 1);
    let grant_types = metadata.grant_types_supported().expect("grant types");
    assert!(grant_types.contains(&CoreGrantType::Password));
    assert!(grant_types.contains(&CoreGrantType::ClientCredentials));
    assert!(grant_types.contains(&CoreGrantType::RefreshToken));
    let scopes: Vec<String> =
        metadata.scopes_supported().expect("scopes").iter().map(|scope| scope.as_str().to_owned()).collect();
    for scope in ["openid", "profile", "email", "orders.read", "offline_access"] {
        assert!(scopes.iter().any(|known| known == scope), "{scope}");
    }
}

#[tokio::test]
async fn the_password_grant_is_not_advertised_without_a_validator() {
    let server = TestServer::start_with(|builder, _| builder).await;
    let discovery = server.http.get(server.url("/.well-known/openid-configuration")).send().await.expect("sent");
    let document: serde_json::Value = serde_json::from_str(&discovery.text().await.expect("body")).expect("json");
    assert_eq!(
        document["grant_types_supported"],
        serde_json::json!(["authorization_code", "client_credentials", "refresh_token"])
    );
}

#[tokio::test]
async fn published_keys_carry_kid_use_and_alg() {
    let server = TestServer::start().await;
    let jwks = server.jwks().await;
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert!(key.common.key_id.is_some());
    assert_eq!(key.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Signature));
    assert_eq!(key.common.key_algorithm, Some(jsonwebtoken::jwk::KeyAlgorithm::RS256));
}

#[tokio::test]
async fn eddsa_and_es256_keys_are_published_and_the_first_algorithm_signs() {
    let mut key_management = KeyManagementOptions::default();
    key_management.signing_algorithms = vec![SigningAlgorithm::EdDsa, SigningAlgorithm::Es256];
    let mut options = ServerOptions::default();
    options.key_management = key_management;
    let server = TestServer::start_with(|builder, _| builder.options(options)).await;
    assert_eq!(server.jwks().await.keys.len(), 2);

    let token = server
        .oauth_client(MACHINE)
        .exchange_client_credentials()
        .add_scope(Scope::new("orders.read".into()))
        .request_async(&server.http)
        .await
        .expect("token issued");
    let access_token = token.access_token().secret();
    let header = jsonwebtoken::decode_header(access_token).expect("jwt");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    server.verify_access_token(access_token, "orders-api").await;

    let document: serde_json::Value = serde_json::from_str(
        &server
            .http
            .get(server.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("body"),
    )
    .expect("json");
    assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["EdDSA", "ES256"]));
}

#[tokio::test]
async fn the_interactive_endpoints_and_their_capabilities_are_advertised() {
    let server = TestServer::start().await;
    let issuer = IssuerUrl::new(server.issuer.clone()).expect("issuer url");
    let metadata = CoreProviderMetadata::discover_async(issuer, &server.http).await.expect("discovery succeeds");
    assert_eq!(metadata.authorization_endpoint().as_str(), server.url("/connect/authorize"));
    assert!(metadata.grant_types_supported().expect("grant types").contains(&CoreGrantType::AuthorizationCode));

    let response = server.http.get(server.url("/.well-known/openid-configuration")).send().await.expect("sent");
    let document: serde_json::Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    assert_eq!(document["end_session_endpoint"], server.url("/connect/endsession"));
    assert_eq!(document["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(document["response_modes_supported"], serde_json::json!(["query"]));
    assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(document["prompt_values_supported"], serde_json::json!(["none", "login", "consent"]));
    assert_eq!(document["authorization_response_iss_parameter_supported"], true);
    for logout in ["backchannel", "frontchannel"] {
        assert_eq!(document[format!("{logout}_logout_supported")], true, "{logout}");
        assert_eq!(document[format!("{logout}_logout_session_supported")], true, "{logout}");
    }
    assert_eq!(document["request_uri_parameter_supported"], false);
    let claims = document["claims_supported"].as_array().expect("claims");
    for claim in ["sub", "auth_time", "amr", "sid", "name", "email"] {
        assert!(claims.iter().any(|known| known == claim), "{claim}");
    }
}

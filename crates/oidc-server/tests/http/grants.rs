//! The token endpoint's grants, driven by the real client crates.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthType, RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse as _,
};
use oidc_server::PersistedGrantStore as _;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{ALICE_PASSWORD, APP, ENCODED_APP, MACHINE, REUSE_APP, TestServer};

fn scopes(values: &[&str]) -> Vec<Scope> {
    values.iter().map(|value| Scope::new((*value).to_owned())).collect()
}

fn alice() -> (ResourceOwnerUsername, ResourceOwnerPassword) {
    (ResourceOwnerUsername::new("alice".into()), ResourceOwnerPassword::new(ALICE_PASSWORD.into()))
}

/// Asserts that a client-crate token request failed with `expected` from the server.
fn assert_server_error<T: std::fmt::Debug>(
    result: Result<T, RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>>,
    expected: BasicErrorResponseType,
) {
    match result {
        Err(RequestTokenError::ServerResponse(response)) => assert_eq!(*response.error(), expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn client_credentials_issue_a_verifiable_rfc9068_access_token() {
    let server = TestServer::start().await;
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = server
            .oauth_client(MACHINE)
            .set_auth_type(auth_type)
            .exchange_client_credentials()
            .add_scopes(scopes(&["orders.read"]))
            .request_async(&server.http)
            .await
            .expect("token issued");
        assert!(token.refresh_token().is_none());
        assert_eq!(token.expires_in().map(|lifetime| lifetime.as_secs()), Some(3600));
        let claims = server.verify_access_token(token.access_token().secret(), "orders-api").await;
        assert_eq!(claims["iss"], server.issuer);
        assert_eq!(claims["sub"], "m2m");
        assert_eq!(claims["client_id"], "m2m");
        assert_eq!(claims["scope"], "orders.read");
        assert!(claims["jti"].is_string());
        let issued_at = claims["iat"].as_i64().expect("iat");
        assert_eq!(claims["nbf"].as_i64(), Some(issued_at));
        assert_eq!(claims["exp"].as_i64(), Some(issued_at + 3600));
        assert!(claims.get("auth_time").is_none());
        assert!(claims.get("amr").is_none());
    }
}

#[tokio::test]
async fn scopes_without_an_api_resource_get_the_default_audience() {
    let server = TestServer::start().await;
    let token = server
        .oauth_client(MACHINE)
        .exchange_client_credentials()
        .add_scopes(scopes(&["reports"]))
        .request_async(&server.http)
        .await
        .expect("token issued");
    let audience = format!("{}/resources", server.issuer);
    server.verify_access_token(token.access_token().secret(), &audience).await;
}

#[tokio::test]
async fn client_credentials_without_scope_get_every_allowed_api_scope() {
    let server = TestServer::start().await;
    let token = server
        .oauth_client(MACHINE)
        .exchange_client_credentials()
        .request_async(&server.http)
        .await
        .expect("token issued");
    let claims = server.verify_access_token(token.access_token().secret(), "orders-api").await;
    assert_eq!(claims["scope"], "orders.read reports");
}

#[tokio::test]
async fn basic_credentials_are_url_decoded_as_rfc6749_requires() {
    let server = TestServer::start().await;
    // The oauth2 crate form-url-encodes the id and secret before base64, as RFC 6749 §2.3.1 says.
    let token = server
        .oauth_client(ENCODED_APP)
        .exchange_client_credentials()
        .request_async(&server.http)
        .await
        .expect("token issued");
    assert!(!token.access_token().secret().is_empty());
}

#[tokio::test]
async fn password_grant_through_openidconnect_returns_access_and_refresh_tokens_only() {
    let server = TestServer::start().await;
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).expect("issuer"), &server.http)
            .await
            .expect("discovered");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(APP.0.into()),
        Some(ClientSecret::new(APP.1.into())),
    );
    let (user, password) = alice();
    let token = client
        .exchange_password(&user, &password)
        .expect("token endpoint known")
        .add_scopes(scopes(&["openid", "profile", "email", "orders.read", "offline_access"]))
        .request_async(&server.http)
        .await
        .expect("token issued");
    // Like IdentityServer, the password grant issues no id token.
    assert!(token.extra_fields().id_token().is_none());
    assert!(token.refresh_token().is_some());
    let granted: Vec<&str> = token.scopes().expect("scope").iter().map(|scope| scope.as_str()).collect();
    assert_eq!(granted, ["openid", "profile", "email", "orders.read", "offline_access"]);

    let claims = server.verify_access_token(token.access_token().secret(), "orders-api").await;
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["idp"], "local");
    assert!(claims["auth_time"].is_i64());
    // API scope user claims go into the access token; identity claims only to userinfo.
    assert_eq!(claims["role"], json!(["admin", "user"]));
    assert!(claims.get("email").is_none());
    assert!(claims.get("name").is_none());
}

#[tokio::test]
async fn password_grant_without_offline_access_issues_no_refresh_token() {
    let server = TestServer::start().await;
    let (user, password) = alice();
    let token = server
        .oauth_client(APP)
        .exchange_password(&user, &password)
        .add_scopes(scopes(&["openid"]))
        .request_async(&server.http)
        .await
        .expect("token issued");
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn wrong_passwords_are_invalid_grant() {
    let server = TestServer::start().await;
    let result = server
        .oauth_client(APP)
        .exchange_password(&ResourceOwnerUsername::new("alice".into()), &ResourceOwnerPassword::new("wrong".into()))
        .request_async(&server.http)
        .await;
    assert_server_error(result, BasicErrorResponseType::InvalidGrant);
}

async fn alice_refresh_token(server: &TestServer, client: (&str, &str)) -> RefreshToken {
    let (user, password) = alice();
    server
        .oauth_client(client)
        .exchange_password(&user, &password)
        .add_scopes(scopes(&["openid", "orders.read", "offline_access"]))
        .request_async(&server.http)
        .await
        .expect("token issued")
        .refresh_token()
        .cloned()
        .expect("a refresh token")
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_whole_grant() {
    let server = TestServer::start().await;
    let client = server.oauth_client(APP);
    let first = alice_refresh_token(&server, APP).await;

    let refreshed = client.exchange_refresh_token(&first).request_async(&server.http).await.expect("refreshed");
    let second = refreshed.refresh_token().cloned().expect("a new refresh token");
    assert_ne!(second.secret(), first.secret());
    let claims = server.verify_access_token(refreshed.access_token().secret(), "orders-api").await;
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["scope"], "openid orders.read offline_access");

    // Replaying the consumed token is refused and revokes the rotated one too.
    let replay = client.exchange_refresh_token(&first).request_async(&server.http).await;
    assert_server_error(replay, BasicErrorResponseType::InvalidGrant);
    let after_replay = client.exchange_refresh_token(&second).request_async(&server.http).await;
    assert_server_error(after_replay, BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn reusable_refresh_tokens_stay_the_same() {
    let server = TestServer::start().await;
    let client = server.oauth_client(REUSE_APP);
    let refresh_token = alice_refresh_token(&server, REUSE_APP).await;
    for _ in 0..2 {
        let refreshed =
            client.exchange_refresh_token(&refresh_token).request_async(&server.http).await.expect("refreshed");
        assert_eq!(refreshed.refresh_token().map(RefreshToken::secret), Some(refresh_token.secret()));
    }
}

#[tokio::test]
async fn refresh_may_narrow_but_not_widen_the_scope() {
    let server = TestServer::start().await;
    let client = server.oauth_client(APP);
    let refresh_token = alice_refresh_token(&server, APP).await;
    let narrowed = client
        .exchange_refresh_token(&refresh_token)
        .add_scopes(scopes(&["openid"]))
        .request_async(&server.http)
        .await
        .expect("refreshed");
    let claims =
        server.verify_access_token(narrowed.access_token().secret(), &format!("{}/resources", server.issuer)).await;
    assert_eq!(claims["scope"], "openid");

    // The rotated token still carries the original grant; widening it fails.
    let rotated = narrowed.refresh_token().cloned().expect("rotated");
    let widened = client
        .exchange_refresh_token(&rotated)
        .add_scopes(scopes(&["openid", "email"]))
        .request_async(&server.http)
        .await;
    assert_server_error(widened, BasicErrorResponseType::InvalidScope);
    let full = client
        .exchange_refresh_token(&rotated)
        .request_async(&server.http)
        .await
        .expect("refreshed with the original scope");
    assert_eq!(full.scopes().map(Vec::len), Some(3), "openid orders.read offline_access");
}

#[tokio::test]
async fn refresh_tokens_expire_absolutely_and_belong_to_their_client() {
    let server = TestServer::start().await;
    let short = ("short", "short secret");
    let refresh_token = alice_refresh_token_for_short_client(&server, short).await;

    let other_client =
        server.oauth_client(APP).exchange_refresh_token(&refresh_token).request_async(&server.http).await;
    assert_server_error(other_client, BasicErrorResponseType::InvalidGrant);

    // Rotation does not extend the absolute lifetime of ten minutes.
    server.clock.advance(TimeDelta::minutes(6));
    let rotated = server
        .oauth_client(short)
        .exchange_refresh_token(&refresh_token)
        .request_async(&server.http)
        .await
        .expect("refreshed")
        .refresh_token()
        .cloned()
        .expect("rotated");
    server.clock.advance(TimeDelta::minutes(5));
    let expired = server.oauth_client(short).exchange_refresh_token(&rotated).request_async(&server.http).await;
    assert_server_error(expired, BasicErrorResponseType::InvalidGrant);
}

async fn alice_refresh_token_for_short_client(server: &TestServer, client: (&str, &str)) -> RefreshToken {
    let (user, password) = alice();
    server
        .oauth_client(client)
        .exchange_password(&user, &password)
        .add_scopes(scopes(&["openid", "offline_access"]))
        .request_async(&server.http)
        .await
        .expect("token issued")
        .refresh_token()
        .cloned()
        .expect("a refresh token")
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let server = TestServer::start().await;
    let refresh_token = alice_refresh_token(&server, APP).await;
    let handle = refresh_token.secret();
    assert_eq!(URL_SAFE_NO_PAD.decode(handle).map(|bytes| bytes.len()).ok(), Some(32));
    assert!(server.grants.get(handle).await.expect("lookup").is_none());
    let key = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{handle}:refresh_token")));
    let grant = server.grants.get(&key).await.expect("lookup").expect("stored by hash");
    assert!(!grant.data.contains(handle.as_str()));
    assert_eq!(grant.subject_id.as_deref(), Some("1"));
    assert_eq!(grant.client_id, "app");
}

#[tokio::test]
async fn password_and_refresh_grants_ask_the_profile_service_once_each() {
    let server = TestServer::start().await;
    let refresh_token = alice_refresh_token(&server, REUSE_APP).await;
    assert_eq!(server.users.profile_calls(), (0, 1), "(separate, combined) calls of the password grant");
    server
        .oauth_client(REUSE_APP)
        .exchange_refresh_token(&refresh_token)
        .request_async(&server.http)
        .await
        .expect("refreshed");
    assert_eq!(server.users.profile_calls(), (0, 2), "(separate, combined) calls after the refresh");
}

#[tokio::test]
async fn inactive_users_get_no_tokens_and_cannot_refresh() {
    let server = TestServer::start().await;
    let refresh_token = alice_refresh_token(&server, APP).await;
    server.users.deactivate("1");
    let (user, password) = alice();
    let login = server.oauth_client(APP).exchange_password(&user, &password).request_async(&server.http).await;
    assert_server_error(login, BasicErrorResponseType::InvalidGrant);
    let refresh = server.oauth_client(APP).exchange_refresh_token(&refresh_token).request_async(&server.http).await;
    assert_server_error(refresh, BasicErrorResponseType::InvalidGrant);
}

/// The server's events, as their debug form.
#[derive(Debug, Default)]
struct RecordedEvents(std::sync::Mutex<Vec<String>>);

impl oidc_server::EventSink for RecordedEvents {
    fn record(&self, event: &oidc_server::ServerEvent<'_>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(format!("{event:?}"));
    }
}

#[tokio::test]
async fn every_token_request_is_reported_with_its_outcome_and_no_secret() {
    let events = std::sync::Arc::new(RecordedEvents::default());
    let sink = events.clone();
    let server = TestServer::start_with(move |builder, users| builder.password_validator(users).event_sink(sink)).await;
    let token = |client: (&'static str, &'static str), form: Vec<(&'static str, &'static str)>| {
        let request = server.http.post(server.url("/connect/token")).basic_auth(client.0, Some(client.1)).form(&form);
        async move { request.send().await.expect("sent").status().as_u16() }
    };
    assert_eq!(token(MACHINE, vec![("grant_type", "client_credentials")]).await, 200);
    let password = vec![("grant_type", "password"), ("username", "alice"), ("password", ALICE_PASSWORD)];
    assert_eq!(token(APP, password).await, 200);
    let wrong = vec![("grant_type", "password"), ("username", "alice"), ("password", "not alice's password")];
    assert_eq!(token(APP, wrong).await, 400);
    assert_eq!(token((MACHINE.0, "wrong secret"), vec![("grant_type", "client_credentials")]).await, 401);
    assert_eq!(token(MACHINE, vec![("grant_type", "urn:example:made-up")]).await, 400);

    let events = events.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    assert_eq!(
        events,
        [
            "TokensIssued { grant_type: ClientCredentials, client_id: \"m2m\", subject_id: None }",
            "TokensIssued { grant_type: Password, client_id: \"app\", subject_id: Some(\"1\") }",
            "TokenRequestRefused { grant_type: Some(Password), client_id: Some(\"app\"), error: InvalidGrant }",
            "TokenRequestRefused { grant_type: Some(ClientCredentials), client_id: None, error: InvalidClient }",
            "TokenRequestRefused { grant_type: None, client_id: Some(\"m2m\"), error: UnsupportedGrantType }",
        ]
    );
    for secret in [ALICE_PASSWORD, MACHINE.1, APP.1, "wrong secret"] {
        assert!(!events.iter().any(|event| event.contains(secret)), "{secret} in {events:?}");
    }
}

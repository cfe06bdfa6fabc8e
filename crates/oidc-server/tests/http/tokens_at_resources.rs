//! Using issued tokens: userinfo (RFC 6750 errors), introspection (RFC 7662) and revocation
//! (RFC 7009).

use chrono::TimeDelta;
use oauth2::{
    AccessToken, ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenIntrospectionResponse as _,
    TokenResponse as _,
};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{ClientId, ClientSecret, IssuerUrl};
use serde_json::json;

use crate::support::{ALICE_PASSWORD, APP, MACHINE, RawResponse, TestServer};

const USERINFO: &str = "/connect/userinfo";
const INTROSPECT: &str = "/connect/introspect";
const REVOKE: &str = "/connect/revocation";

struct AliceTokens {
    access_token: String,
    refresh_token: String,
}

async fn alice_tokens(server: &TestServer, scopes: &[&str]) -> AliceTokens {
    let token = server
        .oauth_client(APP)
        .exchange_password(
            &ResourceOwnerUsername::new("alice".into()),
            &ResourceOwnerPassword::new(ALICE_PASSWORD.into()),
        )
        .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&server.http)
        .await
        .expect("token issued");
    AliceTokens {
        access_token: token.access_token().secret().clone(),
        refresh_token: token.refresh_token().expect("refresh token").secret().clone(),
    }
}

async fn machine_access_token(server: &TestServer) -> String {
    server
        .oauth_client(MACHINE)
        .exchange_client_credentials()
        .request_async(&server.http)
        .await
        .expect("token issued")
        .access_token()
        .secret()
        .clone()
}

async fn userinfo(server: &TestServer, authorization: Option<&str>) -> RawResponse {
    let mut request = server.http.get(server.url(USERINFO));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    RawResponse::read(request.send().await.expect("sent")).await
}

fn assert_bearer_error(response: &RawResponse, status: u16, error: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    let challenge = response.header("www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(challenge.contains(&format!("error=\"{error}\"")), "{challenge}");
}

#[tokio::test]
async fn userinfo_returns_the_claims_of_the_granted_identity_scopes() {
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

    let full = alice_tokens(&server, &["openid", "profile", "email"]).await;
    let claims: CoreUserInfoClaims = client
        .user_info(AccessToken::new(full.access_token.clone()), None)
        .expect("userinfo endpoint known")
        .request_async(&server.http)
        .await
        .expect("userinfo");
    assert_eq!(claims.subject().as_str(), "1");
    assert_eq!(claims.name().and_then(|name| name.get(None)).map(|name| name.as_str()), Some("Alice Smith"));
    assert_eq!(claims.email().map(|email| email.as_str()), Some("alice@example.com"));
    assert_eq!(claims.email_verified(), Some(true));

    // With `openid` alone only the subject is released; API claims (role) never are.
    let minimal = alice_tokens(&server, &["openid", "orders.read"]).await;
    let response = userinfo(&server, Some(&format!("Bearer {}", minimal.access_token))).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"sub": "1"}));
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn userinfo_answers_rfc6750_challenges() {
    let server = TestServer::start().await;

    let missing = userinfo(&server, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    assert_bearer_error(&userinfo(&server, Some("Bearer")).await, 400, "invalid_request");
    assert_bearer_error(&userinfo(&server, Some("Bearer not.a.token")).await, 401, "invalid_token");

    let machine = machine_access_token(&server).await;
    let response = userinfo(&server, Some(&format!("Bearer {machine}"))).await;
    assert_bearer_error(&response, 403, "insufficient_scope");

    // A token signed by someone else is rejected even with a known kid.
    let alice = alice_tokens(&server, &["openid"]).await;
    let mut forged = alice.access_token.clone();
    forged.truncate(forged.rfind('.').expect("three parts"));
    forged.push_str(".c2lnbmF0dXJl");
    assert_bearer_error(&userinfo(&server, Some(&format!("Bearer {forged}"))).await, 401, "invalid_token");
}

#[tokio::test]
async fn userinfo_rejects_expired_tokens_and_inactive_users() {
    let server = TestServer::start().await;
    let alice = alice_tokens(&server, &["openid"]).await;
    let authorization = format!("Bearer {}", alice.access_token);
    assert_eq!(userinfo(&server, Some(&authorization)).await.status, 200);

    server.users.deactivate("1");
    assert_bearer_error(&userinfo(&server, Some(&authorization)).await, 401, "invalid_token");

    let bob_server = TestServer::start().await;
    let alice = alice_tokens(&bob_server, &["openid"]).await;
    bob_server.clock.advance(TimeDelta::hours(1));
    assert_bearer_error(
        &userinfo(&bob_server, Some(&format!("Bearer {}", alice.access_token))).await,
        401,
        "invalid_token",
    );
}

#[tokio::test]
async fn introspection_describes_active_access_tokens() {
    let server = TestServer::start().await;
    let alice = alice_tokens(&server, &["openid", "orders.read"]).await;
    let description = server
        .oauth_client(MACHINE)
        .introspect(&AccessToken::new(alice.access_token.clone()))
        .request_async(&server.http)
        .await
        .expect("introspected");
    assert!(description.active());
    assert_eq!(description.sub(), Some("1"));
    assert_eq!(description.client_id().map(|id| id.as_str()), Some("app"));
    assert_eq!(
        description.scopes().map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect::<Vec<_>>()),
        Some(vec!["openid".into(), "orders.read".into(), "offline_access".into()])
    );
    assert!(description.exp().is_some());
    assert_eq!(description.iss(), Some(server.issuer.as_str()));
}

async fn introspect(server: &TestServer, client: (&str, &str), token: &str) -> RawResponse {
    server.post_form(INTROSPECT, Some(client), &format!("token={token}")).await
}

fn assert_active(response: &RawResponse, active: bool) {
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["active"], active, "{}", response.body);
    if !active {
        assert_eq!(response.json(), json!({"active": false}));
    }
}

#[tokio::test]
async fn introspection_reports_anything_invalid_as_inactive() {
    let server = TestServer::start().await;
    let alice = alice_tokens(&server, &["openid"]).await;

    // Refresh tokens only to the client holding them.
    assert_active(&introspect(&server, APP, &alice.refresh_token).await, true);
    let refresh = introspect(&server, APP, &alice.refresh_token).await.json();
    assert_eq!(refresh["sub"], "1");
    assert_eq!(refresh["client_id"], "app");
    assert_active(&introspect(&server, MACHINE, &alice.refresh_token).await, false);

    assert_active(&introspect(&server, MACHINE, "garbage").await, false);
    assert_active(&introspect(&server, MACHINE, "a.b.c").await, false);

    server.users.deactivate("1");
    assert_active(&introspect(&server, MACHINE, &alice.access_token).await, false);
    assert_active(&introspect(&server, APP, &alice.refresh_token).await, false);

    let expiring = TestServer::start().await;
    let machine = machine_access_token(&expiring).await;
    assert_active(&introspect(&expiring, MACHINE, &machine).await, true);
    expiring.clock.advance(TimeDelta::hours(2));
    assert_active(&introspect(&expiring, MACHINE, &machine).await, false);
}

/// A public client authenticates with its id alone, which anyone can present: it may not use the
/// introspection endpoint (RFC 7662 §2.1, §4).
#[tokio::test]
async fn introspection_is_refused_to_public_clients() {
    let server = TestServer::start_with(|builder, users| {
        let mut spa = oidc_server::Client::new("spa");
        spa.require_client_secret = false;
        builder.clients([spa]).password_validator(users)
    })
    .await;
    let alice = alice_tokens(&server, &["openid"]).await;
    let token = format!("client_id=spa&token={}", alice.access_token);
    server.post_form(INTROSPECT, None, &token).await.assert_oauth_error(401, "invalid_client");
    assert_active(&introspect(&server, MACHINE, &alice.access_token).await, true);
}

#[tokio::test]
async fn introspection_requires_client_authentication_and_a_token() {
    let server = TestServer::start().await;
    server.post_form(INTROSPECT, None, "token=abc").await.assert_oauth_error(401, "invalid_client");
    server.post_form(INTROSPECT, Some(("m2m", "wrong")), "token=abc").await.assert_oauth_error(401, "invalid_client");
    server
        .post_form(INTROSPECT, Some(MACHINE), "token_type_hint=access_token")
        .await
        .assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant() {
    let server = TestServer::start().await;
    let alice = alice_tokens(&server, &["openid"]).await;

    // A rotated token and the original belong to one grant: revoking the new one ends both.
    let rotated = server
        .post_form(
            "/connect/token",
            Some(APP),
            &format!("grant_type=refresh_token&refresh_token={}", alice.refresh_token),
        )
        .await
        .json()["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();

    // Another client cannot revoke it (and is not told so).
    let foreign = server.post_form(REVOKE, Some(MACHINE), &format!("token={rotated}")).await;
    assert_eq!(foreign.status, 200);
    assert_active(&introspect(&server, APP, &rotated).await, true);

    let revoked = server.post_form(REVOKE, Some(APP), &format!("token={rotated}&token_type_hint=refresh_token")).await;
    assert_eq!(revoked.status, 200);
    assert_active(&introspect(&server, APP, &rotated).await, false);
    server
        .post_form("/connect/token", Some(APP), &format!("grant_type=refresh_token&refresh_token={rotated}"))
        .await
        .assert_oauth_error(400, "invalid_grant");
}

#[tokio::test]
async fn revocation_answers_unknown_tokens_with_200_and_refuses_jwts() {
    let server = TestServer::start().await;
    let unknown = server.post_form(REVOKE, Some(APP), "token=unknown&token_type_hint=whatever").await;
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.is_empty());

    let machine = machine_access_token(&server).await;
    server
        .post_form(REVOKE, Some(MACHINE), &format!("token={machine}"))
        .await
        .assert_oauth_error(400, "unsupported_token_type");
    server.post_form(REVOKE, None, "token=unknown").await.assert_oauth_error(401, "invalid_client");
    server
        .post_form(REVOKE, Some(APP), "token_type_hint=refresh_token")
        .await
        .assert_oauth_error(400, "invalid_request");
}

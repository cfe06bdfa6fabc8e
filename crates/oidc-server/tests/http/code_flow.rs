//! The authorization-code grant: the whole flow through `openidconnect`, then PKCE, binding,
//! expiry and replay of codes at the token endpoint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope, TokenResponse as _};
use oidc_server::PersistedGrantStore as _;
use openidconnect::core::CoreResponseType;
use openidconnect::{AccessTokenHash, AuthenticationFlow, Nonce};
use sha2::{Digest, Sha256};

use crate::support::{
    APP, CLAIMS_WEB, LEGACY_WEB, PKCE_VERIFIER, REDIRECT_URI, TestServer, WEB, form, jwt_payload, query_param,
};

#[tokio::test]
async fn the_code_flow_through_openidconnect_signs_in_and_issues_verified_tokens() {
    let server = TestServer::start().await;
    let client = server.oidc_client(WEB).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("orders.read".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = server.browser();

    // Not signed in: to the login page, which signs alice in and sends the browser back.
    let login = browser.get(url.as_str()).await.location().to_owned();
    assert!(login.starts_with("/account/login?returnUrl="), "{login}");
    let signed_in = browser.get(&login).await;
    assert!(signed_in.set_cookies().iter().any(|cookie| cookie.starts_with("idsrv.session=")));
    let callback = browser.get(signed_in.location()).await;
    let location = callback.location();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert_eq!(query_param(location, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(query_param(location, "iss").as_deref(), Some(server.issuer.as_str()));
    let code = query_param(location, "code").expect("a code");

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint known")
        .set_pkce_verifier(verifier)
        .request_async(&server.http)
        .await
        .expect("tokens issued");
    let id_token = token.extra_fields().id_token().expect("an id token");
    let id_token_verifier = client.id_token_verifier();
    let claims =
        id_token.claims(&id_token_verifier, &nonce).expect("signature, issuer, audience, expiry and nonce verify");
    assert_eq!(claims.subject().as_str(), "1");
    assert!(claims.auth_time().is_some());
    let methods: Vec<String> =
        claims.auth_method_refs().expect("amr").iter().map(|method| method.as_str().to_owned()).collect();
    assert_eq!(methods, ["pwd"]);
    let expected_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&id_token_verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));

    // Only the subject's claims: the client can ask userinfo for the rest.
    let id_payload = jwt_payload(&id_token.to_string());
    let access = server.verify_access_token(token.access_token().secret(), "orders-api").await;
    assert_eq!(id_payload["aud"], "web");
    assert_eq!(id_payload["idp"], "local");
    assert!(id_payload["sid"].is_string());
    assert_eq!(id_payload["sid"], access["sid"]);
    assert_eq!(id_payload["auth_time"], access["auth_time"]);
    for user_claim in ["name", "given_name", "email", "role"] {
        assert!(id_payload.get(user_claim).is_none(), "{user_claim}");
    }
    assert_eq!(access["scope"], "openid profile orders.read offline_access");
    assert_eq!(access["role"], serde_json::json!(["admin", "user"]));
    assert!(token.refresh_token().is_some());
}

#[tokio::test]
async fn clients_that_ask_for_it_get_user_claims_in_the_id_token() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, CLAIMS_WEB.0, &[("scope", "openid profile email")]).await;
    let tokens = server.redeem(CLAIMS_WEB, &code, Some(PKCE_VERIFIER)).await.json();
    let id_token = jwt_payload(tokens["id_token"].as_str().expect("an id token"));
    assert_eq!(id_token["name"], "Alice Smith");
    assert_eq!(id_token["email"], "alice@example.com");
    assert_eq!(id_token["nonce"], "nonce-1");
    assert!(id_token.get("role").is_none());
}

#[tokio::test]
async fn requests_without_openid_get_no_id_token() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[("scope", "orders.read")]).await;
    let tokens = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json();
    assert!(tokens.get("id_token").is_none());
    assert!(tokens.get("refresh_token").is_none());
    assert_eq!(tokens["scope"], "orders.read");
}

#[tokio::test]
async fn codes_are_stored_hashed_and_expire_after_five_minutes() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    assert_eq!(URL_SAFE_NO_PAD.decode(&code).map(|bytes| bytes.len()).ok(), Some(32));
    assert!(server.grants.get(&code).await.expect("lookup").is_none());
    let key = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{code}:authorization_code")));
    let grant = server.grants.get(&key).await.expect("lookup").expect("stored by hash");
    assert!(!grant.data.contains(&code));
    assert_eq!(grant.subject_id.as_deref(), Some("1"));
    assert!(grant.session_id.is_some());
    assert_eq!(grant.expiration, Some(grant.creation_time + TimeDelta::minutes(5)));

    server.clock.advance(TimeDelta::minutes(5));
    server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");
}

#[tokio::test]
async fn pkce_mismatches_are_invalid_grant() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let wrong_verifier = PKCE_VERIFIER.replace('d', "e");
    for verifier in [Some(wrong_verifier.as_str()), None, Some("short")] {
        let code = server.authorization_code(&browser, WEB.0, &[]).await;
        server.redeem(WEB, &code, verifier).await.assert_oauth_error(400, "invalid_grant");
    }
    // A verifier for a code issued without a challenge: PKCE was stripped somewhere.
    let code = server
        .authorization_code(&browser, LEGACY_WEB.0, &[("code_challenge", ""), ("code_challenge_method", "")])
        .await;
    server.redeem(LEGACY_WEB, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");
}

#[tokio::test]
async fn codes_are_bound_to_their_client_and_redirect_uri() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    server.redeem(LEGACY_WEB, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");

    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    let other_redirect = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://web.example.com/other"),
        ("code_verifier", PKCE_VERIFIER),
    ]);
    server.post_form("/connect/token", Some(WEB), &other_redirect).await.assert_oauth_error(400, "invalid_grant");

    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    let no_redirect = form(&[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", PKCE_VERIFIER)]);
    server.post_form("/connect/token", Some(WEB), &no_redirect).await.assert_oauth_error(400, "invalid_request");
    // A client that may not use the code grant is refused before the code is looked at.
    server.redeem(APP, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "unauthorized_client");
    server.redeem(WEB, "unknown", Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_the_tokens_issued_for_it() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[("scope", "openid offline_access")]).await;
    let first = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json();
    let refresh_token = first["refresh_token"].as_str().expect("a refresh token").to_owned();
    // The refresh token rotates within the code's family.
    let rotated = server
        .post_form(
            "/connect/token",
            Some(WEB),
            &form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh_token)]),
        )
        .await
        .json()["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();

    server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");
    server
        .post_form("/connect/token", Some(WEB), &form(&[("grant_type", "refresh_token"), ("refresh_token", &rotated)]))
        .await
        .assert_oauth_error(400, "invalid_grant");
    let introspection = server.post_form("/connect/introspect", Some(WEB), &form(&[("token", &rotated)])).await;
    assert_eq!(introspection.json(), serde_json::json!({"active": false}));
}

#[tokio::test]
async fn a_refresh_of_an_openid_grant_gets_a_new_id_token_for_the_same_sign_in() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[("scope", "openid offline_access")]).await;
    let first = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json();
    let original = jwt_payload(first["id_token"].as_str().expect("an id token"));
    server.clock.advance(chrono::TimeDelta::minutes(10));
    let refresh =
        form(&[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().expect("one"))]);
    let refreshed = server.post_form("/connect/token", Some(WEB), &refresh).await.json();
    let renewed = jwt_payload(refreshed["id_token"].as_str().expect("OpenID Connect Core 12.2: a new id token"));
    for same in ["iss", "sub", "aud", "auth_time", "amr", "sid", "idp"] {
        assert_eq!(renewed[same], original[same], "{same}");
    }
    assert!(renewed.get("nonce").is_none(), "no nonce on refresh: {renewed}");
    assert!(renewed["iat"].as_i64() > original["iat"].as_i64(), "a new token");
    assert!(
        renewed["at_hash"].is_string() && renewed["at_hash"] != original["at_hash"],
        "bound to the new access token"
    );

    // Without openid, no id token.
    let code = server.authorization_code(&browser, WEB.0, &[("scope", "orders.read offline_access")]).await;
    let tokens = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json();
    let refresh =
        form(&[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().expect("one"))]);
    assert!(server.post_form("/connect/token", Some(WEB), &refresh).await.json().get("id_token").is_none());
}

#[tokio::test]
async fn inactive_users_cannot_redeem_codes() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    server.users.deactivate("1");
    server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.assert_oauth_error(400, "invalid_grant");
}

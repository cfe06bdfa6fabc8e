//! The authorize endpoint in a browser: validation and where errors go, login and consent
//! redirects, `prompt`, `max_age`, inactive users, and the host's interaction API.

use chrono::TimeDelta;
use oidc_server::{Clock as _, ScopeKind, ServerOptions};

use crate::support::AuthorizeChecks as _;
use crate::support::{
    ALICE_PASSWORD, CONSENT_WEB, LEGACY_WEB, PKCE_VERIFIER, REDIRECT_URI, TWO_FACTOR_WEB, TestServer, WEB,
    authorize_url, form, jwt_payload, query_param,
};

#[tokio::test]
async fn bad_clients_and_redirect_uris_get_an_error_page_never_a_redirect() {
    let server = TestServer::start().await;
    let browser = server.browser();
    for url in [
        authorize_url("nobody", &[]),
        authorize_url(WEB.0, &[("redirect_uri", "https://evil.example/cb")]),
        authorize_url(WEB.0, &[("redirect_uri", "https://web.example.com/signin-oidc/")]),
        authorize_url(WEB.0, &[("redirect_uri", "")]),
        authorize_url(WEB.0, &[("client_id", "")]),
        // A repeated parameter: which redirect URI would count?
        format!("{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", authorize_url(WEB.0, &[])),
        // The client is known but has no redirect URI at all.
        authorize_url("app", &[]),
    ] {
        let response = browser.get(&url).await;
        response.assert_error_page();
        assert!(!response.body.contains("evil"), "{}", response.body);
    }
}

#[tokio::test]
async fn protocol_errors_go_back_to_the_validated_redirect_uri_with_state_and_iss() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "code id_token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        // Without a method the challenge would be `plain`.
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "too-short")], "invalid_request"),
        (&[("scope", "openid unknown")], "invalid_scope"),
        (&[("scope", "openid reports")], "invalid_scope"),
        (&[("scope", "profile")], "invalid_scope"),
        (&[("scope", "")], "invalid_scope"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("prompt", "select_account")], "invalid_request"),
        // Without a registration page the server cannot honour it.
        (&[("prompt", "create")], "invalid_request"),
        (&[("max_age", "-1")], "invalid_request"),
        (&[("response_mode", "fragment")], "invalid_request"),
        (&[("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
    ];
    for (overrides, error) in cases {
        let response = browser.get(&authorize_url(WEB.0, overrides)).await;
        response.assert_authorize_error(error);
        assert_eq!(query_param(response.location(), "iss").as_deref(), Some(server.issuer.as_str()));
    }
}

#[tokio::test]
async fn without_a_session_the_browser_goes_to_the_login_page_with_a_return_url() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let request = authorize_url(WEB.0, &[("login_hint", "alice")]);
    let location = browser.get(&request).await.location().to_owned();
    assert!(location.starts_with("/account/login?returnUrl="), "{location}");
    let return_url = query_param(&location, "returnUrl").expect("returnUrl");
    assert!(return_url.starts_with("/connect/authorize?"), "{return_url}");

    let context = server.server.authorization_context(&return_url).await.expect("ok").expect("a valid request");
    assert_eq!(context.client_id, "web");
    assert_eq!(context.client_name.as_deref(), Some("web app"));
    assert_eq!(context.redirect_uri, REDIRECT_URI);
    assert_eq!(context.login_hint.as_deref(), Some("alice"));
    let scopes: Vec<(&str, &str, bool)> =
        context.scopes.iter().map(|scope| (scope.name.as_str(), scope.display_name.as_str(), scope.required)).collect();
    assert_eq!(scopes, [("openid", "Your user identifier", true), ("profile", "User profile", false)]);

    // The login page signs alice in and sends the browser back; now a code is issued.
    let back = browser.get(&location).await;
    assert_eq!(back.location(), return_url);
    let callback = browser.get(&return_url).await;
    let code_redirect = callback.location();
    assert!(code_redirect.starts_with(&format!("{REDIRECT_URI}?code=")), "{code_redirect}");
    assert_eq!(query_param(code_redirect, "state").as_deref(), Some("state-1"));
}

#[tokio::test]
async fn post_requests_are_accepted_like_get_requests() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    let query = authorize_url(WEB.0, &[]).split_once('?').map(|(_, query)| query.to_owned()).expect("query");
    let response = browser.post_form("/connect/authorize", query).await;
    assert!(query_param(response.location(), "code").is_some(), "{}", response.location());
}

#[tokio::test]
async fn prompt_none_answers_login_required_instead_of_showing_the_login_page() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.get(&authorize_url(WEB.0, &[("prompt", "none")])).await.assert_authorize_error("login_required");

    browser.sign_in().await;
    let response = browser.get(&authorize_url(WEB.0, &[("prompt", "none")])).await;
    assert!(query_param(response.location(), "code").is_some());
}

#[tokio::test]
async fn prompt_login_asks_a_signed_in_user_to_sign_in_again_once() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    let first_login = server.clock.now();
    server.clock.advance(TimeDelta::minutes(1));

    let location = browser.get(&authorize_url(WEB.0, &[("prompt", "login")])).await.location().to_owned();
    assert!(location.starts_with("/account/login?"), "{location}");
    let return_url = query_param(&location, "returnUrl").expect("returnUrl");
    assert!(query_param(&return_url, "prompt").is_none(), "{return_url}");
    assert!(query_param(&return_url, "login_prompted").is_some(), "a sealed marker stands for the prompt");

    // Loading the return URL without signing in again does not skip the new login.
    server.clock.advance(TimeDelta::minutes(1));
    let reloaded = browser.get(&return_url).await;
    assert!(reloaded.location().starts_with("/account/login?"), "{}", reloaded.location());
    let forged = return_url.replace("login_prompted=", "login_prompted=x");
    assert_eq!(browser.get(&forged).await.status, 302, "a forged marker goes back to the client as an error");

    // The return URL does not ask again, so the new login leads to a code.
    let code = server.authorization_code(&browser, WEB.0, &[("prompt", "login")]).await;
    let tokens = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await;
    let id_token = jwt_payload(tokens.json()["id_token"].as_str().expect("an id token"));
    assert_eq!(id_token["auth_time"].as_i64(), Some(first_login.timestamp() + 120));
}

#[tokio::test]
async fn prompt_create_shows_the_registration_page_once_and_is_advertised() {
    let mut options = ServerOptions::default();
    options.create_account_url = Some("/account/register".to_owned());
    let server = TestServer::start_with(|builder, users| builder.password_validator(users).options(options)).await;
    let browser = server.browser();
    let discovery = browser.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.json()["prompt_values_supported"], serde_json::json!(["none", "login", "consent", "create"]));
    browser.get(&authorize_url(WEB.0, &[("prompt", "none create")])).await.assert_authorize_error("invalid_request");

    // Even with a session: the user asked to register.
    browser.sign_in().await;
    let location = browser.get(&authorize_url(WEB.0, &[("prompt", "create consent")])).await.location().to_owned();
    assert!(location.starts_with("/account/register?returnUrl="), "{location}");
    let return_url = query_param(&location, "returnUrl").expect("returnUrl");
    assert_eq!(query_param(&return_url, "prompt").as_deref(), Some("consent"), "{return_url}");
    let plain = authorize_url(WEB.0, &[("prompt", "create")]);
    let return_url = query_param(browser.get(&plain).await.location(), "returnUrl").expect("returnUrl");
    assert!(query_param(&return_url, "prompt").is_none(), "{return_url}");
    // Coming back from the registration page issues a code.
    let callback = browser.get(&return_url).await;
    assert!(query_param(callback.location(), "code").is_some(), "{}", callback.location());
}

#[tokio::test]
async fn clients_that_require_two_factor_get_codes_only_for_multi_factor_sessions() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    // A password session is enough for other clients, not for this one.
    server.authorization_code(&browser, WEB.0, &[]).await;
    browser.get(&authorize_url(TWO_FACTOR_WEB.0, &[("prompt", "none")])).await.assert_authorize_error("login_required");
    let location = browser.get(&authorize_url(TWO_FACTOR_WEB.0, &[])).await.location().to_owned();
    assert!(location.starts_with("/account/login?"), "{location}");
    let return_url = query_param(&location, "returnUrl").expect("returnUrl");
    let context = server.server.authorization_context(&return_url).await.expect("ok").expect("a request");
    assert!(context.require_two_factor);
    assert!(
        !server
            .server
            .authorization_context(&authorize_url(WEB.0, &[]))
            .await
            .expect("ok")
            .expect("a request")
            .require_two_factor
    );

    // A sign-in with a second factor gets the code, and the id token says how.
    let login = format!("/account/login?{}", form(&[("returnUrl", &return_url), ("amr", "pwd otp mfa")]));
    assert_eq!(browser.get(&login).await.location(), return_url);
    let code = query_param(browser.get(&return_url).await.location(), "code").expect("a code");
    let tokens = server.redeem(TWO_FACTOR_WEB, &code, Some(PKCE_VERIFIER)).await;
    let id_token = jwt_payload(tokens.json()["id_token"].as_str().expect("an id token"));
    assert_eq!(id_token["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // The password grant has no second step: it gives such a client nothing.
    let password = form(&[("grant_type", "password"), ("username", "alice"), ("password", ALICE_PASSWORD)]);
    let refused = server.post_form("/connect/token", Some(TWO_FACTOR_WEB), &password).await;
    assert_eq!(
        (refused.status, refused.json()["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn max_age_sends_an_older_session_to_the_login_page() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    server.clock.advance(TimeDelta::minutes(10));

    let too_old = browser.get(&authorize_url(WEB.0, &[("max_age", "300")])).await;
    let return_url = query_param(too_old.location(), "returnUrl").expect("to the login page");
    assert_eq!(query_param(&return_url, "max_age").as_deref(), Some("300"));
    let recent_enough = browser.get(&authorize_url(WEB.0, &[("max_age", "3600")])).await;
    assert!(query_param(recent_enough.location(), "code").is_some());

    // max_age=0 is a fresh login, left out of the return URL so that it does not loop.
    let zero = browser.get(&authorize_url(WEB.0, &[("max_age", "0")])).await;
    let return_url = query_param(zero.location(), "returnUrl").expect("to the login page");
    assert!(query_param(&return_url, "max_age").is_none(), "{return_url}");
    browser
        .get(&authorize_url(WEB.0, &[("max_age", "300"), ("prompt", "none")]))
        .await
        .assert_authorize_error("login_required");
}

#[tokio::test]
async fn inactive_users_are_treated_as_signed_out() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    server.users.deactivate("1");
    let response = browser.get(&authorize_url(WEB.0, &[])).await;
    assert!(response.location().starts_with("/account/login?"), "{}", response.location());
    browser.get(&authorize_url(WEB.0, &[("prompt", "none")])).await.assert_authorize_error("login_required");
}

#[tokio::test]
async fn pkce_is_optional_only_for_clients_that_do_not_require_it() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let without_pkce = [("code_challenge", ""), ("code_challenge_method", "")];
    browser.follow(&authorize_url(WEB.0, &without_pkce)).await.assert_authorize_error("invalid_request");
    let code = server.authorization_code(&browser, LEGACY_WEB.0, &without_pkce).await;
    let tokens = server.redeem(LEGACY_WEB, &code, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    // `plain` is refused even where PKCE is optional.
    browser
        .get(&authorize_url(LEGACY_WEB.0, &[("code_challenge_method", "plain")]))
        .await
        .assert_authorize_error("invalid_request");
}

#[tokio::test]
async fn consent_is_asked_then_granted_once_or_remembered() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    let scope = [("scope", "openid profile email offline_access")];

    let to_consent = browser.get(&authorize_url(CONSENT_WEB.0, &scope)).await;
    let location = to_consent.location().to_owned();
    assert!(location.starts_with("/consent?returnUrl="), "{location}");
    let return_url = query_param(&location, "returnUrl").expect("returnUrl");
    let context = server.server.authorization_context(&return_url).await.expect("ok").expect("a request");
    assert!(context.allow_remember_consent);
    let kinds: Vec<(&str, ScopeKind)> = context.scopes.iter().map(|scope| (scope.name.as_str(), scope.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("openid", ScopeKind::Identity),
            ("profile", ScopeKind::Identity),
            ("email", ScopeKind::Identity),
            ("offline_access", ScopeKind::OfflineAccess)
        ]
    );
    assert_eq!(context.scopes[3].display_name, "Offline Access");
    let mut no_prompt = scope.to_vec();
    no_prompt.push(("prompt", "none"));
    browser.get(&authorize_url(CONSENT_WEB.0, &no_prompt)).await.assert_authorize_error("consent_required");

    // The user keeps openid and profile, without remembering: this request goes through once,
    // with those scopes only.
    server.server.grant_consent("1", CONSENT_WEB.0, ["openid", "profile"], false).await.expect("recorded");
    let code_redirect = browser.get(&return_url).await;
    let code = query_param(code_redirect.location(), "code").expect("a code");
    let tokens = server.redeem(CONSENT_WEB, &code, Some(PKCE_VERIFIER)).await.json();
    assert_eq!(tokens["scope"], "openid profile");
    assert!(tokens.get("refresh_token").is_none());
    let again = browser.get(&return_url).await;
    assert!(again.location().starts_with("/consent?"), "{}", again.location());

    // Remembered consent covers later requests for the same or fewer scopes.
    server
        .server
        .grant_consent("1", CONSENT_WEB.0, ["openid", "profile", "email", "offline_access"], true)
        .await
        .expect("recorded");
    server.authorization_code(&browser, CONSENT_WEB.0, &scope).await;
    server.authorization_code(&browser, CONSENT_WEB.0, &[("scope", "openid email")]).await;
    server.authorization_code(&browser, CONSENT_WEB.0, &no_prompt).await;
    // prompt=consent asks again anyway.
    let forced = browser.get(&authorize_url(CONSENT_WEB.0, &[("prompt", "consent")])).await;
    assert!(forced.location().starts_with("/consent?"), "{}", forced.location());

    // Consent without openid refuses an OpenID Connect request.
    server.server.grant_consent("1", CONSENT_WEB.0, ["profile"], false).await.expect("recorded");
    browser.get(&authorize_url(CONSENT_WEB.0, &[])).await.assert_authorize_error("access_denied");
    assert!(server.server.grant_consent("1", "nobody", ["openid"], false).await.is_err());
}

#[tokio::test]
async fn the_host_can_deny_and_check_return_urls() {
    let server = TestServer::start().await;
    let host = &server.server;
    let return_url = authorize_url(WEB.0, &[]);

    let denied = host.deny_authorization(&return_url).await.expect("ok").expect("a valid request");
    assert!(denied.starts_with(REDIRECT_URI), "{denied}");
    assert_eq!(query_param(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&denied, "state").as_deref(), Some("state-1"));
    assert_eq!(query_param(&denied, "iss").as_deref(), Some(server.issuer.as_str()));

    assert!(host.is_valid_return_url(&return_url).await);
    assert!(host.is_valid_return_url(&server.url(&return_url)).await);
    assert!(host.is_valid_return_url(&format!("{REDIRECT_URI}?error=access_denied")).await);
    let query = return_url.split_once('?').map(|(_, query)| query).expect("query");
    for invalid in [
        format!("https://evil.example/connect/authorize?{query}"),
        format!("//evil.example/connect/authorize?{query}"),
        authorize_url("nobody", &[]),
        authorize_url(WEB.0, &[("redirect_uri", "https://evil.example/cb")]),
        "/account/login".to_owned(),
        "https://web.example.com/signin-oidc.evil.example".to_owned(),
        "https://evil.example".to_owned(),
    ] {
        assert!(!host.is_valid_return_url(&invalid).await, "{invalid}");
        assert!(host.authorization_context(&invalid).await.expect("ok").is_none(), "{invalid}");
        assert!(host.deny_authorization(&invalid).await.expect("ok").is_none(), "{invalid}");
    }
    // A request with a protocol error is not a request the host can act on either.
    assert!(host.authorization_context(&authorize_url(WEB.0, &[("scope", "nope")])).await.expect("ok").is_none());
}

#[tokio::test]
async fn users_see_what_they_granted_each_client_and_take_it_back() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    assert!(server.server.user_grants("1").await.expect("ok").is_empty());

    // A one-time consent answer and a used code are not access the user holds.
    let scope = [("scope", "openid profile offline_access")];
    server.server.grant_consent("1", CONSENT_WEB.0, ["openid", "profile"], false).await.expect("recorded");
    let code = server.authorization_code(&browser, CONSENT_WEB.0, &scope).await;
    server.redeem(CONSENT_WEB, &code, Some(PKCE_VERIFIER)).await;
    assert!(server.server.user_grants("1").await.expect("ok").is_empty());

    // A remembered consent and a refresh token are, listed once for the client.
    server
        .server
        .grant_consent("1", CONSENT_WEB.0, ["openid", "profile", "offline_access"], true)
        .await
        .expect("recorded");
    let code = server.authorization_code(&browser, CONSENT_WEB.0, &scope).await;
    let tokens = server.redeem(CONSENT_WEB, &code, Some(PKCE_VERIFIER)).await.json();
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let grants = server.server.user_grants("1").await.expect("ok");
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].client_id, CONSENT_WEB.0);
    assert_eq!(grants[0].client_name.as_deref(), Some("consent-web app"));
    let scopes: Vec<(&str, &str)> =
        grants[0].scopes.iter().map(|scope| (scope.name.as_str(), scope.display_name.as_str())).collect();
    assert_eq!(
        scopes,
        [("openid", "Your user identifier"), ("profile", "User profile"), ("offline_access", "Offline Access")]
    );
    assert!(server.server.user_grants("2").await.expect("ok").is_empty(), "only the user's own");

    // Revoked: the refresh token is dead and the next request asks for consent again.
    // The remembered consent, the refresh token and both (redeemed, kept until expiry) codes.
    assert_eq!(server.server.revoke_user_grants("1", CONSENT_WEB.0).await.expect("ok"), 4);
    assert!(server.server.user_grants("1").await.expect("ok").is_empty());
    let refresh = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh_token)]);
    let refused = server.post_form("/connect/token", Some(CONSENT_WEB), &refresh).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (400, Some("invalid_grant")));
    let again = browser.get(&authorize_url(CONSENT_WEB.0, &scope)).await;
    assert!(again.location().starts_with("/consent?"), "{}", again.location());
}

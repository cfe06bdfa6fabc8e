//! The end-session endpoint: id token hints, post-logout redirects and the logout page.

use chrono::TimeDelta;
use oidc_server::Clock as _;

use crate::support::AuthorizeChecks as _;
use crate::support::{
    Browser, FRONT_CHANNEL_LOGOUT_URI, FRONT_CHANNEL_WEB, PKCE_VERIFIER, POST_LOGOUT_URI, RawResponse, TestServer, WEB,
    authorize_url, form, jwt_payload, query_param,
};

const END_SESSION: &str = "/connect/endsession";

/// Signs alice in through the code flow and returns her id token.
async fn id_token(server: &TestServer, browser: &Browser) -> String {
    let code = server.authorization_code(browser, WEB.0, &[]).await;
    let tokens = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json();
    tokens["id_token"].as_str().expect("an id token").to_owned()
}

async fn end_session(browser: &Browser, params: &[(&str, &str)]) -> RawResponse {
    browser.get(&format!("{END_SESSION}?{}", form(params))).await
}

fn clears_the_session(response: &RawResponse) -> bool {
    response.set_cookies().iter().any(|cookie| cookie.starts_with("idsrv.session=;") && cookie.contains("Max-Age=0"))
}

async fn is_signed_in(browser: &Browser) -> bool {
    let response = browser.get(&authorize_url(WEB.0, &[("prompt", "none")])).await;
    query_param(response.location(), "code").is_some()
}

#[tokio::test]
async fn a_hint_for_the_signed_in_user_signs_out_and_returns_to_the_client_with_state() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let hint = id_token(&server, &browser).await;
    let response = end_session(
        &browser,
        &[("id_token_hint", &hint), ("post_logout_redirect_uri", POST_LOGOUT_URI), ("state", "bye")],
    )
    .await;
    assert_eq!(response.location(), format!("{POST_LOGOUT_URI}?state=bye"));
    assert!(clears_the_session(&response));
    assert!(!is_signed_in(&browser).await);
}

#[tokio::test]
async fn front_channel_clients_are_told_through_the_logged_out_page() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let hint = id_token(&server, &browser).await;
    server.authorization_code(&browser, FRONT_CHANNEL_WEB.0, &[]).await;
    let sid = jwt_payload(&hint)["sid"].as_str().expect("a sid").to_owned();
    let response = end_session(
        &browser,
        &[("id_token_hint", &hint), ("post_logout_redirect_uri", POST_LOGOUT_URI), ("state", "bye")],
    )
    .await;
    // Not straight back to the client: the logged-out page's iframes come first.
    let location = response.location();
    assert!(location.starts_with("/account/logout/loggedout?logoutId="), "{location}");
    assert!(clears_the_session(&response));
    let logout_id = query_param(location, "logoutId").expect("logoutId");
    let context = server.server.logout_context(&logout_id).await.expect("ok").expect("a context");
    let expected = format!("{FRONT_CHANNEL_LOGOUT_URI}&{}", form(&[("iss", &server.issuer), ("sid", &sid)]));
    assert_eq!(context.front_channel_logout_urls, [expected], "only the client with a front-channel URI");
    assert_eq!(context.post_logout_redirect_url(), Some(format!("{POST_LOGOUT_URI}?state=bye")));
    assert!(!context.show_signout_prompt, "the client asked: the page may go on by itself");
}

#[tokio::test]
async fn a_logout_id_for_one_user_never_sends_another_users_browser_on_by_itself() {
    let server = TestServer::start().await;
    // alice's client asks for her logout; her browser has no session any more.
    let hint = id_token(&server, &server.browser()).await;
    let elsewhere = server.browser();
    let response = end_session(&elsewhere, &[("id_token_hint", &hint)]).await;
    let logout_id = query_param(response.location(), "logoutId").expect("logoutId");
    assert!(!server.server.logout_context(&logout_id).await.expect("ok").expect("a context").show_signout_prompt);

    // bob's browser confirms a logout with it (the logout page asked him): his page stays.
    let bob = oidc_server::Subject::new("2", "pwd", server.clock.now());
    let cookie = server.server.sign_in(bob, false).await.expect("signed in").set_cookie;
    let mut headers = axum::http::HeaderMap::new();
    let pair = cookie.to_str().expect("ascii").split(';').next().expect("name=value").to_owned();
    headers.insert(axum::http::header::COOKIE, pair.parse().expect("a header value"));
    let signed_out = server.server.sign_out(&headers, Some(&logout_id)).await.expect("signed out");
    let handed_on = signed_out.logout_id.expect("the logout id goes on");
    let context = server.server.logout_context(&handed_on).await.expect("ok").expect("a context");
    assert!(context.show_signout_prompt, "another user's session counts as a prompted logout");
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uris_are_not_followed() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let hint = id_token(&server, &browser).await;
    let response = end_session(
        &browser,
        &[("id_token_hint", &hint), ("post_logout_redirect_uri", "https://evil.example/"), ("state", "s")],
    )
    .await;
    let location = response.location();
    assert!(location.starts_with("/account/logout/loggedout?logoutId="), "{location}");
    assert!(!location.contains("evil"));
    assert!(clears_the_session(&response));
    let logout_id = query_param(location, "logoutId").expect("logoutId");
    let context = server.server.logout_context(&logout_id).await.expect("ok").expect("a context");
    assert_eq!(context.client_id.as_deref(), Some("web"));
    assert_eq!(context.client_name.as_deref(), Some("web app"));
    assert_eq!(context.post_logout_redirect_uri, None);
    assert_eq!(context.state, None);
    assert!(!context.show_signout_prompt);
    assert_eq!(context.subject_id.as_deref(), Some("1"));
    // The logout id may sign out without a prompt only the session of the hint's user.
    let session_of = async |subject_id: &str| {
        let subject = oidc_server::Subject::new(subject_id, "pwd", server.clock.now());
        server.server.sign_in(subject, false).await.expect("signed in").session
    };
    assert!(!context.signout_prompt_needed(&session_of("1").await));
    assert!(context.signout_prompt_needed(&session_of("2").await), "another user's session needs the prompt");
}

#[tokio::test]
async fn without_a_hint_the_logout_page_asks_the_user() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_in().await;
    let response =
        end_session(&browser, &[("client_id", WEB.0), ("post_logout_redirect_uri", POST_LOGOUT_URI), ("state", "s 1")])
            .await;
    let location = response.location();
    assert!(location.starts_with("/account/logout?logoutId="), "{location}");
    assert!(!clears_the_session(&response));
    assert!(is_signed_in(&browser).await);

    let logout_id = query_param(location, "logoutId").expect("logoutId");
    let context = server.server.logout_context(&logout_id).await.expect("ok").expect("a context");
    assert!(context.show_signout_prompt);
    assert_eq!(context.client_id.as_deref(), Some("web"));
    assert_eq!(context.post_logout_redirect_uri.as_deref(), Some(POST_LOGOUT_URI));
    assert_eq!(context.post_logout_redirect_url(), Some(format!("{POST_LOGOUT_URI}?state=s+1")));
    let signed_out = server.server.sign_out(&axum::http::HeaderMap::new(), None).await.expect("signed out");
    assert_eq!(signed_out.set_cookie.to_str().ok().map(|cookie| cookie.contains("Max-Age=0")), Some(true));
    assert!(signed_out.logout_id.is_none(), "nobody was signed in and no logout id came");

    assert!(server.server.logout_context("forged").await.expect("ok").is_none());
    server.clock.advance(TimeDelta::hours(2));
    assert!(server.server.logout_context(&logout_id).await.expect("ok").is_none(), "logout ids expire");
}

#[tokio::test]
async fn expired_hints_are_accepted_but_forged_or_foreign_ones_are_not() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let hint = id_token(&server, &browser).await;
    let mut forged = hint.clone();
    forged.truncate(forged.rfind('.').expect("three parts"));
    forged.push_str(".c2lnbmF0dXJl");
    end_session(&browser, &[("id_token_hint", &forged)]).await.assert_error_page();
    let mismatched = [("id_token_hint", hint.as_str()), ("client_id", "legacy-web")];
    end_session(&browser, &mismatched).await.assert_error_page();
    // An access token is not an id token.
    let code = server.authorization_code(&browser, WEB.0, &[]).await;
    let access_token = server.redeem(WEB, &code, Some(PKCE_VERIFIER)).await.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    end_session(&browser, &[("id_token_hint", &access_token)]).await.assert_error_page();
    assert!(is_signed_in(&browser).await);

    // Five minutes old, the id token has expired; it is still a fine hint.
    server.clock.advance(TimeDelta::hours(1));
    let response =
        end_session(&browser, &[("id_token_hint", &hint), ("post_logout_redirect_uri", POST_LOGOUT_URI)]).await;
    assert_eq!(response.location(), POST_LOGOUT_URI);
    assert!(clears_the_session(&response));
}

#[tokio::test]
async fn a_hint_for_another_user_does_not_sign_the_current_user_out() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let alice_hint = id_token(&server, &alice).await;
    let bob = server.browser();
    bob.sign_in_as("2").await;
    let response = end_session(&bob, &[("id_token_hint", &alice_hint)]).await;
    assert!(response.location().starts_with("/account/logout?logoutId="), "{}", response.location());
    assert!(!clears_the_session(&response));
    assert!(is_signed_in(&bob).await);
}

#[tokio::test]
async fn post_requests_are_accepted() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let hint = id_token(&server, &browser).await;
    let response = browser
        .post_form(END_SESSION, form(&[("id_token_hint", &hint), ("post_logout_redirect_uri", POST_LOGOUT_URI)]))
        .await;
    assert_eq!(response.location(), POST_LOGOUT_URI);
    assert!(clears_the_session(&response));
}

//! The sign-in session cookie: attributes, sealing, sliding expiry and re-validation.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::TimeDelta;
use oidc_server::{
    Clock as _, Error, ManualClock, OidcServer, ServerOptions, SessionCookie, SessionOptions, Subject, SystemClock,
    TokenClaim,
};

use crate::support::{TestServer, TestSessionValidator, WEB, authorize_url, form, query_param};

const SECRET: [u8; 32] = [7; 32];

/// A server without HTTP, for the session API alone.
async fn server(issuer: &str, secret: &[u8], clock: Arc<ManualClock>, sliding: bool) -> OidcServer {
    let mut session = SessionOptions::default();
    session.sliding = sliding;
    let mut options = ServerOptions::default();
    options.session = session;
    OidcServer::builder(issuer).session_secret(secret).clock(clock).options(options).build().await.expect("builds")
}

/// The request headers of a browser that got `set_cookie`.
fn cookie_headers(set_cookie: &HeaderValue) -> HeaderMap {
    let pair = set_cookie.to_str().expect("ascii").split(';').next().expect("name=value").to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {pair}")).expect("valid"));
    headers
}

fn alice() -> Subject {
    Subject::new("1", "pwd", SystemClock.now())
}

#[tokio::test]
async fn session_cookies_are_http_only_lax_and_secure_only_for_https_issuers() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let return_url = authorize_url(WEB.0, &[]);
    for (persistent, max_age) in [("false", None), ("true", Some("Max-Age=1209600"))] {
        let login = browser
            .get(&format!("/account/login?{}", form(&[("returnUrl", &return_url), ("persistent", persistent)])))
            .await;
        let cookie = login.set_cookies().into_iter().find(|cookie| cookie.starts_with("idsrv.session=")).expect("set");
        let attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
        assert!(attributes.contains(&"HttpOnly"), "{cookie}");
        assert!(attributes.contains(&"SameSite=Lax"), "{cookie}");
        assert!(attributes.contains(&"Path=/"), "{cookie}");
        assert!(!attributes.contains(&"Secure"), "{cookie}");
        assert_eq!(attributes.iter().find(|attribute| attribute.starts_with("Max-Age")).copied(), max_age);
    }

    let https = server_at("https://id.example.com").await;
    let signed_in = https.sign_in(alice(), true).expect("signed in");
    let cookie = signed_in.set_cookie.to_str().expect("ascii");
    assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=1209600"), "{cookie}");
    assert!(!cookie.contains("\"1\""), "the session is sealed, not readable: {cookie}");
    let signed_out = https.sign_out();
    assert_eq!(
        signed_out,
        "idsrv.session=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    );
}

async fn server_at(issuer: &str) -> OidcServer {
    server(issuer, &SECRET, Arc::new(ManualClock::new(SystemClock.now())), true).await
}

#[tokio::test]
async fn sessions_are_read_back_by_any_instance_with_the_same_secret() {
    let first = server_at("https://id.example.com").await;
    let subject = alice().with_claims([TokenClaim::new("security_stamp", "s1")]);
    let SessionCookie { set_cookie, session, .. } = first.sign_in(subject, false).expect("signed in");
    assert_eq!(session.subject.session_id.as_deref(), Some(session.session_id.as_str()));
    assert_eq!(session.expires_at - session.issued_at, TimeDelta::days(14));

    let second = server_at("https://id.example.com").await;
    let current = second.current_session(&cookie_headers(&set_cookie)).await.expect("read");
    assert_eq!(current.session.as_ref(), Some(&session));
    assert!(current.set_cookie.is_none());

    // Another secret cannot read it, and the unreadable cookie is deleted.
    let other = server("https://id.example.com", &[8; 32], Arc::new(ManualClock::new(SystemClock.now())), true).await;
    let current = other.current_session(&cookie_headers(&set_cookie)).await.expect("read");
    assert!(current.session.is_none());
    assert!(current.set_cookie.is_some_and(|cookie| cookie.to_str().is_ok_and(|value| value.contains("Max-Age=0"))));

    let tampered = HeaderValue::from_static("idsrv.session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(first.current_session(&cookie_headers(&tampered)).await.expect("read").session.is_none());
    let none = first.current_session(&HeaderMap::new()).await.expect("read");
    assert!(none.session.is_none() && none.set_cookie.is_none());
}

#[tokio::test]
async fn sliding_sessions_renew_after_half_their_lifetime_and_expire_unused() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let sliding = server("https://id.example.com", &SECRET, clock.clone(), true).await;
    let fixed = server("https://id.example.com", &SECRET, clock.clone(), false).await;
    let cookie = sliding.sign_in(alice(), false).expect("signed in").set_cookie;

    clock.advance(TimeDelta::days(6));
    let early = sliding.current_session(&cookie_headers(&cookie)).await.expect("read");
    assert!(early.session.is_some() && early.set_cookie.is_none());

    clock.advance(TimeDelta::days(2));
    let renewed = sliding.current_session(&cookie_headers(&cookie)).await.expect("read");
    let renewed_cookie = renewed.set_cookie.expect("renewed");
    assert_eq!(renewed.session.map(|session| session.expires_at), Some(clock.now() + TimeDelta::days(14)));
    let not_renewed = fixed.current_session(&cookie_headers(&cookie)).await.expect("read");
    assert!(not_renewed.session.is_some() && not_renewed.set_cookie.is_none());

    clock.advance(TimeDelta::days(7));
    assert!(fixed.current_session(&cookie_headers(&cookie)).await.expect("read").session.is_none());
    assert!(sliding.current_session(&cookie_headers(&cookie)).await.expect("read").session.is_none());
    assert!(sliding.current_session(&cookie_headers(&renewed_cookie)).await.expect("read").session.is_some());
}

#[tokio::test]
async fn sessions_too_large_for_a_cookie_are_refused() {
    let server = server_at("https://id.example.com").await;
    let subject = alice().with_claims([TokenClaim::new("blob", "x".repeat(5000))]);
    assert!(matches!(server.sign_in(subject, false), Err(Error::Interaction(_))));
}

#[tokio::test]
async fn a_session_validator_rejecting_the_session_sends_the_user_back_to_login() {
    let validator = TestSessionValidator::new();
    let registered = validator.clone();
    let server = TestServer::start_with(move |builder, _| builder.session_validator(registered)).await;
    let browser = server.browser();
    browser.sign_in().await;
    server.authorization_code(&browser, WEB.0, &[]).await;
    assert_eq!(validator.calls(), 1, "validated at the authorize request");
    let revalidated = browser.get(&authorize_url(WEB.0, &[])).await;
    assert!(query_param(revalidated.location(), "code").is_some());
    assert!(revalidated.set_cookies().is_empty(), "a valid session is not rewritten");
    assert_eq!(validator.calls(), 2, "validated at every request");

    // The stamp changed: the very next request ends the session and deletes its cookie.
    validator.set_valid(false);
    let rejected = browser.get(&authorize_url(WEB.0, &[])).await;
    assert!(rejected.location().starts_with("/account/login?"), "{}", rejected.location());
    assert!(rejected.set_cookies().iter().any(|cookie| cookie.starts_with("idsrv.session=;")));
    let afterwards = browser.get(&authorize_url(WEB.0, &[])).await;
    assert!(afterwards.location().starts_with("/account/login?"));
    assert_eq!(validator.calls(), 3, "the deleted cookie is not sent again");
}

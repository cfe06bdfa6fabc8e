//! The sign-in session: the cookie's attributes and sealing, the stored session behind it
//! (shared by instances, ended by signing out whatever copies of the cookie exist), the idle
//! timeout and the absolute lifetime, and re-validation.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::TimeDelta;
use oidc_server::{
    Client, Clock as _, InMemorySessionStore, ManualClock, OidcServer, ServerOptions, ServerSideSessionStore as _,
    SessionCookie, SessionFilter, SessionOptions, Subject, SystemClock, TokenClaim,
};

use crate::support::{TestServer, TestSessionValidator, WEB, authorize_url, form, query_param};

const SECRET: [u8; 32] = [7; 32];

/// A server without HTTP, for the session API alone, on `sessions`.
async fn server(
    issuer: &str,
    secret: &[u8],
    clock: Arc<ManualClock>,
    sessions: Arc<InMemorySessionStore>,
) -> OidcServer {
    let mut session = SessionOptions::default();
    session.idle_timeout = TimeDelta::hours(2);
    session.absolute_lifetime = TimeDelta::days(14);
    let mut options = ServerOptions::default();
    options.session = session;
    OidcServer::builder(issuer)
        .session_secret(secret)
        .clock(clock)
        .options(options)
        .session_store(sessions)
        .build()
        .await
        .expect("builds")
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

    let https = server_at("https://id.example.com", Arc::default()).await;
    let signed_in = https.sign_in(alice(), true).await.expect("signed in");
    let cookie = signed_in.set_cookie.to_str().expect("ascii");
    assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=1209600"), "{cookie}");
    assert!(!cookie.contains(&signed_in.session.session_id), "the reference is sealed, not readable: {cookie}");
    let signed_out = https.sign_out(&cookie_headers(&signed_in.set_cookie), None).await.expect("signed out");
    assert_eq!(
        signed_out.set_cookie,
        "idsrv.session=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    );
}

async fn server_at(issuer: &str, sessions: Arc<InMemorySessionStore>) -> OidcServer {
    server(issuer, &SECRET, Arc::new(ManualClock::new(SystemClock.now())), sessions).await
}

#[tokio::test]
async fn sessions_are_read_back_by_any_instance_sharing_the_store_and_the_secret() {
    let sessions = Arc::new(InMemorySessionStore::new());
    let first = server_at("https://id.example.com", sessions.clone()).await;
    let subject =
        alice().with_claims([TokenClaim::new("security_stamp", "s1"), TokenClaim::new("blob", "x".repeat(5000))]);
    let SessionCookie { set_cookie, session, .. } = first.sign_in(subject, false).await.expect("signed in");
    assert_eq!(session.subject.session_id.as_deref(), Some(session.session_id.as_str()));
    assert_eq!(session.expires_at - session.issued_at, TimeDelta::hours(2));
    assert!(set_cookie.len() < 200, "the cookie holds a reference, not the claims: {set_cookie:?}");

    let second = server_at("https://id.example.com", sessions.clone()).await;
    let current = second.current_session(&cookie_headers(&set_cookie)).await.expect("read");
    assert_eq!(current.session.as_ref(), Some(&session));
    assert!(current.set_cookie.is_none());

    // Another secret cannot read it, and the unreadable cookie is deleted; another store does
    // not know the session.
    let other =
        server("https://id.example.com", &[8; 32], Arc::new(ManualClock::new(SystemClock.now())), sessions).await;
    let current = other.current_session(&cookie_headers(&set_cookie)).await.expect("read");
    assert!(current.session.is_none());
    assert!(current.set_cookie.is_some_and(|cookie| cookie.to_str().is_ok_and(|value| value.contains("Max-Age=0"))));
    let elsewhere = server_at("https://id.example.com", Arc::default()).await;
    assert!(elsewhere.current_session(&cookie_headers(&set_cookie)).await.expect("read").session.is_none());

    let tampered = HeaderValue::from_static("idsrv.session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(first.current_session(&cookie_headers(&tampered)).await.expect("read").session.is_none());
    let none = first.current_session(&HeaderMap::new()).await.expect("read");
    assert!(none.session.is_none() && none.set_cookie.is_none());
}

#[tokio::test]
async fn a_copied_cookie_is_dead_once_the_session_is_signed_out_or_ended() {
    let sessions = Arc::new(InMemorySessionStore::new());
    let server = server_at("https://id.example.com", sessions.clone()).await;
    let cookie = server.sign_in(alice(), true).await.expect("signed in").set_cookie;
    let copy = cookie_headers(&cookie);
    server.sign_out(&cookie_headers(&cookie), None).await.expect("signed out");
    assert!(server.current_session(&copy).await.expect("read").session.is_none(), "the copy died with the session");

    let first = server.sign_in(alice(), false).await.expect("signed in").set_cookie;
    let second = server.sign_in(alice(), true).await.expect("signed in").set_cookie;
    let bob = server.sign_in(Subject::new("2", "pwd", SystemClock.now()), false).await.expect("signed in").set_cookie;
    assert_eq!(server.sessions(&SessionFilter::subject("1")).await.expect("listed").len(), 2);
    assert_eq!(server.end_sessions(&SessionFilter::subject("1")).await.expect("ended").len(), 2);
    for ended in [&first, &second] {
        assert!(server.current_session(&cookie_headers(ended)).await.expect("read").session.is_none());
    }
    assert!(server.current_session(&cookie_headers(&bob)).await.expect("read").session.is_some(), "others stay");
}

#[tokio::test]
async fn browser_sessions_end_when_idle_and_every_session_at_its_absolute_lifetime() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = server("https://id.example.com", &SECRET, clock.clone(), Arc::default()).await;
    let browser = server.sign_in(alice(), false).await.expect("signed in").set_cookie;
    let remembered = server.sign_in(alice(), true).await.expect("signed in").set_cookie;
    let idle = server.sign_in(alice(), false).await.expect("signed in").set_cookie;
    let signed_in_at = clock.now();

    // A browser session used every 90 minutes lives on; one left alone for 2 hours ends.
    for _ in 0..3 {
        clock.advance(TimeDelta::minutes(90));
        let current = server.current_session(&cookie_headers(&browser)).await.expect("read");
        assert_eq!(current.session.map(|session| session.expires_at), Some(clock.now() + TimeDelta::hours(2)));
        assert!(server.current_session(&cookie_headers(&remembered)).await.expect("read").session.is_some());
    }
    assert!(server.current_session(&cookie_headers(&idle)).await.expect("read").session.is_none());

    // Nothing outlives the absolute lifetime, however busy.
    while clock.now() < signed_in_at + TimeDelta::days(14) - TimeDelta::minutes(90) {
        clock.advance(TimeDelta::minutes(90));
        assert!(server.current_session(&cookie_headers(&browser)).await.expect("read").session.is_some());
    }
    clock.set(signed_in_at + TimeDelta::days(14));
    for cookie in [&browser, &remembered] {
        let ended = server.current_session(&cookie_headers(cookie)).await.expect("read");
        assert!(ended.session.is_none() && ended.set_cookie.is_some());
    }
    assert_eq!(server.remove_expired_sessions().await.expect("removed"), 0, "ended sessions were removed when read");
}

#[tokio::test]
async fn a_renewed_sign_in_keeps_its_auth_time_and_absolute_lifetime_and_ends_every_other_session() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = server("https://id.example.com", &SECRET, clock.clone(), Arc::default()).await;
    let signed_in_at = clock.now();
    let current = server.sign_in(alice(), true).await.expect("signed in");
    let other = server.sign_in(alice(), false).await.expect("signed in").set_cookie;
    clock.advance(TimeDelta::days(3));
    let renewed = server.renew_sign_in(&current.session, alice()).await.expect("renewed");
    assert_ne!(renewed.session.session_id, current.session.session_id, "a new sid");
    assert_eq!(renewed.session.subject.authentication_time, signed_in_at, "not a new sign-in");
    assert_eq!(renewed.session.expires_at, signed_in_at + TimeDelta::days(14), "never extended");
    for ended in [&current.set_cookie, &other] {
        assert!(server.current_session(&cookie_headers(ended)).await.expect("read").session.is_none());
    }
    let read = server.current_session(&cookie_headers(&renewed.set_cookie)).await.expect("read");
    assert_eq!(read.session.map(|session| session.session_id), Some(renewed.session.session_id.clone()));
    let again = server.renew_sign_in(&current.session, alice()).await;
    assert!(again.is_err(), "an ended session cannot be renewed");
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

#[tokio::test]
async fn undeliverable_logout_notifications_are_retried_after_the_lease_then_given_up() {
    // A port that refuses connections: bound, then released.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let address = closed.local_addr().expect("address");
    drop(closed);
    let mut client = Client::new("app").with_secret("app secret");
    client.backchannel_logout_uri = Some(format!("http://{address}/logout"));
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let sessions = Arc::new(InMemorySessionStore::new());
    let server = OidcServer::builder("https://id.example.com")
        .session_secret(SECRET)
        .clock(clock.clone())
        .clients([client])
        .session_store(sessions.clone())
        .build()
        .await
        .expect("builds");
    let signed_in = server.sign_in(alice(), false).await.expect("signed in");
    assert!(sessions.add_client(&signed_in.session.session_id, "app").await.expect("recorded"));
    server.sign_out(&cookie_headers(&signed_in.set_cookie), None).await.expect("signed out");

    for attempt in 1..=4 {
        assert_eq!(server.deliver_logout_notifications().await.expect("a round"), 0, "attempt {attempt} fails");
        assert_eq!(server.deliver_logout_notifications().await.expect("a round"), 0, "held until the lease lapses");
        clock.advance(TimeDelta::seconds(31));
    }
    // Still waiting after four failed attempts: the fifth claim sees it, and its failure gives up.
    let waiting = sessions.claim_ended(clock.now(), clock.now(), 10).await.expect("claimed");
    assert_eq!(waiting.iter().map(|ended| ended.attempts).collect::<Vec<_>>(), [5]);
    assert_eq!(server.deliver_logout_notifications().await.expect("a round"), 0, "the sixth attempt gives up");
    clock.advance(TimeDelta::seconds(31));
    assert!(
        sessions.claim_ended(clock.now(), clock.now() + TimeDelta::seconds(31), 10).await.expect("claimed").is_empty(),
        "given up and removed"
    );
}

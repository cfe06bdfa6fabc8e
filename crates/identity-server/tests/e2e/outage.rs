//! PostgreSQL going away under load: the test starts a cluster of its own (never the shared
//! server), serves from it with `[database] operation_timeout` at 1 s, and stops the cluster at
//! once while several clients keep calling. Every request then fails fast with the answer its
//! protocol defines (`503 temporarily_unavailable` at the token, userinfo and introspection
//! endpoints, an error redirect at the authorize endpoint, the "busy" page on the pages, 503 at
//! readiness), never a 500; nothing is consumed or half-written by the refused requests; and when
//! the cluster is back the server serves again by itself, without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use openidconnect::OAuth2TokenResponse as _;
use openidconnect::core::CoreTokenResponse;
use test_support::http::Response;

use crate::interactive::{
    Browser, CLIENT_BASE, QUICK, authorization_request, authorize, code_from, exchange_code, query_param, relying_party,
};
use crate::support::Server;

/// The store-call bound the server runs with.
const OPERATION_TIMEOUT_SECONDS: u64 = 1;
/// The longest a refused request may take: the bound with 10x slack.
const FAIL_FAST: Duration = Duration::from_secs(10 * OPERATION_TIMEOUT_SECONDS);
/// How long the restarted cluster may take before the server is ready again.
const RECOVERY: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_postgresql_is_answered_fast_with_503_and_the_server_recovers_by_itself() {
    let cluster = Arc::new(
        throwaway_postgres::Cluster::start("identity-e2e")
            .unwrap_or_else(|reason| panic!("a PostgreSQL cluster of the test's own: {reason}")),
    );
    let env = tokio::task::block_in_place(|| crate::support::env_on_postgres(cluster.admin_url()));
    let timeout = OPERATION_TIMEOUT_SECONDS.to_string();
    let (_, server) = crate::interactive::start(&env, &[("IDENTITY_DATABASE__OPERATION_TIMEOUT", &timeout)]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    let tokens: CoreTokenResponse = exchange_code(&client, &server, &request, code).await;
    let access_token = tokens.access_token().secret().clone();
    let refresh_token = tokens.refresh_token().expect("offline_access gives a refresh token").secret().clone();

    let introspection = [("token", access_token.as_str())];
    let outage_over = AtomicBool::new(false);
    let outage = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // On a blocking thread, so that the load goes on meanwhile.
        let stopping = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || stopping.stop()).await.expect("pg_ctl ran").expect("the cluster stops");
        during_the_outage(&server, &browser, &client, &access_token, &refresh_token).await;
        let starting = Arc::clone(&cluster);
        let started = tokio::task::spawn_blocking(move || starting.start_server()).await.expect("pg_ctl ran");
        started.expect("the cluster starts again");
        wait_until_ready(&server).await;
        outage_over.store(true, Ordering::Relaxed);
    };
    let (_, userinfo_load, introspection_load) = tokio::join!(
        outage,
        load(&outage_over, || server.get("/connect/userinfo", Some(&access_token))),
        load(&outage_over, || server.post_form("/connect/introspect", QUICK, &introspection)),
    );
    for (name, answers) in [("userinfo", userinfo_load), ("introspection", introspection_load)] {
        assert!(answers.iter().any(|(status, _)| *status == 503), "{name} saw the outage: {answers:?}");
        for (status, took) in answers {
            assert!([200, 503].contains(&status) && took < FAIL_FAST, "{name}: {status} after {took:?}");
        }
    }

    // Nothing the refused requests touched was consumed: the refresh token, the session.
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
    server.post_form("/connect/token", QUICK, &refresh).await.ok_json();
    assert_eq!(server.get("/connect/userinfo", Some(&access_token)).await.status, 200);
    assert_eq!(browser.get("/account/manage").await.status, 200, "the browser is still signed in");
}

/// While the database is down: each endpoint answers as its protocol defines, fast.
async fn during_the_outage(
    server: &Server,
    browser: &Browser<'_>,
    client: &crate::interactive::RelyingParty,
    access_token: &str,
    refresh_token: &str,
) {
    let started = Instant::now();
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let token = server.post_form("/connect/token", QUICK, &refresh).await;
    assert_unavailable(&token, "the token endpoint");
    assert_eq!(token.header("retry-after"), Some("1"));
    assert_unavailable(&server.get("/connect/userinfo", Some(access_token)).await, "userinfo");
    let introspection = server.post_form("/connect/introspect", QUICK, &[("token", access_token)]).await;
    assert_unavailable(&introspection, "introspection");

    let request = authorization_request(client);
    let answer = browser.get(&request.url).await;
    let location = answer.redirect();
    assert!(location.starts_with(&format!("{CLIENT_BASE}/callback?")), "back to the client: {location}");
    assert_eq!(query_param(location, "error").as_deref(), Some("temporarily_unavailable"), "{location}");
    assert_eq!(query_param(location, "state").as_deref(), Some(request.state.secret().as_str()));

    let page = browser.get("/account/manage").await;
    assert_eq!(page.status, 503, "the busy page: {page:#?}");
    assert!(page.body.contains("busy"), "{}", page.body);
    let ready = server.get("/health/ready", None).await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.json()["database"], "unavailable");
    assert!(started.elapsed() < 6 * FAIL_FAST, "six refusals took {:?}", started.elapsed());
}

/// Asserts a fast `503 temporarily_unavailable` in RFC 6749's error shape.
fn assert_unavailable(response: &Response, endpoint: &str) {
    assert_eq!(response.status, 503, "{endpoint}: {}", response.body);
    assert_eq!(response.json()["error"], "temporarily_unavailable", "{endpoint}");
}

/// Polls readiness until the server reaches its database again.
async fn wait_until_ready(server: &Server) {
    let deadline = Instant::now() + RECOVERY;
    while server.get("/health/ready", None).await.status != 200 {
        assert!(Instant::now() < deadline, "not ready {RECOVERY:?} after the database came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Calls `request` one after another until the outage is over: each status and how long it took.
async fn load<F, R>(outage_over: &AtomicBool, request: F) -> Vec<(u16, Duration)>
where
    F: Fn() -> R,
    R: Future<Output = Response>,
{
    let mut answers = Vec::new();
    while !outage_over.load(Ordering::Relaxed) {
        let started = Instant::now();
        // A request that hangs fails the test with its own message instead of hanging it.
        let response = tokio::time::timeout(FAIL_FAST, request()).await;
        answers.push((response.map_or(0, |response| response.status), started.elapsed()));
    }
    answers
}

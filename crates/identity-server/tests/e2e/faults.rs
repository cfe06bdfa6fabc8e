//! Database faults and races through the real binary: while another application holds SQLite's
//! write lock (or a PostgreSQL row lock) beyond `[database] operation_timeout`, a request that
//! must write fails fast with `503 temporarily_unavailable` (never a 500 or a hang), counts
//! nothing, and the server serves normally again once the lock is gone; two processes seeding
//! one database at once both succeed; the health endpoints report the process live and the database and signing key ready; every
//! request is logged once (as JSON on request) with its request id and without its query string;
//! `/metrics` counts requests per route without user data.

use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use test_support::Backend;

use crate::support::{PASSWORD, TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::faults,
    cases: [two_processes_seeding_one_database_at_once_both_succeed, health_endpoints_report_live_and_ready],
}

pub(crate) async fn health_endpoints_report_live_and_ready(env: TestEnv) {
    let server = env.serve(&[]);
    let live = server.get("/health/live", None).await;
    assert_eq!((live.status, live.json()), (200, serde_json::json!({"status": "live"})));
    let ready = server.get("/health/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json(), serde_json::json!({"status": "ready", "database": "ok", "signing_key": "ok"}));
    assert_eq!(ready.header("cache-control"), Some("no-store"));
}

pub(crate) async fn two_processes_seeding_one_database_at_once_both_succeed(env: TestEnv) {
    for round in 0..3 {
        let runs: Vec<_> = std::thread::scope(|scope| {
            let seeders: Vec<_> = (0..2).map(|_| scope.spawn(|| env.cli(&["seed"]))).collect();
            seeders.into_iter().map(|seeder| seeder.join().expect("the seeder ran")).collect()
        });
        for run in runs {
            run.ok();
        }
        let users = env.cli(&["users", "list"]).ok();
        assert!(users.contains("alice") && users.contains("bob"), "round {round}: {users}");
        for user_name in ["alice", "bob"] {
            env.cli(&["users", "delete", user_name]).ok();
        }
    }
}

/// A row lock that another application holds on PostgreSQL is waited for at most
/// `operation_timeout` (the pool's `lock_timeout`), then answered like a locked SQLite file.
#[cfg(feature = "postgres-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_row_locked_by_another_application_answers_503_and_then_recovers() {
    let env = crate::support::env(Backend::Postgres).await;
    env.create_user("carol", &[]);
    let server = env.serve_with_env(&[], &[("IDENTITY_DATABASE__OPERATION_TIMEOUT", "1")]);
    server.raw_password_grant("carol", PASSWORD).await.ok_json();

    // Another application locks carol's row and keeps the lock.
    let mut other = diesel::PgConnection::establish(env.database_url()).expect("PostgreSQL connects");
    other
        .batch_execute(r#"BEGIN; SELECT 1 FROM "AspNetUsers" WHERE "NormalizedUserName" = 'CAROL' FOR UPDATE;"#)
        .expect("the row lock");
    let started = std::time::Instant::now();
    let refused = server.raw_password_grant("carol", "Wrong123$").await;
    let waited = started.elapsed();
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(waited < std::time::Duration::from_secs(10), "the 1 s lock timeout held ({waited:?}, 10x slack)");
    let page = server.get("/account/login", None).await;
    assert_eq!(page.status, 200, "reading waits for no row lock: {}", page.body);

    other.batch_execute("ROLLBACK;").expect("the lock is given back");
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "1", "the refused attempt counted nothing");
    server.raw_password_grant("carol", PASSWORD).await.ok_json();
}

#[tokio::test]
async fn metrics_count_requests_per_route_without_user_data_when_enabled() {
    let env = crate::support::env(Backend::Sqlite).await;
    env.create_user("carol", &[]);
    let off = env.serve(&[]);
    assert_eq!(off.get("/metrics", None).await.status, 404, "off by default");
    drop(off);
    let variables = [("IDENTITY_METRICS__ENABLED", "true"), ("IDENTITY_HASHING__THREADS", "2")];
    let server = env.serve_with_env(&[], &variables);
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    server.password_grant("carol", &["openid"]).await;
    let (client, secret) = crate::support::M2M_CLIENT;
    server.post_form("/connect/token", (client, "wrong"), &[("grant_type", "client_credentials")]).await;
    server.post_form("/connect/token", (client, secret), &[("grant_type", "made-up-by-carol")]).await;
    crate::interactive::Browser::new(&server).log_in("/account/login", "carol", "Wrong123$").await;
    server.get("/account/login/carol", None).await;
    server.get("/css/site.css", None).await;
    server.get("/.well-known/jwks/", None).await;
    let metrics = server.get("/metrics", None).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").is_some_and(|value| value.starts_with("text/plain; version=0.0.4")));
    let text = &metrics.body;
    for line in [
        "identity_http_requests_total{route=\"/connect/token\",status=\"400\"} 2",
        "identity_http_requests_total{route=\"/connect/token\",status=\"200\"} 1",
        "identity_http_requests_total{route=\"other\",status=\"404\"} 2",
        "identity_tokens_issued_total{grant_type=\"password\",client_id=\"password.client\"} 1",
        "identity_token_requests_refused_total{grant_type=\"password\",error=\"invalid_grant\"} 1",
        "identity_token_requests_refused_total{grant_type=\"client_credentials\",error=\"invalid_client\"} 1",
        "identity_token_requests_refused_total{grant_type=\"other\",error=\"unsupported_grant_type\"} 1",
        "identity_sign_ins_total{step=\"password\",outcome=\"failure\"} 1",
        "identity_http_requests_total{route=\"/css/{*path}\",status=\"200\"} 1",
        "identity_http_request_duration_seconds_count{route=\"/connect/token\"} 4",
        "identity_http_request_duration_seconds_bucket{route=\"/connect/token\",le=\"+Inf\"} 4",
        "identity_password_hashing_capacity 34",
        "identity_password_hashing_free_places 34",
    ] {
        assert!(text.lines().any(|candidate| candidate == line), "{line} in:\n{text}");
    }
    assert!(!text.contains("carol"), "no user data in labels:\n{text}");
    let audit = server.log();
    assert!(audit.contains("event=\"tokens_issued\" grant_type=\"password\" client_id=\"password.client\""), "{audit}");
    assert!(audit.contains("event=\"sign_in\" step=\"password\" outcome=\"failure\""), "{audit}");
}

#[tokio::test]
async fn every_request_is_logged_once_as_json_with_its_id_and_never_its_query() {
    let env = crate::support::env(Backend::Sqlite).await;
    let server = env.serve_with_env(&[], &[("IDENTITY_LOG_FORMAT", "json")]);
    let secret_query = "/account/confirm-email?userId=nobody&code=secret-code-123";
    let probed = server.http.get(server.url(secret_query)).header("x-request-id", "probe-42").send().await;
    let probed = probed.expect("answered");
    assert_eq!(probed.headers()["x-request-id"], "probe-42");
    let fresh = server.http.get(server.url("/health/live")).send().await.expect("answered");
    let fresh_id = fresh.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(fresh_id.len(), 32, "a new id: {fresh_id}");

    let log = server.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}")))
        .collect();
    let access = |id: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|line| line["target"] == "access" && line["span"]["request_id"] == id).collect()
    };
    let probe = access("probe-42");
    assert_eq!(probe.len(), 1, "one access line per request: {log}");
    assert_eq!(probe[0]["fields"]["path"], "/account/confirm-email");
    assert_eq!(probe[0]["fields"]["method"], "GET");
    assert_eq!(probe[0]["fields"]["status"], 400);
    assert_eq!(access(&fresh_id).len(), 1, "{log}");
    assert!(!log.contains("secret-code-123"), "no query string in the log: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_answers_503_and_then_recovers() {
    let env = crate::support::env(Backend::Sqlite).await;
    env.create_user("carol", &[]);
    let server = env.serve_with_env(&[], &[("IDENTITY_DATABASE__OPERATION_TIMEOUT", "1")]);
    server.raw_password_grant("carol", PASSWORD).await.ok_json();

    // Another application takes the write lock and keeps it.
    let path = env.database_url().strip_prefix("sqlite://").expect("a SQLite URL").to_owned();
    let mut other = diesel::SqliteConnection::establish(&path).expect("SQLite opens");
    other.batch_execute("BEGIN IMMEDIATE;").expect("the write lock");
    let refused = server.raw_password_grant("carol", "Wrong123$").await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    let page = server.get("/account/login", None).await;
    assert_eq!(page.status, 200, "reading needs no write lock: {}", page.body);

    other.batch_execute("ROLLBACK;").expect("the lock is given back");
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "1", "the refused attempt counted nothing");
    server.raw_password_grant("carol", PASSWORD).await.ok_json();
}

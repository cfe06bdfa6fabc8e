//! Database faults and races through the real binary: while another application holds SQLite's
//! write lock beyond `[database] operation_timeout`, a request that must write fails fast with
//! `503 temporarily_unavailable` (never a 500 or a hang), counts nothing, and the server serves
//! normally again once the lock is gone; two processes seeding one database at once both succeed.

use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use test_support::Backend;

use crate::support::{PASSWORD, TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::faults,
    cases: [two_processes_seeding_one_database_at_once_both_succeed],
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

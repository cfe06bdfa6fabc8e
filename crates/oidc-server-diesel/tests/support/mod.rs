//! What the SQLite and PostgreSQL test binaries share: the test cases, the HTTP server helpers,
//! and [`store_tests!`], which stamps out one `#[tokio::test]` per case for a backend.

pub(crate) mod cases;
pub(crate) mod server;

use identity_diesel::{Database, DatabaseUrl, PoolOptions};

/// Opens a pool on `url` and runs identity-diesel's migrations and this crate's, so that every
/// case runs with the Identity tables and the token server's tables in one database.
pub(crate) async fn open(url: &DatabaseUrl) -> Database {
    let db = Database::connect_with(url.clone(), PoolOptions { max_size: 8, ..PoolOptions::default() })
        .await
        .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    db.run_migrations().await.unwrap_or_else(|error| panic!("cannot migrate the Identity tables: {error}"));
    oidc_server_diesel::run_migrations(&db).await.unwrap_or_else(|error| panic!("cannot migrate: {error}"));
    db
}

/// One `#[tokio::test]` per case of [`cases`], each on a fresh database from `$fixture`: a
/// function returning a guard (kept alive for the test) and the database's URL.
macro_rules! store_tests {
    ($fixture:ident) => {
        $crate::support::store_tests!(
            @cases $fixture:
            grants_round_trip_and_replace,
            consume_succeeds_exactly_once,
            concurrent_consumers_exactly_one_wins,
            consume_waits_for_a_concurrent_consumer,
            remove_all_by_family_and_by_subject_and_client,
            remove_expired_deletes_only_expired_grants,
            unreadable_rows_are_store_errors,
            signing_keys_round_trip_and_newer_keys_block_adding,
            racing_key_adders_agree_on_one_key,
            adding_a_key_waits_for_a_concurrent_key_writer,
            migrations_are_idempotent_reversible_and_apart_from_identity,
            refresh_tokens_and_keys_survive_a_restart,
            two_servers_share_refresh_tokens_and_keys,
        );
    };
    (@cases $fixture:ident: $($case:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let (_guard, url) = $fixture();
            $crate::support::cases::$case(&url).await;
        }
    )+};
}
pub(crate) use store_tests;

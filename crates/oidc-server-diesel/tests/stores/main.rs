//! The Diesel stores on SQLite, and on PostgreSQL with the `postgres-tests` feature: the token
//! server's store conformance suite, then what only a database has ([`cases`]): concurrent
//! writers across connections, unreadable rows, migrations, restarts and several instances.

mod cases;
mod server;

use std::sync::Arc;

use diesel_any::{Database, DatabaseUrl, PoolOptions};
use identity_diesel::IdentityMigrations as _;
use oidc_server::conformance::OperationalStores;
use oidc_server_diesel::{DieselPersistedGrantStore, DieselSessionStore, DieselSigningKeyStore};
use test_support::{Backend, TestDatabase};

/// Opens a pool on the test database and runs identity-diesel's migrations and this crate's,
/// so that every case runs with the Identity tables and the token server's tables in one
/// database.
pub(crate) async fn open(database: &TestDatabase) -> Database {
    let url = DatabaseUrl::parse(database.url()).unwrap_or_else(|error| panic!("{error}"));
    let db = Database::connect_with(url, PoolOptions { max_size: 8, ..PoolOptions::default() })
        .await
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", database.url()));
    db.run_migrations().await.unwrap_or_else(|error| panic!("cannot migrate the Identity tables: {error}"));
    oidc_server_diesel::run_migrations(&db).await.unwrap_or_else(|error| panic!("cannot migrate: {error}"));
    db
}

/// A fresh database of `backend`.
async fn database(backend: Backend) -> TestDatabase {
    TestDatabase::create(backend).await
}

/// Fresh stores on a fresh database of `backend`.
async fn stores(backend: Backend) -> OperationalStores {
    let database = TestDatabase::create(backend).await;
    let db = open(&database).await;
    OperationalStores {
        grants: Arc::new(DieselPersistedGrantStore::new(db.clone())),
        keys: Arc::new(DieselSigningKeyStore::new(db.clone())),
        sessions: Arc::new(DieselSessionStore::new(db)),
        guard: Box::new(database),
    }
}

/// The token server's store conformance suite.
mod conformance {
    oidc_server::operational_store_conformance!(setup: crate::stores, backends: [sqlite, postgres]);
}

test_support::backend_cases! {
    setup: crate::database,
    backends: [sqlite, postgres],
    module: crate::cases,
    cases: [
        remove_expired_deletes_only_expired_grants,
        consume_waits_for_a_concurrent_consumer,
        unreadable_rows_are_store_errors,
        adding_a_key_waits_for_a_concurrent_key_writer,
        migrations_are_idempotent_reversible_and_apart_from_identity,
        refresh_tokens_and_keys_survive_a_restart,
        two_servers_share_refresh_tokens_and_keys,
        client_documents_are_inserted_once_and_replaced_only_as_read,
    ],
}

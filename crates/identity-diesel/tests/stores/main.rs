//! The Diesel store on SQLite, and on PostgreSQL with the `postgres-tests` feature: the
//! conformance suite ([`conformance`]), the scenarios every backend runs ([`scenarios`]), and
//! what differs per backend (`sqlite_specific`, `postgres_specific`): EF Core's schemas and a real .NET-written
//! database left untouched by the migrations and written in .NET's formats, the fresh-database
//! bootstrap, and database URLs.

mod conformance;
#[cfg(feature = "postgres-tests")]
mod postgres_specific;
mod scenarios;
mod sqlite_specific;

use identity_diesel::{Database, DatabaseUrl, IdentityMigrations as _, PoolOptions};
use test_support::{Backend, TestDatabase};

/// A migrated test database, dropped with this value.
pub(crate) struct Migrated {
    pub(crate) url: DatabaseUrl,
    pub(crate) db: Database,
    pub(crate) database: TestDatabase,
}

/// Opens the database at `url` and runs the migrations.
pub(crate) async fn migrate(url: &DatabaseUrl) -> Database {
    let db = Database::connect_with(url.clone(), PoolOptions { max_size: 8, ..PoolOptions::default() })
        .await
        .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    db.run_migrations().await.unwrap_or_else(|error| panic!("cannot migrate {url}: {error}"));
    db
}

/// A fresh, migrated database of `backend`.
pub(crate) async fn migrated(backend: Backend) -> Migrated {
    let database = TestDatabase::create(backend).await;
    let url = DatabaseUrl::parse(database.url()).unwrap_or_else(|error| panic!("{error}"));
    let db = migrate(&url).await;
    Migrated { url, db, database }
}

test_support::backend_cases! {
    setup: crate::migrated,
    backends: [sqlite, postgres],
    module: crate::scenarios,
    cases: [
        concurrent_creations_of_one_name,
        concurrent_wrong_passwords_are_all_counted,
        concurrent_stale_updates_fail,
        user_manager_writes_read_back,
        extension_rows_follow_the_json,
        claims_data_has_roles_and_role_claims,
        passkeys_round_trip,
    ],
}

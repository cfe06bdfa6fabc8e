//! This crate's embedded migrations (`migrations/<backend>/`), tracked in a bookkeeping table of
//! their own, `oidc_schema_migrations`.
//!
//! Diesel's default harness records every migration in one `__diesel_schema_migrations` table
//! per database, which identity-diesel already uses. Sharing it would make each crate see the
//! other's versions: identity-diesel's `revert_last_migration` would find one of these as the
//! latest and fail, and its migration status would list them. With a table of its own, this
//! crate's migrations can live in the same database as the Identity tables without either crate
//! noticing the other.
//!
//! Migrating runs in one transaction that excludes other migrators (`BEGIN IMMEDIATE` on
//! SQLite, an advisory lock on PostgreSQL), so servers starting together do not race.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::migration::{Migration, MigrationVersion};
use diesel::prelude::*;
use diesel_any::Database;
use diesel_migrations::MigrationHarness;

use crate::backend::{StoreConnection, on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::oidc_schema_migrations;

/// Creates the bookkeeping table; the same SQL on both backends.
const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS oidc_schema_migrations (
    version VARCHAR(50) PRIMARY KEY NOT NULL,
    run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)";

/// Diesel's migration harness over `oidc_schema_migrations`. Each step runs inside the caller's
/// exclusive transaction.
struct Harness<'a, C>(&'a mut C);

/// Implements [`MigrationHarness`] for the connection types given; the bodies are the same, the
/// backends differ.
macro_rules! harness_for {
    ($($feature:literal => $connection:ty),+ $(,)?) => {$(
        #[cfg(feature = $feature)]
        impl MigrationHarness<<$connection as Connection>::Backend> for Harness<'_, $connection> {
            fn run_migration(
                &mut self,
                migration: &dyn Migration<<$connection as Connection>::Backend>,
            ) -> diesel::migration::Result<MigrationVersion<'static>> {
                migration.run(self.0)?;
                let version = migration.name().version().as_owned();
                diesel::insert_into(oidc_schema_migrations::table)
                    .values(oidc_schema_migrations::version.eq(version.to_string()))
                    .execute(self.0)?;
                Ok(version)
            }

            fn revert_migration(
                &mut self,
                migration: &dyn Migration<<$connection as Connection>::Backend>,
            ) -> diesel::migration::Result<MigrationVersion<'static>> {
                migration.revert(self.0)?;
                let version = migration.name().version().as_owned();
                diesel::delete(oidc_schema_migrations::table.find(version.to_string())).execute(self.0)?;
                Ok(version)
            }

            /// Newest first, as Diesel's harness expects.
            fn applied_migrations(&mut self) -> diesel::migration::Result<Vec<MigrationVersion<'static>>> {
                self.0.batch_execute(CREATE_MIGRATIONS_TABLE)?;
                let versions: Vec<String> = oidc_schema_migrations::table
                    .select(oidc_schema_migrations::version)
                    .order(oidc_schema_migrations::version.desc())
                    .load(self.0)?;
                Ok(versions.into_iter().map(MigrationVersion::from).collect())
            }
        }
    )+};
}

harness_for!("sqlite" => diesel::SqliteConnection, "postgres" => diesel::PgConnection);

fn versions<'a>(versions: impl IntoIterator<Item = MigrationVersion<'a>>) -> Vec<String> {
    versions.into_iter().map(|version| version.to_string()).collect()
}

fn migration_error(error: impl std::fmt::Display) -> OperationalStoreError {
    OperationalStoreError::Migration(error.to_string())
}

/// Applies the pending migrations in an exclusive transaction.
fn migrate<C>(connection: &mut C) -> Result<Vec<String>, OperationalStoreError>
where
    C: StoreConnection,
    for<'a> Harness<'a, C>: MigrationHarness<C::Backend>,
{
    connection.write_transaction(|connection| {
        connection.lock_migrations()?;
        Harness(connection).run_pending_migrations(C::MIGRATIONS).map(versions).map_err(migration_error)
    })
}

/// The applied (oldest first) and pending versions; creates only the bookkeeping table.
fn status<C>(connection: &mut C) -> Result<OperationalMigrationStatus, OperationalStoreError>
where
    C: StoreConnection,
    for<'a> Harness<'a, C>: MigrationHarness<C::Backend>,
{
    let mut harness = Harness(connection);
    let mut applied = harness.applied_migrations().map(versions).map_err(migration_error)?;
    applied.reverse();
    let pending = harness
        .pending_migrations(C::MIGRATIONS)
        .map_err(migration_error)?
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect();
    Ok(OperationalMigrationStatus { applied, pending })
}

/// Reverts every applied migration in an exclusive transaction.
fn revert_all<C>(connection: &mut C) -> Result<Vec<String>, OperationalStoreError>
where
    C: StoreConnection,
    for<'a> Harness<'a, C>: MigrationHarness<C::Backend>,
{
    connection.write_transaction(|connection| {
        connection.lock_migrations()?;
        Harness(connection).revert_all_migrations(C::MIGRATIONS).map(versions).map_err(migration_error)
    })
}

/// Creates or updates this crate's tables (`oidc_persisted_grants`, `oidc_signing_keys`) by
/// applying the pending embedded migrations; returns the versions applied, oldest first. Safe to
/// call at every start-up and from several processes at once. Leaves every other table alone, so
/// it may run before or after identity-diesel's `run_migrations` on the same database.
pub async fn run_migrations(db: &Database) -> Result<Vec<String>, OperationalStoreError> {
    run(db, |connection| on_backend!(connection, |inner| migrate(inner))).await
}

/// Which of this crate's migrations a database has applied and which are pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationalMigrationStatus {
    /// Applied versions, oldest first.
    pub applied: Vec<String>,
    /// Versions not applied yet, oldest first.
    pub pending: Vec<String>,
}

/// Reports the applied and pending migrations of this crate without applying any.
pub async fn migration_status(db: &Database) -> Result<OperationalMigrationStatus, OperationalStoreError> {
    run(db, |connection| on_backend!(connection, |inner| status(inner))).await
}

/// Reverts every applied migration of this crate, newest first, dropping its tables and
/// everything in them; returns the versions reverted. The Identity tables are not touched.
pub async fn revert_all_migrations(db: &Database) -> Result<Vec<String>, OperationalStoreError> {
    run(db, |connection| on_backend!(connection, |inner| revert_all(inner))).await
}

//! Schema set-up: the Identity schema bootstrap and this crate's embedded migrations.
//!
//! [`run_migrations`] does two things in one transaction, under a lock so that two processes
//! starting together do not race (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL):
//!
//! 1. **Bootstrap.** When `AspNetUsers` does not exist, it creates ASP.NET Core Identity's schema
//!    version 3 (with `AspNetUserPasskeys`) exactly as EF Core's provider would. When it exists,
//!    nothing about the Identity tables is touched, whatever their version: a version-1
//!    database made by .NET stays version 1 (and the store reports passkeys as unsupported).
//! 2. **Embedded migrations** (`migrations/<backend>/`, tracked in Diesel's
//!    `__diesel_schema_migrations`): only objects this crate owns (`identity_user_extensions`,
//!    indexes named `identity_…`), created with `IF NOT EXISTS`.
//!
//! [`revert_last_migration`] reverts only embedded migrations; the bootstrap is never undone.

use crate::error::{DieselStoreError, StoreResult};
use diesel::connection::SimpleConnection;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_any::{AnyConnection, Database};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Which ASP.NET Core Identity schema a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentitySchema {
    /// No `AspNetUsers` table: [`run_migrations`] will create schema version 3.
    Absent,
    /// The Identity tables without `AspNetUserPasskeys` (schema version 1 or 2).
    WithoutPasskeys,
    /// The Identity tables with `AspNetUserPasskeys` (schema version 3).
    WithPasskeys,
}

/// Where a database stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The Identity schema found.
    pub identity_schema: IdentitySchema,
    /// Versions of the embedded migrations already applied, oldest first.
    pub applied: Vec<String>,
    /// Versions of the embedded migrations not applied yet, oldest first.
    pub pending: Vec<String>,
}

/// The table in which Diesel records applied migrations.
const DIESEL_MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What differs between backends when setting up a schema.
trait SchemaBackend: Connection + SimpleConnection + MigrationHarness<Self::Backend> {
    /// The Identity schema version 3 DDL.
    const IDENTITY_SCHEMA_V3: &'static str;
    /// This crate's migrations for the backend.
    const MIGRATIONS: EmbeddedMigrations;

    /// Runs `work` in a transaction that excludes other migrators.
    fn exclusive<T>(&mut self, work: impl FnOnce(&mut Self) -> StoreResult<T>) -> StoreResult<T>;

    /// Whether a table of this name exists (in the current schema on PostgreSQL).
    fn has_table(&mut self, name: &str) -> StoreResult<bool>;
}

#[cfg(feature = "sqlite")]
impl SchemaBackend for diesel::SqliteConnection {
    const IDENTITY_SCHEMA_V3: &'static str = include_str!("../bootstrap/sqlite.sql");
    const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

    fn exclusive<T>(&mut self, work: impl FnOnce(&mut Self) -> StoreResult<T>) -> StoreResult<T> {
        self.immediate_transaction(work)
    }

    fn has_table(&mut self, name: &str) -> StoreResult<bool> {
        let count: Count =
            diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind::<Text, _>(name)
                .get_result(self)?;
        Ok(count.n > 0)
    }
}

#[cfg(feature = "postgres")]
impl SchemaBackend for diesel::PgConnection {
    const IDENTITY_SCHEMA_V3: &'static str = include_str!("../bootstrap/postgres.sql");
    const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

    fn exclusive<T>(&mut self, work: impl FnOnce(&mut Self) -> StoreResult<T>) -> StoreResult<T> {
        /// Advisory lock key shared by every process migrating with this crate: "identity".
        const LOCK_KEY: i64 = i64::from_be_bytes(*b"identity");
        self.transaction(|connection| {
            // Another instance may be migrating: wait for it, whatever the pool's lock timeout.
            diesel::sql_query("SET LOCAL lock_timeout = 0").execute(connection)?;
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(LOCK_KEY).execute(connection)?;
            work(connection)
        })
    }

    fn has_table(&mut self, name: &str) -> StoreResult<bool> {
        let count: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<Text, _>(name)
        .get_result(self)?;
        Ok(count.n > 0)
    }
}

fn migration_error(error: Box<dyn std::error::Error + Send + Sync>) -> DieselStoreError {
    DieselStoreError::Migration(error.to_string())
}

fn versions<'a>(versions: impl IntoIterator<Item = MigrationVersion<'a>>) -> Vec<String> {
    versions.into_iter().map(|version| version.to_string()).collect()
}

fn schema_of<C: SchemaBackend>(connection: &mut C) -> StoreResult<IdentitySchema> {
    Ok(if !connection.has_table("AspNetUsers")? {
        IdentitySchema::Absent
    } else if connection.has_table("AspNetUserPasskeys")? {
        IdentitySchema::WithPasskeys
    } else {
        IdentitySchema::WithoutPasskeys
    })
}

fn migrate<C: SchemaBackend>(connection: &mut C) -> StoreResult<Vec<String>> {
    connection.exclusive(|connection| {
        if schema_of(connection)? == IdentitySchema::Absent {
            connection.batch_execute(C::IDENTITY_SCHEMA_V3)?;
        }
        let applied = connection.run_pending_migrations(C::MIGRATIONS).map_err(migration_error)?;
        Ok(versions(applied))
    })
}

fn status<C: SchemaBackend>(connection: &mut C) -> StoreResult<MigrationStatus> {
    let identity_schema = schema_of(connection)?;
    // Diesel's harness creates its bookkeeping table when asked anything: a status query must
    // not write, so a database without that table has simply applied nothing.
    let (applied, pending) = if connection.has_table(DIESEL_MIGRATIONS_TABLE)? {
        let applied = connection.applied_migrations().map_err(migration_error)?;
        let pending = connection.pending_migrations(C::MIGRATIONS).map_err(migration_error)?;
        let mut applied = versions(applied);
        applied.sort();
        (applied, versions(pending.iter().map(|migration| migration.name().version())))
    } else {
        let all = MigrationSource::<C::Backend>::migrations(&C::MIGRATIONS).map_err(migration_error)?;
        (Vec::new(), versions(all.iter().map(|migration| migration.name().version())))
    };
    Ok(MigrationStatus { identity_schema, applied, pending })
}

fn revert_last<C: SchemaBackend>(connection: &mut C) -> StoreResult<Option<String>> {
    connection.exclusive(|connection| {
        if !connection.has_table(DIESEL_MIGRATIONS_TABLE)?
            || connection.applied_migrations().map_err(migration_error)?.is_empty()
        {
            return Ok(None);
        }
        let reverted = connection.revert_last_migration(C::MIGRATIONS).map_err(migration_error)?;
        Ok(Some(reverted.to_string()))
    })
}

/// Creates the Identity schema if the database has none, then applies the pending embedded
/// migrations; returns the versions applied. Safe to call at every start-up.
pub fn run_migrations(connection: &mut AnyConnection) -> Result<Vec<String>, DieselStoreError> {
    diesel_any::on_backend!(connection, |inner| migrate(inner), |backend| Err(
        diesel_any::DatabaseError::BackendDisabled(backend).into()
    ))
}

/// The Identity schema found and the embedded migrations applied and pending. Writes nothing.
pub fn migration_status(connection: &mut AnyConnection) -> Result<MigrationStatus, DieselStoreError> {
    diesel_any::on_backend!(connection, |inner| status(inner), |backend| Err(
        diesel_any::DatabaseError::BackendDisabled(backend).into()
    ))
}

/// Versions of the embedded migrations not applied yet. Writes nothing.
pub fn pending_migrations(connection: &mut AnyConnection) -> Result<Vec<String>, DieselStoreError> {
    Ok(migration_status(connection)?.pending)
}

/// Reverts the most recent embedded migration and returns its version; `None` when none is
/// applied. Never drops the Identity tables.
pub fn revert_last_migration(connection: &mut AnyConnection) -> Result<Option<String>, DieselStoreError> {
    diesel_any::on_backend!(connection, |inner| revert_last(inner), |backend| Err(
        diesel_any::DatabaseError::BackendDisabled(backend).into()
    ))
}

/// The Identity schema of the database.
pub(crate) fn identity_schema(connection: &mut AnyConnection) -> StoreResult<IdentitySchema> {
    diesel_any::on_backend!(connection, |inner| schema_of(inner), |backend| Err(
        diesel_any::DatabaseError::BackendDisabled(backend).into()
    ))
}

/// The migration calls on a [`Database`] pool, each on a pooled connection off the async
/// runtime (`use identity_diesel::IdentityMigrations as _` to call them as methods).
#[async_trait::async_trait]
pub trait IdentityMigrations {
    /// [`run_migrations`] on a pooled connection.
    async fn run_migrations(&self) -> Result<Vec<String>, DieselStoreError>;
    /// [`migration_status`] on a pooled connection.
    async fn migration_status(&self) -> Result<MigrationStatus, DieselStoreError>;
    /// [`pending_migrations`] on a pooled connection.
    async fn pending_migrations(&self) -> Result<Vec<String>, DieselStoreError>;
    /// [`revert_last_migration`] on a pooled connection.
    async fn revert_last_migration(&self) -> Result<Option<String>, DieselStoreError>;
    /// The Identity schema of the database.
    async fn identity_schema(&self) -> Result<IdentitySchema, DieselStoreError>;
}

#[async_trait::async_trait]
impl IdentityMigrations for Database {
    async fn run_migrations(&self) -> Result<Vec<String>, DieselStoreError> {
        self.run(run_migrations).await
    }

    async fn migration_status(&self) -> Result<MigrationStatus, DieselStoreError> {
        self.run(migration_status).await
    }

    async fn pending_migrations(&self) -> Result<Vec<String>, DieselStoreError> {
        self.run(pending_migrations).await
    }

    async fn revert_last_migration(&self) -> Result<Option<String>, DieselStoreError> {
        self.run(revert_last_migration).await
    }

    async fn identity_schema(&self) -> Result<IdentitySchema, DieselStoreError> {
        self.run(identity_schema).await
    }
}

//! What differs between backends for this crate's queries.
//!
//! Queries are written once with Diesel's query builder and run on the concrete connection
//! inside `AnyConnection` (see [`on_backend!`], diesel-any's dual-backend idiom), not through
//! Diesel's `MultiBackend`: that way upserts (`ON CONFLICT`), `RETURNING` and PostgreSQL's
//! `timestamptz` are available on both backends. What cannot be written once is in
//! [`StoreConnection`].

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel_any::{AnyConnection, Database};
use diesel_migrations::EmbeddedMigrations;

use crate::error::OperationalStoreError;

/// Runs `work` with a pooled connection on tokio's blocking threads ([`Database::run`]), with
/// this crate's error.
pub(crate) async fn run<T, F>(db: &Database, work: F) -> Result<T, OperationalStoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, OperationalStoreError> + Send + 'static,
{
    db.run(work).await
}

/// [`diesel_any::on_backend!`] with this crate's error for a backend it was built without.
macro_rules! on_backend {
    ($connection:expr, |$inner:ident| $body:expr) => {
        diesel_any::on_backend!($connection, |$inner| $body, |backend| {
            Err(diesel_any::DatabaseError::BackendDisabled(backend).into())
        })
    };
}
pub(crate) use on_backend;

/// What differs between the backends.
pub(crate) trait StoreConnection: Connection + SimpleConnection + Sized {
    /// This crate's migrations for the backend.
    const MIGRATIONS: EmbeddedMigrations;

    /// Runs `body` in a transaction that takes the write lock at its start where the backend
    /// needs that (SQLite's `BEGIN IMMEDIATE`, so that writers queue on the busy timeout and a
    /// check-then-write is never interleaved); commits on `Ok`, rolls back on `Err`.
    fn write_transaction<T>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<T, OperationalStoreError>,
    ) -> Result<T, OperationalStoreError>;

    /// Inside a [`write_transaction`](Self::write_transaction): waits until no other transaction
    /// can add or delete signing keys before this one ends.
    fn lock_signing_keys(&mut self) -> Result<(), OperationalStoreError>;

    /// Inside a [`write_transaction`](Self::write_transaction): waits until no other process is
    /// migrating this crate's tables.
    fn lock_migrations(&mut self) -> Result<(), OperationalStoreError>;
}

#[cfg(feature = "sqlite")]
impl StoreConnection for diesel::SqliteConnection {
    const MIGRATIONS: EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations/sqlite");

    fn write_transaction<T>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<T, OperationalStoreError>,
    ) -> Result<T, OperationalStoreError> {
        self.immediate_transaction(body)
    }

    /// SQLite has a single writer: the `BEGIN IMMEDIATE` transaction already holds the lock.
    fn lock_signing_keys(&mut self) -> Result<(), OperationalStoreError> {
        Ok(())
    }

    /// As [`lock_signing_keys`](Self::lock_signing_keys).
    fn lock_migrations(&mut self) -> Result<(), OperationalStoreError> {
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl StoreConnection for diesel::PgConnection {
    const MIGRATIONS: EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations/postgres");

    /// A plain `BEGIN` (read committed): row locks and the explicit locks below do the rest.
    fn write_transaction<T>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<T, OperationalStoreError>,
    ) -> Result<T, OperationalStoreError> {
        self.transaction(body)
    }

    /// `EXCLUSIVE` conflicts with every write and with itself, but not with plain reads, so
    /// loading keys never waits.
    fn lock_signing_keys(&mut self) -> Result<(), OperationalStoreError> {
        Ok(self.batch_execute("LOCK TABLE oidc_signing_keys IN EXCLUSIVE MODE")?)
    }

    /// A transaction-scoped advisory lock: the bookkeeping table may not exist yet, and two
    /// concurrent `CREATE TABLE IF NOT EXISTS` can still collide on PostgreSQL.
    fn lock_migrations(&mut self) -> Result<(), OperationalStoreError> {
        /// The lock's key, shared by every process migrating with this crate: "oidc-srv".
        const LOCK_KEY: i64 = i64::from_be_bytes(*b"oidc-srv");
        // Another instance may be migrating: wait for it, whatever the pool's lock timeout.
        Ok(self.batch_execute(&format!("SET LOCAL lock_timeout = 0; SELECT pg_advisory_xact_lock({LOCK_KEY})"))?)
    }
}

//! A Diesel store for `identity-core`, on SQLite and PostgreSQL, over the exact tables that
//! ASP.NET Core Identity's EF Core migrations create.
//!
//! A team moving from .NET points this store at its existing database: users, roles, claims,
//! logins, tokens and (schema version 3) passkeys are read and written in EF Core's formats, and
//! .NET password hashes keep working (they are upgraded to Argon2id on the next sign-in).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use identity_diesel::{Database, DieselStore, IdentityMigrations as _};
//! use std::sync::Arc;
//!
//! let db = Database::connect("sqlite://identity.db").await?;
//! db.run_migrations().await?;
//! let store = Arc::new(DieselStore::<()>::new(db).await?);
//! let users = identity_core::UserManager::builder(store.clone()).build();
//! # let _ = users; Ok(()) }
//! ```
//!
//! # Design
//!
//! - [`Database`] owns an r2d2 pool of [`AnyConnection`] (Diesel's `MultiConnection` over
//!   `PgConnection` and `SqliteConnection`). Every store call checks a connection out and runs
//!   synchronous Diesel code on tokio's blocking threads, so the async runtime never blocks.
//! - One table module serves both backends; the two columns whose types differ between EF Core's
//!   providers (`LockoutEnd`: `timestamp with time zone` / EF's text form, and the passkey `Data`:
//!   `jsonb` / `TEXT`) use SQL types of this crate with a serializer per backend.
//! - [`run_migrations`] creates the Identity schema (version 3) only when `AspNetUsers` does not
//!   exist, then applies this crate's embedded migrations, which only add objects of their own
//!   (the `identity_user_extensions` table for [`identity_core::UserExtension`] data, and indexes
//!   named `identity_…`). An existing EF Core schema is never altered.
//! - Writes that touch several rows run in one transaction; on SQLite write transactions begin
//!   with `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of failing.
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `sqlite` | The SQLite backend (system `libsqlite3`, 3.35 or later for `RETURNING`) | yes |
//! | `postgres` | The PostgreSQL backend (system `libpq`) | yes |
//! | `postgres-tests` | Runs the PostgreSQL integration tests against `IDENTITY_TEST_POSTGRES_URL` | no |

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("identity-diesel needs at least one backend: enable the `sqlite` or `postgres` feature");

mod error;
mod migrations;

/// The guides whose Rust snippets use this crate (the workspace README, this crate's README and
/// the migration guide), included so that the snippets compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../../../docs/migrating-from-aspnet-identity.md")]
pub struct Guides;
mod schema;
pub mod sql_types;
mod store;
mod transaction;

pub use diesel_any::{AnyConnection, Backend, Database, DatabaseError, DatabaseUrl, PoolOptions, establish};
pub use error::DieselStoreError;
pub use migrations::{
    IdentityMigrations, IdentitySchema, MigrationStatus, migration_status, pending_migrations, revert_last_migration,
    run_migrations,
};
pub use store::DieselStore;

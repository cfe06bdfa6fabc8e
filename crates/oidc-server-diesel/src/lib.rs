//! The operational store of [`oidc_server`] on SQLite and PostgreSQL: refresh tokens
//! ([`DieselPersistedGrantStore`]), signing keys ([`DieselSigningKeyStore`]) and sign-in sessions
//! ([`DieselSessionStore`]) that survive restarts and are shared by every server instance on the
//! database; and client definitions that a host administers at run time
//! ([`DieselClientDocuments`]).
//!
//! Both stores run on diesel-any's [`Database`] pool, the one `identity-diesel` uses too, so one
//! database (and one pool) can hold the Identity tables and the token server's tables side by
//! side; this crate does not depend on the identity crates.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use diesel_any::Database;
//! use oidc_server::{Clock as _, OidcServer, SystemClock};
//! use oidc_server_diesel::{DieselPersistedGrantStore, DieselSigningKeyStore};
//!
//! let db = Database::connect("postgres://oidc@localhost/identity").await?;
//! oidc_server_diesel::run_migrations(&db).await?;
//!
//! let grants = Arc::new(DieselPersistedGrantStore::new(db.clone()));
//! let server = OidcServer::builder("https://id.example.com")
//!     .persisted_grant_store(grants.clone())
//!     .signing_key_store(Arc::new(DieselSigningKeyStore::new(db)))
//!     .key_encryption_secret(std::env::var("KEY_ENCRYPTION_SECRET")?)
//!     // clients, resources, profile service, password validator…
//!     .build()
//!     .await?;
//!
//! // Now and then, e.g. hourly from a background task:
//! grants.remove_expired(SystemClock.now()).await?;
//! # let _ = server; Ok(()) }
//! ```
//!
//! # Design
//!
//! - **Tables.** `oidc_persisted_grants`, `oidc_signing_keys`, `oidc_server_sessions` and
//!   `oidc_clients`, created by this crate's embedded migrations ([`run_migrations`]), which
//!   are tracked in their own `oidc_schema_migrations` table rather than Diesel's shared one,
//!   so that neither crate's migration commands see the other's versions. Payloads are JSON in
//!   `TEXT` columns; times are UTC at microsecond precision (`timestamp with time zone` on
//!   PostgreSQL, fixed-width text on SQLite).
//! - **Queries** are written once with Diesel's query builder and run on the concrete
//!   connection inside diesel-any's [`AnyConnection`](diesel_any::AnyConnection), on
//!   tokio's blocking threads through [`Database::run`].
//! - **Consuming a refresh token** is one `UPDATE … WHERE consumed_time IS NULL RETURNING …`:
//!   of concurrent consumers exactly one gets the row back, on PostgreSQL because the condition
//!   is re-checked after the row lock is released, on SQLite because it runs in a
//!   `BEGIN IMMEDIATE` transaction (one writer at a time).
//! - **Adding a signing key unless a newer one exists** checks and inserts in one transaction
//!   that excludes other key writers: `BEGIN IMMEDIATE` on SQLite, `LOCK TABLE … IN EXCLUSIVE
//!   MODE` on PostgreSQL (plain reads of the keys never wait). Instances starting together
//!   therefore agree on one key.
//! - **Errors** are [`OperationalStoreError`], which the store traits report as
//!   [`oidc_server::Error::Store`].
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `sqlite` | The SQLite backend (diesel-any's `sqlite`) | yes |
//! | `postgres` | The PostgreSQL backend (diesel-any's `postgres`) | yes |
//! | `postgres-tests` | Runs the PostgreSQL integration tests against `IDENTITY_TEST_POSTGRES_URL` | no |

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("oidc-server-diesel needs at least one backend: enable the `sqlite` or `postgres` feature");

mod backend;
mod clients;
mod error;
mod grants;
mod keys;
mod migrations;
mod schema;
mod sessions;
mod time;

pub use clients::{DieselClientDocuments, StoredClientDocument};
pub use diesel_any::Database;
pub use error::OperationalStoreError;
pub use grants::DieselPersistedGrantStore;
pub use keys::DieselSigningKeyStore;
pub use migrations::{OperationalMigrationStatus, migration_status, revert_all_migrations, run_migrations};
pub use sessions::DieselSessionStore;

//! Diesel plumbing shared by the workspace's store crates (`identity-diesel`,
//! `oidc-server-diesel`): a [`DatabaseUrl`] parsed by scheme, [`AnyConnection`] over the
//! compiled-in backends, the r2d2 pool in [`Database`] with its blocking runner
//! ([`Database::run`]), [`write_transaction`] and [`on_backend!`].
//!
//! # One dual-backend idiom
//!
//! A store writes each query once with Diesel's query builder. Where Diesel's `MultiConnection`
//! runs it on both backends, the query takes `&mut AnyConnection`; where it does not (upserts,
//! `RETURNING` with backend-specific types, locks, migrations), [`on_backend!`] hands the body
//! the concrete `PgConnection` or `SqliteConnection`, and the body is compiled once per backend
//! against a small trait of the store's own that holds what really differs.
//!
//! # Feature flags
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `sqlite` | The SQLite backend (system `libsqlite3`, 3.35 or later for `RETURNING`) | yes |
//! | `postgres` | The PostgreSQL backend (system `libpq`) | yes |

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("diesel-any needs at least one backend: enable the `sqlite` or `postgres` feature");

mod connection;
mod error;
mod url;

pub use connection::{AnyConnection, Database, MultiBackend, PoolOptions, establish, write_transaction};
pub use error::DatabaseError;
pub use url::{Backend, DatabaseUrl};

/// Evaluates `$body` with `$inner` bound to the concrete connection (`&mut PgConnection` or
/// `&mut SqliteConnection`) inside an [`AnyConnection`], so the body is compiled once per
/// backend. The backend features are those of the calling crate: a connection of a backend the
/// caller left out evaluates `$disabled` with the [`Backend`] in `$backend`.
#[macro_export]
macro_rules! on_backend {
    ($connection:expr, |$inner:ident| $body:expr, |$backend:ident| $disabled:expr) => {
        match $connection {
            #[cfg(feature = "postgres")]
            $crate::AnyConnection::Postgresql($inner) => $body,
            #[cfg(feature = "sqlite")]
            $crate::AnyConnection::Sqlite($inner) => $body,
            #[allow(unreachable_patterns, reason = "reached when diesel-any has a backend the caller left out")]
            other => {
                let $backend = other.backend();
                $disabled
            }
        }
    };
}

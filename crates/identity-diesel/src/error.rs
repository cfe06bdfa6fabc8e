//! The crate's one error type, and its mapping onto [`identity_core::Error`].
//!
//! Connection failures, pool timeouts, SQLite's "database is locked" and PostgreSQL's
//! serialization failures become [`identity_core::Error::Unavailable`] (worth retrying); anything
//! else from the database becomes [`identity_core::Error::Store`]. Stored data that breaks an
//! invariant becomes [`identity_core::Error::InconsistentData`].

use crate::url::Backend;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DieselStoreError {
    /// A database URL that is not `sqlite://…`, `postgres://…` or `postgresql://…`, or is
    /// otherwise unusable.
    #[error("invalid database url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password hidden.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The URL names a backend this build does not include.
    #[error("the {0} backend is not compiled in (enable this crate's `{feature}` feature)", feature = .0.feature())]
    BackendDisabled(Backend),
    /// Invalid pool or store settings.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A connection could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    /// The pool gave no connection in time.
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A statement failed.
    #[error("database error: {0}")]
    Database(#[from] DieselError),
    /// Applying or reverting migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A value could not be written as JSON (a user extension whose `Serialize` fails).
    #[error("cannot serialize to JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Stored data that cannot be read back (a NULL claim type, malformed JSON).
    #[error("invalid stored data: {0}")]
    Data(String),
    /// The blocking task that ran the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl DieselStoreError {
    /// True when retrying the same operation later may succeed: the database was unreachable,
    /// busy, or the pool was exhausted.
    pub fn is_retryable(&self) -> bool {
        match self {
            DieselStoreError::Connection(_) | DieselStoreError::Pool(_) => true,
            DieselStoreError::Database(error) => is_transient(error),
            _ => false,
        }
    }
}

/// Whether a Diesel error is a transient condition of the server rather than a bad statement.
fn is_transient(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection => true,
            // SQLite reports SQLITE_BUSY and SQLITE_LOCKED as unknown errors with these messages.
            _ => {
                let message = info.message();
                message.contains("database is locked") || message.contains("database table is locked")
            }
        },
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

impl From<DieselStoreError> for identity_core::Error {
    fn from(error: DieselStoreError) -> Self {
        if error.is_retryable() {
            return identity_core::Error::Unavailable(error.to_string());
        }
        match error {
            DieselStoreError::Data(message) => identity_core::Error::InconsistentData(message),
            DieselStoreError::Config(message) => identity_core::Error::Configuration(message),
            other => identity_core::Error::Store(other.to_string()),
        }
    }
}

/// A result with [`DieselStoreError`].
pub(crate) type StoreResult<T> = Result<T, DieselStoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, message: &'static str) -> DieselStoreError {
        DieselStoreError::Database(DieselError::DatabaseError(kind, Box::new(Info(message))))
    }

    #[test]
    fn busy_and_serialization_failures_are_retryable() {
        let locked = database_error(DatabaseErrorKind::Unknown, "database is locked");
        assert!(matches!(identity_core::Error::from(locked), identity_core::Error::Unavailable(_)));
        let serialization = database_error(DatabaseErrorKind::SerializationFailure, "could not serialize access");
        assert!(identity_core::Error::from(serialization).is_retryable());
    }

    #[test]
    fn other_failures_are_store_errors() {
        let syntax = database_error(DatabaseErrorKind::Unknown, "near \"SELEC\": syntax error");
        assert!(matches!(identity_core::Error::from(syntax), identity_core::Error::Store(_)));
        let data = DieselStoreError::Data("bad json".to_owned());
        assert!(matches!(identity_core::Error::from(data), identity_core::Error::InconsistentData(_)));
    }
}

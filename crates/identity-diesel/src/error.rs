//! The crate's one error type, and its mapping onto [`identity_core::Error`].
//!
//! Connection failures, pool timeouts, SQLite's "database is locked" and PostgreSQL's
//! serialization failures become [`identity_core::Error::Unavailable`] (worth retrying); anything
//! else from the database becomes [`identity_core::Error::Store`]. Stored data that breaks an
//! invariant becomes [`identity_core::Error::InconsistentData`].

use diesel_any::DatabaseError;

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DieselStoreError {
    /// Opening, pooling or querying the database failed (see [`DatabaseError::is_retryable`]).
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// Invalid store settings, such as a database without the Identity schema.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Applying or reverting migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A value could not be written as JSON (a user extension whose `Serialize` fails).
    #[error("cannot serialize to JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Stored data that cannot be read back (a NULL claim type, malformed JSON).
    #[error("invalid stored data: {0}")]
    Data(String),
}

impl DieselStoreError {
    /// True when retrying the same operation later may succeed: the database was unreachable,
    /// busy, or the pool was exhausted.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DieselStoreError::Database(error) if error.is_retryable())
    }
}

impl From<diesel::result::Error> for DieselStoreError {
    fn from(error: diesel::result::Error) -> Self {
        DieselStoreError::Database(error.into())
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
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

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
        DieselStoreError::Database(DatabaseError::Query(DieselError::DatabaseError(kind, Box::new(Info(message)))))
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

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
    use diesel::result::Error as DieselError;

    /// Which database failures are transient is `diesel-any`'s decision (tested there); this
    /// crate maps that decision and its own errors onto `identity_core::Error`.
    #[test]
    fn retryable_failures_are_unavailable_and_others_are_store_errors() {
        let lost = DieselStoreError::Database(DatabaseError::Connection(diesel::ConnectionError::BadConnection(
            "server closed the connection".to_owned(),
        )));
        assert!(matches!(identity_core::Error::from(lost), identity_core::Error::Unavailable(_)));
        let statement = DieselStoreError::from(DieselError::NotFound);
        assert!(matches!(identity_core::Error::from(statement), identity_core::Error::Store(_)));
        let data = DieselStoreError::Data("bad json".to_owned());
        assert!(matches!(identity_core::Error::from(data), identity_core::Error::InconsistentData(_)));
        let config = DieselStoreError::Config("the database has no Identity schema".to_owned());
        assert!(matches!(identity_core::Error::from(config), identity_core::Error::Configuration(_)));
    }
}

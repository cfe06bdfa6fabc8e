//! The crate's one error type, and its mapping onto [`oidc_server::Error`].

use diesel_any::DatabaseError;

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperationalStoreError {
    /// The pool, the connection or a statement failed (see [`DatabaseError::is_retryable`]
    /// for whether trying again may help).
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// Applying or reverting this crate's migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value that cannot be read back, such as an unknown grant type or algorithm.
    #[error("invalid stored data: {0}")]
    InvalidData(String),
    /// A grant filter with a criterion this store does not know how to apply (one added to
    /// [`oidc_server::GrantFilter`] after this crate was written); refused rather than ignored,
    /// since ignoring it would remove more grants than asked.
    #[error("unsupported grant filter criterion in {0}")]
    UnsupportedFilter(String),
}

impl From<diesel::result::Error> for OperationalStoreError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

impl From<OperationalStoreError> for oidc_server::Error {
    fn from(error: OperationalStoreError) -> Self {
        match error {
            // Unreachable, busy beyond the timeout, or out of pooled connections: the endpoints
            // answer `temporarily_unavailable` instead of a server error.
            OperationalStoreError::Database(database) if database.is_retryable() => {
                oidc_server::Error::Unavailable(database.to_string())
            }
            error => oidc_server::Error::store(error),
        }
    }
}

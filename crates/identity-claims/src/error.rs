//! The crate's one error type.
//!
//! Store and manager failures from `identity-core` pass through unchanged as [`Error::Identity`];
//! the other variants are the cases where .NET's claims code throws.

/// Convenient result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while building or converting claims.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A store or manager failure, including a missing security stamp
    /// ([`identity_core::Error::NullSecurityStamp`]).
    #[error(transparent)]
    Identity(#[from] identity_core::Error),
    /// The user has no user name, so no user-name claim can be built (.NET's `Claim` rejects a
    /// null value).
    #[error("user {user_id} has no user name")]
    MissingUserName {
        /// The id of the user.
        user_id: String,
    },
    /// A claims principal without any identity reached code that adds claims to its first one.
    #[error("claims principal has no identity")]
    NoIdentity,
    /// A claim value type that is neither a known URI nor a known simple name.
    #[error("unknown claim value type `{0}`")]
    UnknownValueType(String),
}

impl Error {
    /// Whether retrying shortly may succeed: the store was unreachable or busy, or hashing
    /// refused the request before anything was done ([`identity_core::Error::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Identity(error) if error.is_retryable())
    }
}

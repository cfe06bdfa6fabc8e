//! The crate's one error type: failures that are not validation outcomes.
//!
//! Expected domain failures (a duplicate user name, a weak password, a stale concurrency stamp)
//! are values of [`crate::IdentityResult`]; this enum covers what .NET raises as exceptions:
//! a missing store capability, a store that cannot be reached, a misuse of the API.

/// Convenient result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in identity operations, apart from validation outcomes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store does not implement a capability the operation needs.
    #[error("store does not implement {0}")]
    NotSupported(crate::store::Capability),
    /// A user without a security stamp reached an operation that needs one.
    #[error("user security stamp cannot be null")]
    NullSecurityStamp,
    /// No token provider is registered under this name.
    #[error("no token provider named '{0}' is registered")]
    NoTokenProvider(String),
    /// A role named by the caller does not exist.
    #[error("role {0} does not exist")]
    RoleNotFound(String),
    /// An argument was empty or otherwise unusable.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter's name.
        name: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The stored data breaks an invariant the operation relies on (for example two users share
    /// a normalized email while an email lookup expects one).
    #[error("inconsistent data: {0}")]
    InconsistentData(String),
    /// The options are invalid (for example a zero iteration count).
    #[error("invalid configuration: {0}")]
    Configuration(String),
    /// The store could not be reached or timed out; the operation may succeed if retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other store failure.
    #[error("store failure: {0}")]
    Store(String),
    /// A blocking task (password hashing) was cancelled or panicked.
    #[error("background task failed: {0}")]
    Background(String),
    /// Every password-hashing thread is busy and the queue is full; retrying shortly may succeed.
    /// A sign-in is refused before anything is checked or counted toward lockout; an operation
    /// that hashes twice (a password change verifies, then hashes) may be refused at its second
    /// step, having changed nothing.
    #[error("password hashing is overloaded; retry shortly")]
    Overloaded,
}

impl Error {
    /// True when retrying the same operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Overloaded)
    }
}

//! The adapter's error type: identity and claims failures, converted into the token server's
//! extension-point error at the boundary.

/// What can fail inside the adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user store or a manager failed.
    #[error(transparent)]
    Identity(#[from] identity_core::Error),
    /// Building the user's claims failed.
    #[error(transparent)]
    Claims(#[from] identity_claims::Error),
}

impl From<Error> for oidc_server::Error {
    fn from(error: Error) -> Self {
        match error {
            // The store is unreachable or busy, or hashing refused the request before anything was
            // done: the endpoint answers `temporarily_unavailable`, not a failure.
            Error::Identity(identity_core::Error::Overloaded | identity_core::Error::Unavailable(_)) => {
                oidc_server::Error::Unavailable(error.to_string())
            }
            error => oidc_server::Error::service(error),
        }
    }
}

/// Convenient result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

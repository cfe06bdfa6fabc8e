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

impl Error {
    /// Whether retrying shortly may succeed: the store was unreachable or busy, or hashing
    /// refused the request before anything was done, whichever layer reports it (the claims
    /// factory passes the store's failures through).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Identity(error) => error.is_retryable(),
            Self::Claims(error) => error.is_retryable(),
        }
    }
}

impl From<Error> for oidc_server::Error {
    fn from(error: Error) -> Self {
        // A retryable failure makes the endpoint answer `temporarily_unavailable`, not fail.
        if error.is_retryable() {
            return oidc_server::Error::Unavailable(error.to_string());
        }
        oidc_server::Error::service(error)
    }
}

/// Convenient result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_store_is_unavailable_whichever_layer_reports_it() {
        let unavailable = || identity_core::Error::Unavailable("the database is down".into());
        for error in [Error::Identity(unavailable()), Error::Claims(identity_claims::Error::Identity(unavailable()))] {
            assert!(matches!(oidc_server::Error::from(error), oidc_server::Error::Unavailable(_)));
        }
        let other = Error::Claims(identity_claims::Error::NoIdentity);
        assert!(!matches!(oidc_server::Error::from(other), oidc_server::Error::Unavailable(_)));
    }
}

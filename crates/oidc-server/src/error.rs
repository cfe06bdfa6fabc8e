//! The crate's error type.
//!
//! [`Error`] covers failures that are not the client's fault: configuration mistakes, store and
//! extension-point failures, key handling and signing. Endpoints never show these to a client; they
//! log them and answer a generic `server_error`, or `temporarily_unavailable` for
//! [`Error::Unavailable`]. Protocol errors that *are* the client's fault are
//! answered with a [`crate::ErrorCode`] instead.

use std::error::Error as StdError;

/// A boxed error from a store or extension point implemented outside this crate.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Shorthand for results whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the server that is not a client's protocol error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server was configured inconsistently (found when building it).
    #[error("invalid server configuration: {0}")]
    Configuration(String),
    /// A client, resource, grant or signing-key store failed.
    #[error("store operation failed")]
    Store(#[source] BoxError),
    /// A host-provided extension point (profile service, password validator) failed.
    #[error("extension point failed")]
    Service(#[source] BoxError),
    /// A signing key could not be generated, protected, loaded or found, or signing with it
    /// failed.
    #[error("signing key error: {0}")]
    SigningKey(String),
    /// Creating or checking a JWT failed.
    #[error("JWT operation failed")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// A host's call into the interactive API could not be honoured: an unknown client, or a
    /// session that would not fit into a cookie.
    #[error("{0}")]
    Interaction(String),
    /// A stored record or token payload could not be (de)serialised.
    #[error("serialisation failed")]
    Serialization(#[from] serde_json::Error),
    /// The server cannot serve this request right now: a store is unreachable or busy beyond its
    /// timeout, or a host's password hashing is at its bound. Retrying shortly may succeed.
    /// Endpoints answer `temporarily_unavailable` (503 with `Retry-After`, or a redirect to the
    /// client from the authorize endpoint).
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl Error {
    /// Wraps a store implementation's own error.
    pub fn store(source: impl Into<BoxError>) -> Self {
        Self::Store(source.into())
    }

    /// Wraps an extension point's own error.
    pub fn service(source: impl Into<BoxError>) -> Self {
        Self::Service(source.into())
    }
}

//! The binary's one error type: a message for the person at the terminal.
//!
//! Every failure ends as one line on stderr and a non-zero exit code, so the error is just its
//! text, with the chain of causes of library errors spelled out.

use std::fmt;

/// A failure of a command, already worded for the user.
#[derive(Debug)]
pub(crate) struct Failure(String);

/// Shorthand for results of commands.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    /// A failure with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// A failure that says what was being done when `error` happened.
    pub(crate) fn context(doing: impl fmt::Display, error: impl Into<Failure>) -> Self {
        Self(format!("{doing}: {}", error.into().0))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The error's message followed by those of its sources, so that a wrapper such as
/// "store operation failed" still says what the store said.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

macro_rules! from_error {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Failure {
            fn from(error: $error) -> Self {
                Self(with_sources(&error))
            }
        })*
    };
}

from_error!(
    std::io::Error,
    identity_core::Error,
    identity_diesel::DatabaseError,
    identity_diesel::DieselStoreError,
    oidc_server::Error,
    oidc_server_diesel::OperationalStoreError,
    lettre::address::AddressError,
    lettre::error::Error,
    lettre::transport::smtp::Error,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_errors_keep_their_causes() {
        let store = oidc_server::Error::store(std::io::Error::other("disk on fire"));
        assert_eq!(Failure::from(store).to_string(), "store operation failed: disk on fire");
        let failure = Failure::context("cannot start", Failure::new("no database"));
        assert_eq!(failure.to_string(), "cannot start: no database");
    }
}

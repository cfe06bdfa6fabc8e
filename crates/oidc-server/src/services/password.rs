//! The resource owner password credentials grant's extension point.
//!
//! There is deliberately no default implementation: the password grant is available only when
//! the host registers a validator *and* the client lists [`crate::GrantType::Password`].

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::claims::Subject;
use crate::error::Result;
use crate::model::client::Client;
use crate::model::resources::RequestedResources;
use crate::protocol::error::ErrorCode;

/// The outcome of password validation.
#[derive(Debug, Clone, PartialEq)]
pub enum GrantValidationResult {
    /// The credentials are valid for this subject.
    Success(Subject),
    /// The credentials were rejected.
    Error {
        /// The error code; normally [`ErrorCode::InvalidGrant`].
        error: ErrorCode,
        /// A description for the client. For `invalid_grant` the server answers
        /// `invalid_username_or_password` when this is `None`, so that locked-out, unknown and
        /// wrong-password users look alike.
        description: Option<String>,
    },
}

/// IdentityServer's description of every failed password grant (`invalid_grant`), so that
/// locked-out, unknown and wrong-password users look alike.
pub const INVALID_CREDENTIALS: &str = "invalid_username_or_password";

/// The input and output of [`ResourceOwnerPasswordValidator::validate`].
#[non_exhaustive]
pub struct ResourceOwnerPasswordValidationContext<'a> {
    /// The `username` parameter.
    pub user_name: String,
    /// The `password` parameter.
    pub password: String,
    /// The authenticated client.
    pub client: &'a Client,
    /// The resources the client asked for (already validated).
    pub requested_resources: &'a RequestedResources,
    /// The server's current time, for `auth_time`.
    pub request_time: DateTime<Utc>,
    /// Output. Starts as `invalid_grant`.
    pub result: GrantValidationResult,
}

impl<'a> ResourceOwnerPasswordValidationContext<'a> {
    /// A context whose result starts as `invalid_grant`.
    pub fn new(
        user_name: String,
        password: String,
        client: &'a Client,
        requested_resources: &'a RequestedResources,
        request_time: DateTime<Utc>,
    ) -> Self {
        Self {
            user_name,
            password,
            client,
            requested_resources,
            request_time,
            result: GrantValidationResult::Error { error: ErrorCode::InvalidGrant, description: None },
        }
    }

    /// Marks the credentials valid for a locally authenticated user: `idp=local`, `amr=[method]`,
    /// `auth_time` = the request time.
    pub fn succeed(&mut self, subject_id: impl Into<String>, authentication_method: impl Into<String>) {
        let subject = Subject::new(subject_id, authentication_method, self.request_time);
        self.succeed_with(subject);
    }

    /// Marks the credentials valid for `subject` (for extra claims or another `idp`).
    pub fn succeed_with(&mut self, subject: Subject) {
        self.result = GrantValidationResult::Success(subject);
    }

    /// Rejects the credentials with `invalid_grant` and an optional description.
    pub fn fail(&mut self, description: Option<String>) {
        self.result = GrantValidationResult::Error { error: ErrorCode::InvalidGrant, description };
    }
}

impl fmt::Debug for ResourceOwnerPasswordValidationContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceOwnerPasswordValidationContext")
            .field("user_name", &self.user_name)
            .field("password", &"[redacted]")
            .field("client", &self.client.client_id)
            .field("requested_resources", &self.requested_resources)
            .field("request_time", &self.request_time)
            .field("result", &self.result)
            .finish()
    }
}

/// Checks a user name and password; the host's bridge to its user store.
#[async_trait]
pub trait ResourceOwnerPasswordValidator: Send + Sync {
    /// Sets `context.result`. Leave it untouched (or call
    /// [`ResourceOwnerPasswordValidationContext::fail`]) to reject.
    async fn validate(&self, context: &mut ResourceOwnerPasswordValidationContext<'_>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::resources::Resources;

    #[test]
    fn results_start_as_invalid_grant_and_success_sets_session_facts() {
        let client = Client::new("c");
        let resources = RequestedResources::new(Vec::new(), Resources::default());
        let now = test_support::clock::start();
        let mut context =
            ResourceOwnerPasswordValidationContext::new("alice".into(), "hunter2".into(), &client, &resources, now);
        assert!(matches!(
            context.result,
            GrantValidationResult::Error { error: ErrorCode::InvalidGrant, description: None }
        ));
        assert!(!format!("{context:?}").contains("hunter2"));
        context.succeed("1", "pwd");
        let GrantValidationResult::Success(subject) = &context.result else {
            panic!("expected success");
        };
        assert_eq!(subject.authentication_methods, ["pwd"]);
        assert_eq!(subject.identity_provider, "local");
        assert_eq!(subject.authentication_time, now);
    }
}

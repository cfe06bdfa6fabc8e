//! The resource-owner password validator: Duende's `ResourceOwnerPasswordValidator<TUser>`.
//!
//! Every failure (unknown user, locked out, not allowed, wrong password, two-factor required)
//! answers `invalid_grant` with the same description; only the log line says which. An unknown
//! or locked-out user still costs one password verification at the current cost, so response
//! times do not reveal which user names exist.
//!
//! A user to whom two-factor applies is refused: the grant has no second step. A client whose
//! [`ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR`] property is `"true"` gets Duende's behaviour instead
//! (the password alone suffices), which is weaker and meant for first-party clients that check a
//! second factor themselves.

use crate::Result;
use crate::session::password_session_subject;
use async_trait::async_trait;
use identity_core::{SignInManager, SignInResult, UserExtension};
use oidc_server::{INVALID_CREDENTIALS, ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator};
use std::sync::Arc;

/// The client property (`Client::properties`) that lets a client's password grant sign in users
/// with two-factor enabled on the password alone, when set to `"true"`.
pub const ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR: &str = "allow_password_grant_with_two_factor";

/// Checks user names and passwords against the identity store, with lockout on failure.
pub struct IdentityPasswordValidator<X: UserExtension> {
    sign_in: Arc<SignInManager<X>>,
}

impl<X: UserExtension> std::fmt::Debug for IdentityPasswordValidator<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityPasswordValidator").finish_non_exhaustive()
    }
}

impl<X: UserExtension> IdentityPasswordValidator<X> {
    /// A validator signing in through `sign_in`.
    pub fn new(sign_in: Arc<SignInManager<X>>) -> Self {
        Self { sign_in }
    }

    async fn check(&self, context: &mut ResourceOwnerPasswordValidationContext<'_>) -> Result<()> {
        let two_factor_waived =
            context.client.properties.get(ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR).is_some_and(|value| value == "true");
        let (result, user) =
            self.sign_in.password_sign_in(&context.user_name, &context.password, true, two_factor_waived).await?;
        let reason = match (result, user) {
            (SignInResult::Success, Some(user)) => {
                tracing::info!(user_name = ?context.user_name, "credentials validated");
                // With the security stamp, as a browser session has it, so that the tokens are
                // bound to it.
                let users = self.sign_in.user_manager();
                let subject = password_session_subject(users, &user, context.request_time).await?;
                context.succeed_with(subject);
                return Ok(());
            }
            (_, None) => "no user found matching user name",
            (SignInResult::LockedOut, _) => "locked out",
            (SignInResult::NotAllowed, _) => "not allowed",
            (SignInResult::TwoFactorRequired, _) => "two-factor required",
            _ => "invalid credentials",
        };
        tracing::info!(user_name = ?context.user_name, reason, "password grant failed");
        context.fail(Some(INVALID_CREDENTIALS.to_owned()));
        Ok(())
    }
}

#[async_trait]
impl<X: UserExtension> ResourceOwnerPasswordValidator for IdentityPasswordValidator<X> {
    async fn validate(&self, context: &mut ResourceOwnerPasswordValidationContext<'_>) -> oidc_server::Result<()> {
        Ok(self.check(context).await?)
    }
}

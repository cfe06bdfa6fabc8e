//! Email: setting, confirming and changing the address with tokens of the configured providers.

use super::{CONFIRM_EMAIL_PURPOSE, UserManager, change_email_purpose};
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::Capability;

impl<X: UserExtension> UserManager<X> {
    /// Sets the email, marks it unconfirmed and rotates the stamp.
    pub async fn set_email(&self, user: &mut IdentityUser<X>, email: Option<&str>) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        user.email = email.map(str::to_owned);
        user.email_confirmed = false;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Whether the email is confirmed.
    pub async fn is_email_confirmed(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.email_store, Capability::Email);
        Ok(user.email_confirmed)
    }

    /// An email confirmation token.
    pub async fn generate_email_confirmation_token(&self, user: &IdentityUser<X>) -> Result<String> {
        let provider = self.options.tokens.email_confirmation_token_provider.clone();
        self.generate_user_token(user, &provider, CONFIRM_EMAIL_PURPOSE).await
    }

    /// Confirms the email with a token (no stamp rotation).
    pub async fn confirm_email(&self, user: &mut IdentityUser<X>, token: &str) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        let provider = self.options.tokens.email_confirmation_token_provider.clone();
        if !self.verify_user_token(user, &provider, CONFIRM_EMAIL_PURPOSE, token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.email_confirmed = true;
        self.update_user(user).await
    }

    /// A token that authorizes changing the email to `new_email`.
    pub async fn generate_change_email_token(&self, user: &IdentityUser<X>, new_email: &str) -> Result<String> {
        let provider = self.options.tokens.change_email_token_provider.clone();
        self.generate_user_token(user, &provider, &change_email_purpose(new_email)).await
    }

    /// Changes the email with a change-email token; the new email counts as confirmed.
    pub async fn change_email(
        &self,
        user: &mut IdentityUser<X>,
        new_email: &str,
        token: &str,
    ) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        let provider = self.options.tokens.change_email_token_provider.clone();
        if !self.verify_user_token(user, &provider, &change_email_purpose(new_email), token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.email = Some(new_email.to_owned());
        user.email_confirmed = true;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }
}

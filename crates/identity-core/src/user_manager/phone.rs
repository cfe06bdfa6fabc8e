//! Phone number: setting, confirming and changing it with change-phone-number tokens.

use super::{CHANGE_PHONE_NUMBER_PURPOSE, UserManager};
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::Capability;

fn change_phone_number_purpose(phone_number: &str) -> String {
    format!("{CHANGE_PHONE_NUMBER_PURPOSE}:{phone_number}")
}

impl<X: UserExtension> UserManager<X> {
    /// Sets the phone number, marks it unconfirmed and rotates the stamp.
    pub async fn set_phone_number(
        &self,
        user: &mut IdentityUser<X>,
        phone_number: Option<&str>,
    ) -> Result<IdentityResult> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        user.phone_number = phone_number.map(str::to_owned);
        user.phone_number_confirmed = false;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Whether the phone number is confirmed.
    pub async fn is_phone_number_confirmed(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        Ok(user.phone_number_confirmed)
    }

    /// A token that authorizes changing the phone number to `phone_number`.
    pub async fn generate_change_phone_number_token(
        &self,
        user: &IdentityUser<X>,
        phone_number: &str,
    ) -> Result<String> {
        let provider = self.options.tokens.change_phone_number_token_provider.clone();
        self.generate_user_token(user, &provider, &change_phone_number_purpose(phone_number)).await
    }

    /// Whether a change-phone-number token is valid for `phone_number`.
    pub async fn verify_change_phone_number_token(
        &self,
        user: &IdentityUser<X>,
        token: &str,
        phone_number: &str,
    ) -> Result<bool> {
        let provider = self.options.tokens.change_phone_number_token_provider.clone();
        self.verify_user_token(user, &provider, &change_phone_number_purpose(phone_number), token).await
    }

    /// Changes the phone number with a token; the new number counts as confirmed.
    pub async fn change_phone_number(
        &self,
        user: &mut IdentityUser<X>,
        phone_number: &str,
        token: &str,
    ) -> Result<IdentityResult> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        if !self.verify_change_phone_number_token(user, token, phone_number).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.phone_number = Some(phone_number.to_owned());
        user.phone_number_confirmed = true;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }
}

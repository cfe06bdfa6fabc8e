//! Two-factor authentication: second-factor providers and tokens, the two-factor flag, the
//! authenticator key and recovery codes.

use super::{TWO_FACTOR_PURPOSE, UserManager};
use crate::base32;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::{Capability, UserAuthenticatorKeyStore, UserTwoFactorRecoveryCodeStore};

impl<X: UserExtension> UserManager<X> {
    /// Names of the providers that can serve as a second factor for the user, in registration order.
    pub async fn get_valid_two_factor_providers(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for (name, provider) in &self.token_providers {
            if provider.can_generate_two_factor_token(self, user).await? {
                names.push(name.clone());
            }
        }
        Ok(names)
    }

    /// A two-factor sign-in token from the named provider.
    pub async fn generate_two_factor_token(&self, user: &IdentityUser<X>, provider: &str) -> Result<String> {
        self.token_provider(provider)?.generate(TWO_FACTOR_PURPOSE, self, user).await
    }

    /// Whether a two-factor sign-in token from the named provider is valid.
    pub async fn verify_two_factor_token(&self, user: &IdentityUser<X>, provider: &str, token: &str) -> Result<bool> {
        let valid = self.token_provider(provider)?.validate(TWO_FACTOR_PURPOSE, token, self, user).await?;
        if !valid {
            tracing::debug!("verify two-factor token failed for user");
        }
        Ok(valid)
    }

    /// Whether two-factor authentication is enabled.
    pub async fn get_two_factor_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.two_factor_store, Capability::TwoFactor);
        Ok(user.two_factor_enabled)
    }

    /// Enables or disables two-factor authentication and rotates the stamp.
    pub async fn set_two_factor_enabled(&self, user: &mut IdentityUser<X>, enabled: bool) -> Result<IdentityResult> {
        require!(self.two_factor_store, Capability::TwoFactor);
        user.two_factor_enabled = enabled;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The authenticator key.
    pub async fn get_authenticator_key(&self, user: &IdentityUser<X>) -> Result<Option<String>> {
        let store: &dyn UserAuthenticatorKeyStore<X> =
            require!(self.authenticator_key_store, Capability::AuthenticatorKey);
        store.get_authenticator_key(user).await
    }

    /// Replaces the authenticator key with a fresh one and rotates the stamp.
    pub async fn reset_authenticator_key(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticatorKeyStore<X> =
            require!(self.authenticator_key_store, Capability::AuthenticatorKey);
        store.set_authenticator_key(user, &base32::new_authenticator_key()).await?;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Replaces the recovery codes with `count` fresh ones and returns them; `None` when the user
    /// could not be written.
    pub async fn generate_new_two_factor_recovery_codes(
        &self,
        user: &mut IdentityUser<X>,
        count: usize,
    ) -> Result<Option<Vec<String>>> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        let codes: Vec<String> = (0..count).map(|_| base32::new_recovery_code()).collect();
        let mut distinct: Vec<String> = Vec::with_capacity(codes.len());
        for code in &codes {
            if !distinct.contains(code) {
                distinct.push(code.clone());
            }
        }
        store.replace_codes(user, &distinct).await?;
        Ok(self.update_user(user).await?.succeeded().then_some(codes))
    }

    /// Redeems a recovery code once; `RecoveryCodeRedemptionFailed` when it is not valid.
    pub async fn redeem_two_factor_recovery_code(
        &self,
        user: &mut IdentityUser<X>,
        code: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        if store.redeem_code(user, code).await? {
            return self.update_user(user).await;
        }
        Ok(IdentityResult::failed([self.describer.recovery_code_redemption_failed()]))
    }

    /// Redeems a recovery code for a sign-in: only the store's atomic redemption, without
    /// writing the user row, so that a sign-in racing other attempts on the same user (which
    /// rotate the concurrency stamp as they count failures) does not consume the code and then
    /// fail on a stale copy. The sign-in settles the user's lockout state afterwards.
    pub(crate) async fn redeem_recovery_code_for_sign_in(&self, user: &IdentityUser<X>, code: &str) -> Result<bool> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        store.redeem_code(user, code).await
    }

    /// How many recovery codes remain.
    pub async fn count_recovery_codes(&self, user: &IdentityUser<X>) -> Result<usize> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        store.count_codes(user).await
    }
}

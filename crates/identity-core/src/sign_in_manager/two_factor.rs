//! The second step of a two-factor sign-in, as .NET's `SignInManager` completes it: a code from
//! a token provider (`TwoFactorSignInAsync`), from the authenticator app
//! (`TwoFactorAuthenticatorSignInAsync`) or a recovery code
//! (`TwoFactorRecoveryCodeSignInAsync`), and "remember this browser"
//! (`RememberTwoFactorClientAsync`, `IsTwoFactorClientRememberedAsync` with the stamp check of
//! `TwoFactorSecurityStampValidator`).
//!
//! Cookies stay a host concern: the host keeps the pending user between the password and the
//! code (.NET's `Identity.TwoFactorUserId` cookie) and passes it in here, and it keeps the
//! [`TwoFactorClientToken`] in a sealed cookie; forgetting a browser (.NET's
//! `ForgetTwoFactorClientAsync`) is deleting that cookie, and every remembered browser is
//! forgotten at once by rotating the security stamp.
//!
//! Every code is one attempt against the lockout state, reserved and settled as a password is
//! (see [`SignInManager::check_password_sign_in`]): wrong codes count toward lockout even when
//! they race, a right one resets the count. Stricter than .NET, recovery codes count too (.NET
//! does not, trusting their randomness) and a locked-out user cannot use one: a recovery code
//! must not be a way around a lockout.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::attempt::Credential;
use super::{SignInManager, SignInResult};
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::tokens::without_separators;

/// What a browser that passed two-factor keeps to skip it next time (.NET's
/// `Identity.TwoFactorRememberMe` cookie): the user and a hash of their security stamp, so that
/// any stamp change (a new password, two-factor reset, "sign out everywhere") forgets every
/// remembered browser. Hosts seal it before it reaches the browser.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorClientToken {
    /// The user's id.
    pub user_id: String,
    /// Base64url of the SHA-256 of the user's security stamp when the browser was remembered.
    pub security_stamp_hash: String,
}

impl std::fmt::Debug for TwoFactorClientToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorClientToken").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

/// The hash of a security stamp kept in a [`TwoFactorClientToken`].
fn stamp_hash(stamp: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(stamp.as_bytes()))
}

/// A recovery code as people type it: without spaces (its dash is part of it, `XXXXX-XXXXX`).
fn without_spaces(code: &str) -> String {
    code.chars().filter(|character| !character.is_whitespace()).collect()
}

impl<X: UserExtension> SignInManager<X> {
    /// Completes a two-factor sign-in of `user` (who gave the right password) with a code from
    /// the token provider named `provider`: `Success` resets the failure count; a wrong code
    /// counts as a failure and gives `Failed`, or `LockedOut` once the maximum is reached; a
    /// locked-out user gets `LockedOut` without the code being looked at. `user` is updated in
    /// place with what the store wrote.
    pub async fn two_factor_sign_in(
        &self,
        user: &mut IdentityUser<X>,
        provider: &str,
        code: &str,
    ) -> Result<SignInResult> {
        let credential = Credential::TwoFactorCode { provider: provider.to_owned(), code: without_separators(code) };
        Ok(self.check_credential(user, credential, true, false).await?.0)
    }

    /// [`Self::two_factor_sign_in`] with the authenticator app's provider
    /// (`IdentityOptions::tokens.authenticator_token_provider`).
    pub async fn two_factor_authenticator_sign_in(
        &self,
        user: &mut IdentityUser<X>,
        code: &str,
    ) -> Result<SignInResult> {
        let provider = self.users.options().tokens.authenticator_token_provider.clone();
        self.two_factor_sign_in(user, &provider, code).await
    }

    /// Completes a two-factor sign-in of `user` with one of their recovery codes, which is
    /// consumed: it works once, even when two requests present it at the same time. Counted
    /// toward lockout like any code (see the module documentation).
    pub async fn two_factor_recovery_code_sign_in(
        &self,
        user: &mut IdentityUser<X>,
        recovery_code: &str,
    ) -> Result<SignInResult> {
        let credential = Credential::RecoveryCode(without_spaces(recovery_code));
        Ok(self.check_credential(user, credential, true, false).await?.0)
    }

    /// The token that remembers this browser for `user` after a two-factor sign-in
    /// ("remember this browser"); valid until the user's security stamp changes.
    pub async fn remember_two_factor_client(&self, user: &IdentityUser<X>) -> Result<TwoFactorClientToken> {
        let stamp = self.current_stamp(user).await?;
        Ok(TwoFactorClientToken { user_id: user.id.clone(), security_stamp_hash: stamp_hash(&stamp) })
    }

    /// Whether `token` (from the browser's cookie, if it sent one) remembers this browser for
    /// `user`: it names the user and was made with their current security stamp.
    pub async fn is_two_factor_client_remembered(
        &self,
        user: &IdentityUser<X>,
        token: Option<&TwoFactorClientToken>,
    ) -> Result<bool> {
        let Some(token) = token else {
            return Ok(false);
        };
        if token.user_id != user.id {
            return Ok(false);
        }
        let current = stamp_hash(&self.current_stamp(user).await?);
        Ok(bool::from(current.as_bytes().ct_eq(token.security_stamp_hash.as_bytes())))
    }

    /// The user's security stamp; empty when the store keeps none (a remembered browser then
    /// stays remembered until its cookie expires, as in .NET).
    async fn current_stamp(&self, user: &IdentityUser<X>) -> Result<String> {
        if !self.users.supports_user_security_stamp() {
            return Ok(String::new());
        }
        self.users.get_security_stamp(user).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_removed_from_codes() {
        assert_eq!(without_separators(" 123 456 "), "123456");
        assert_eq!(without_separators("123-456"), "123456");
        assert_eq!(without_spaces(" ABCDE-FGHIJ "), "ABCDE-FGHIJ");
    }

    #[test]
    fn the_stamp_is_kept_only_as_a_hash() {
        let hash = stamp_hash("STAMP");
        assert_eq!(hash.len(), 43);
        assert!(!hash.contains("STAMP"));
        let token = TwoFactorClientToken { user_id: "u".into(), security_stamp_hash: hash };
        assert!(!format!("{token:?}").contains(&token.security_stamp_hash));
    }
}

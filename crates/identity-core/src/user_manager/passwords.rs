//! Passwords: checking (with the upgrade of outdated hashes), adding, changing, removing and resetting
//! them; every change goes through the validators and rotates the security stamp.

use super::{RESET_PASSWORD_PURPOSE, UserManager};
use crate::error::{Error, Result};
use crate::hashing_pool::HashingSlot;
use crate::model::{IdentityUser, UserExtension};
use crate::password_hasher::PasswordVerificationResult;
use crate::result::IdentityResult;
use crate::store::Capability;

impl<X: UserExtension> UserManager<X> {
    /// Verifies `password` against the user's hash, in `slot` when the caller reserved one.
    async fn verify_password(
        &self,
        user: &IdentityUser<X>,
        password: &str,
        slot: Option<HashingSlot>,
    ) -> Result<PasswordVerificationResult> {
        match (user.password_hash.as_deref(), slot) {
            (None, _) => Ok(PasswordVerificationResult::Failed),
            (Some(hash), Some(slot)) => slot.verify(hash, password).await,
            (Some(hash), None) => self.hashing.verify(hash, password).await,
        }
    }

    /// Whether `password` is the user's password. A hash in an outdated format (an imported
    /// ASP.NET Identity hash, weaker Argon2 parameters) is replaced by a current one on success,
    /// which rotates the stamp as .NET does; a failure to write the new hash does not fail the check
    /// and leaves `user` with the hash and stamp that are stored (a copy changed since it was read
    /// fails to write, and keeps what it had).
    pub async fn check_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<bool> {
        self.check_password_in(user, password, None).await
    }

    /// [`Self::check_password`], verifying in `slot` when the caller reserved one (a sign-in
    /// reserves it before its lockout attempt). The upgrade of an outdated hash is skipped when
    /// the pool is full: it happens at a later sign-in.
    pub(crate) async fn check_password_in(
        &self,
        user: &mut IdentityUser<X>,
        password: &str,
        slot: Option<HashingSlot>,
    ) -> Result<bool> {
        require!(self.password_store, Capability::Password);
        let result = self.verify_password(user, password, slot).await?;
        if result == PasswordVerificationResult::SuccessRehashNeeded {
            let (stored_hash, stored_stamp) = (user.password_hash.clone(), user.security_stamp.clone());
            let saved = match self.update_password_hash(user, Some(password), false).await {
                Ok(rehash) => {
                    let written = if rehash.succeeded() { self.update_user(user).await? } else { rehash };
                    if !written.succeeded() {
                        tracing::warn!(result = %written, "upgraded password hash could not be saved");
                    }
                    written.succeeded()
                }
                Err(Error::Overloaded) => {
                    tracing::info!("outdated password hash kept while hashing is overloaded");
                    false
                }
                Err(error) => return Err(error),
            };
            if !saved {
                user.password_hash = stored_hash;
                user.security_stamp = stored_stamp;
            }
        }
        if result == PasswordVerificationResult::Failed {
            tracing::debug!("invalid password for user");
        }
        Ok(result != PasswordVerificationResult::Failed)
    }

    /// Whether the user has a password.
    pub async fn has_password(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.password_store, Capability::Password);
        Ok(user.password_hash.is_some())
    }

    /// Sets a first password; `UserAlreadyHasPassword` when one exists.
    pub async fn add_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        if user.password_hash.is_some() {
            tracing::debug!("user already has a password");
            return Ok(IdentityResult::failed([self.describer.user_already_has_password()]));
        }
        let result = self.update_password_hash(user, Some(password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// Changes the password after checking the current one (`PasswordMismatch` otherwise).
    pub async fn change_password(
        &self,
        user: &mut IdentityUser<X>,
        current_password: &str,
        new_password: &str,
    ) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        if self.verify_password(user, current_password, None).await? == PasswordVerificationResult::Failed {
            tracing::debug!("change password failed for user");
            return Ok(IdentityResult::failed([self.describer.password_mismatch()]));
        }
        let result = self.update_password_hash(user, Some(new_password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// Removes the password.
    pub async fn remove_password(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let result = self.update_password_hash(user, None, false).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// A password reset token from the configured provider.
    pub async fn generate_password_reset_token(&self, user: &IdentityUser<X>) -> Result<String> {
        let provider = self.options.tokens.password_reset_token_provider.clone();
        self.generate_user_token(user, &provider, RESET_PASSWORD_PURPOSE).await
    }

    /// Resets the password with a reset token. On an invalid token or a rejected password nothing
    /// changes.
    pub async fn reset_password(
        &self,
        user: &mut IdentityUser<X>,
        token: &str,
        new_password: &str,
    ) -> Result<IdentityResult> {
        let provider = self.options.tokens.password_reset_token_provider.clone();
        if !self.verify_user_token(user, &provider, RESET_PASSWORD_PURPOSE, token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        self.replace_password(user, new_password).await
    }

    /// Replaces the password (or sets a first one) without asking for the current one, as an
    /// administrator does: checked against the password rules, then stored with a new security
    /// stamp in one write, so that no crash can leave the user without any password (as .NET's
    /// `RemovePasswordAsync` then `AddPasswordAsync` can). A rejected password changes nothing.
    pub async fn replace_password(&self, user: &mut IdentityUser<X>, new_password: &str) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        // A rejected password returns before `user` is touched.
        let result = self.update_password_hash(user, Some(new_password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }
}

//! `SignInManager`: the password sign-in check with ASP.NET Core Identity's order of checks
//! (not allowed, locked out, password, failure counting), and security-stamp validation.
//!
//! Cookies and schemes are a host concern; this type answers "may this user sign in with this
//! password now", which is what both a login page and the password grant need.

use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;

/// The outcome of a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInResult {
    /// The credentials are valid and the user may sign in.
    Success,
    /// The credentials are wrong (or the user is unknown).
    Failed,
    /// The user is locked out.
    LockedOut,
    /// The user may not sign in (an unconfirmed email or phone number that the options require).
    NotAllowed,
    /// A second factor is required.
    TwoFactorRequired,
}

impl SignInResult {
    /// True on success.
    pub fn succeeded(self) -> bool {
        self == SignInResult::Success
    }
}

impl std::fmt::Display for SignInResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignInResult::Success => "Succeeded",
            SignInResult::Failed => "Failed",
            SignInResult::LockedOut => "Lockedout",
            SignInResult::NotAllowed => "NotAllowed",
            SignInResult::TwoFactorRequired => "RequiresTwoFactor",
        })
    }
}

/// Checks sign-in attempts against a [`UserManager`].
#[derive(Debug)]
pub struct SignInManager<X: UserExtension = ()> {
    users: Arc<UserManager<X>>,
    /// A hash of a random password at the current cost, verified when the user name is unknown so
    /// that the response time does not reveal whether a user exists.
    dummy_hash: OnceLock<String>,
}

impl<X: UserExtension> SignInManager<X> {
    /// A sign-in manager over `users`.
    pub fn new(users: Arc<UserManager<X>>) -> Self {
        Self { users, dummy_hash: OnceLock::new() }
    }

    /// The user manager.
    pub fn user_manager(&self) -> &Arc<UserManager<X>> {
        &self.users
    }

    /// Whether the options allow the user to sign in (confirmed email / phone / account).
    pub async fn can_sign_in(&self, user: &IdentityUser<X>) -> Result<bool> {
        let options = &self.users.options().sign_in;
        if options.require_confirmed_email && !self.users.is_email_confirmed(user).await? {
            tracing::debug!("user cannot sign in without a confirmed email");
            return Ok(false);
        }
        if options.require_confirmed_phone_number && !self.users.is_phone_number_confirmed(user).await? {
            tracing::debug!("user cannot sign in without a confirmed phone number");
            return Ok(false);
        }
        if options.require_confirmed_account && !self.users.is_email_confirmed(user).await? {
            tracing::debug!("user cannot sign in without a confirmed account");
            return Ok(false);
        }
        Ok(true)
    }

    async fn is_locked_out(&self, user: &IdentityUser<X>) -> Result<bool> {
        Ok(self.users.supports_user_lockout() && self.users.is_locked_out(user).await?)
    }

    /// The checks that run before the password is looked at: `NotAllowed`, then `LockedOut`.
    pub async fn pre_sign_in_check(&self, user: &IdentityUser<X>) -> Result<Option<SignInResult>> {
        if !self.can_sign_in(user).await? {
            return Ok(Some(SignInResult::NotAllowed));
        }
        if self.is_locked_out(user).await? {
            tracing::debug!("user is currently locked out");
            return Ok(Some(SignInResult::LockedOut));
        }
        Ok(None)
    }

    /// Whether two-factor sign-in applies: enabled for the user and at least one provider can
    /// generate a code for them.
    pub async fn is_two_factor_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        Ok(self.users.supports_user_two_factor()
            && self.users.get_two_factor_enabled(user).await?
            && !self.users.get_valid_two_factor_providers(user).await?.is_empty())
    }

    /// Checks a password for `user`, as .NET's `CheckPasswordSignInAsync`:
    /// 1. `NotAllowed` or `LockedOut` before the password is examined (no failure counted);
    /// 2. a correct password resets the failure count (unless two-factor applies) and succeeds;
    ///    a failed reset (concurrent change) gives `Failed`, so racing cannot earn extra guesses;
    /// 3. a wrong password with `lockout_on_failure` counts one failure atomically in the store
    ///    and gives `LockedOut` when that locked the user, `Failed` otherwise.
    ///
    /// `user` is updated in place with what the store wrote.
    pub async fn check_password_sign_in(
        &self,
        user: &mut IdentityUser<X>,
        password: &str,
        lockout_on_failure: bool,
    ) -> Result<SignInResult> {
        if let Some(blocked) = self.pre_sign_in_check(user).await? {
            return Ok(blocked);
        }
        if self.users.check_password(user, password).await? {
            if !self.is_two_factor_enabled(user).await? && self.users.supports_user_lockout() {
                let reset = self.users.reset_access_failed_count(user).await?;
                if !reset.succeeded() {
                    return Ok(SignInResult::Failed);
                }
            }
            return Ok(SignInResult::Success);
        }
        tracing::debug!("user failed to provide the correct password");
        if self.users.supports_user_lockout() && lockout_on_failure {
            let counted = self.users.access_failed(user).await?;
            if !counted.succeeded() {
                return Ok(SignInResult::Failed);
            }
            if self.users.is_locked_out(user).await? {
                return Ok(SignInResult::LockedOut);
            }
        }
        Ok(SignInResult::Failed)
    }

    /// Finds the user by name and checks the password. An unknown user name costs one password
    /// verification against a dummy hash, like a known one, and gives `Failed`.
    pub async fn password_sign_in(
        &self,
        user_name: &str,
        password: &str,
        lockout_on_failure: bool,
    ) -> Result<(SignInResult, Option<IdentityUser<X>>)> {
        match self.users.find_by_name(user_name).await? {
            Some(mut user) => {
                let result = self.check_password_sign_in(&mut user, password, lockout_on_failure).await?;
                Ok((result, Some(user)))
            }
            None => {
                self.verify_dummy_password(password).await?;
                Ok((SignInResult::Failed, None))
            }
        }
    }

    /// Spends the time of one password verification at the current cost, for unknown users.
    async fn verify_dummy_password(&self, password: &str) -> Result<()> {
        let pool = self.users.hashing_pool();
        let hash = match self.dummy_hash.get() {
            Some(hash) => hash.clone(),
            None => {
                let fresh = pool.hash(&crate::base32::random_base32_20()).await?;
                self.dummy_hash.get_or_init(|| fresh).clone()
            }
        };
        pool.verify(&hash, password).await?;
        Ok(())
    }

    /// Whether `stamp` is the user's current security stamp (always true when the store keeps
    /// no stamps). Compared in constant time.
    pub async fn validate_security_stamp(&self, user: Option<&IdentityUser<X>>, stamp: Option<&str>) -> Result<bool> {
        let Some(user) = user else {
            return Ok(false);
        };
        if !self.users.supports_user_security_stamp() {
            return Ok(true);
        }
        let current = self.users.get_security_stamp(user).await?;
        Ok(stamp.is_some_and(|s| bool::from(s.as_bytes().ct_eq(current.as_bytes()))))
    }
}

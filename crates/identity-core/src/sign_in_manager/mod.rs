//! `SignInManager`: the password sign-in check with ASP.NET Core Identity's order of checks
//! (not allowed, locked out, password, failure counting), the second step of a two-factor
//! sign-in ([`two_factor`]), and security-stamp validation.
//!
//! Cookies and schemes are a host concern; this type answers "may this user sign in with this
//! password (or this code) now", which is what both a login page and the password grant need.

mod attempt;
mod two_factor;

use crate::error::{Error, Result};
use crate::hashing_pool::HashingSlot;
use crate::model::{IdentityUser, MAX_PASSWORD_BYTES, UserExtension};
use crate::user_manager::UserManager;
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;

use self::attempt::{Attempt, Credential, Verdict, two_factor_applies};
pub use self::two_factor::TwoFactorClientToken;

/// The outcome of a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

    /// Whether two-factor sign-in applies: enabled for the user and at least one provider can
    /// generate a code for them.
    pub async fn is_two_factor_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        two_factor_applies(&self.users, user).await
    }

    /// Checks a password for `user`, as .NET's `CheckPasswordSignInAsync` (two-factor is not
    /// looked at: a correct password gives `Success`; see [`Self::password_sign_in`]), but
    /// decided against the store's current lockout state so that no concurrency earns extra
    /// guesses:
    /// 1. with `lockout_on_failure`, the attempt is reserved in the store before the password is
    ///    hashed: a locked-out user, or one whose remaining attempts are all in flight, gets
    ///    `LockedOut` after a dummy verification (so timing does not tell a locked account from
    ///    an unknown name). At most `max_failed_access_attempts` wrong passwords are ever
    ///    evaluated before the account locks. A reserved attempt runs to its end even when the
    ///    caller stops waiting;
    /// 2. a correct password gives the reservation back and resets the count (unless two-factor
    ///    applies, as in .NET), in the same atomic step that checks the user is not locked out:
    ///    a lockout that began while the password was hashed gives `LockedOut`;
    /// 3. a user the options do not allow to sign in (an unconfirmed e-mail, say) gets
    ///    `NotAllowed` only with the right password, so that only its owner learns why; unlike
    ///    .NET, which answers before looking at the password, lockout applies to them too;
    /// 4. a wrong password keeps the reserved failure and locks the user at the maximum.
    ///
    /// `user` is updated in place with what the store wrote.
    pub async fn check_password_sign_in(
        &self,
        user: &mut IdentityUser<X>,
        password: &str,
        lockout_on_failure: bool,
    ) -> Result<SignInResult> {
        Ok(self.check_password(user, password, lockout_on_failure, false).await?.0)
    }

    /// [`Self::check_password_sign_in`], also telling whether two-factor applies to the user
    /// (looked at only after a correct password). The count is reset after a correct password
    /// when no two-factor step follows: two-factor does not apply or the client is remembered.
    async fn check_password(
        &self,
        user: &mut IdentityUser<X>,
        password: &str,
        lockout_on_failure: bool,
        two_factor_client_remembered: bool,
    ) -> Result<(SignInResult, bool)> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok((self.refuse_overlong_password().await?, false));
        }
        let credential = Credential::Password(password.to_owned());
        self.check_credential(user, credential, lockout_on_failure, two_factor_client_remembered).await
    }

    /// Checks `credential` for `user` as one attempt against the lockout state (see
    /// [`Self::check_password_sign_in`] for the steps); the result tells whether two-factor
    /// applies, which only a password can be followed by.
    async fn check_credential(
        &self,
        user: &mut IdentityUser<X>,
        credential: Credential,
        lockout_on_failure: bool,
        two_factor_client_remembered: bool,
    ) -> Result<(SignInResult, bool)> {
        // A password takes its place in the hashing pool first: a full pool refuses the attempt
        // (`Error::Overloaded`) before a lockout attempt is reserved or anything is looked at.
        let mut slot = if credential.is_password() { Some(self.users.hashing_pool().try_reserve()?) } else { None };
        let allowed = self.can_sign_in(user).await?;
        let lockout = self.users.supports_user_lockout();
        let attempt = Attempt { allowed, lockout, lockout_on_failure, reserved: false, two_factor_client_remembered };
        let verdict = if lockout && lockout_on_failure {
            // Reserved, checked and settled in a task of its own, which runs to its end even when
            // the caller stops waiting (a dropped request): a reservation is never left counted.
            let users = Arc::clone(&self.users);
            let (mut owned, credential) = (user.clone(), credential.clone());
            let (verdict, settled, unused_slot) = tokio::spawn(async move {
                let verdict = attempt.reserve_and_settle(&users, &mut owned, &credential, &mut slot).await;
                (verdict, owned, slot)
            })
            .await
            .map_err(|error| Error::Background(error.to_string()))?;
            *user = settled;
            slot = unused_slot;
            verdict?
        } else if lockout && self.users.is_locked_out(user).await? {
            tracing::debug!("user is currently locked out");
            Verdict::Unchecked(SignInResult::LockedOut)
        } else {
            Verdict::Checked(attempt.verify_and_settle(&self.users, user, &credential, slot.take()).await?)
        };
        match verdict {
            Verdict::Checked(outcome) => Ok(outcome),
            Verdict::Unchecked(result) => {
                if let Credential::Password(password) = &credential {
                    self.verify_dummy_password(password, slot).await?;
                }
                Ok((result, false))
            }
        }
    }

    /// Finds the user by name (see [`Self::find_user`] for e-mail login) and checks the password,
    /// as .NET's `PasswordSignInAsync`: after a correct password, a user to whom two-factor
    /// applies gets `TwoFactorRequired` unless `two_factor_client_remembered` (this browser
    /// passed two-factor before and is remembered).
    /// An unknown user name costs one password verification against a dummy hash, like a known
    /// one, and gives `Failed`; so does a password over [`MAX_PASSWORD_BYTES`], without a lookup
    /// or a counted failure.
    pub async fn password_sign_in(
        &self,
        user_name: &str,
        password: &str,
        lockout_on_failure: bool,
        two_factor_client_remembered: bool,
    ) -> Result<(SignInResult, Option<IdentityUser<X>>)> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok((self.refuse_overlong_password().await?, None));
        }
        match self.find_user(user_name).await? {
            Some(mut user) => {
                let (result, two_factor) =
                    self.check_password(&mut user, password, lockout_on_failure, two_factor_client_remembered).await?;
                if result == SignInResult::Success && two_factor && !two_factor_client_remembered {
                    return Ok((SignInResult::TwoFactorRequired, Some(user)));
                }
                Ok((result, Some(user)))
            }
            None => {
                self.verify_dummy_password(password, None).await?;
                Ok((SignInResult::Failed, None))
            }
        }
    }

    /// The user a login names: by user name, or, with `sign_in.allow_email_login`, also by
    /// e-mail address. With e-mail login both lookups always run, so that the time taken tells
    /// neither which one matched nor whether the other exists; a login with an `@` names the
    /// account with that address first, so that nobody can take over another user's e-mail login
    /// by choosing their address as a user name.
    pub async fn find_user(&self, login: &str) -> Result<Option<IdentityUser<X>>> {
        let by_name = self.users.find_by_name(login).await?;
        if !self.users.options().sign_in.allow_email_login {
            return Ok(by_name);
        }
        let by_email = self.users.find_by_email(login).await?;
        Ok(if login.contains('@') { by_email.or(by_name) } else { by_name.or(by_email) })
    }

    /// Refuses a password longer than any a user can have, before any lookup or hashing of it but
    /// after a dummy verification, so that it costs what a wrong password costs.
    async fn refuse_overlong_password(&self) -> Result<SignInResult> {
        tracing::debug!("password longer than any a user can have refused before hashing");
        // Argon2's cost does not depend on the password: an empty one takes as long.
        self.verify_dummy_password("", None).await?;
        Ok(SignInResult::Failed)
    }

    /// Spends the time of one password verification at the current cost, for unknown users, in
    /// `slot` when the caller reserved one. The first call also makes the dummy hash, in the same
    /// job, so that it never needs a second place in the pool.
    async fn verify_dummy_password(&self, password: &str, slot: Option<HashingSlot>) -> Result<()> {
        let slot = match slot {
            Some(slot) => slot,
            None => self.users.hashing_pool().try_reserve()?,
        };
        let (cached, password) = (self.dummy_hash.get().cloned(), password.to_owned());
        let hash = slot
            .run(move |hasher| {
                let hash = match cached {
                    Some(hash) => hash,
                    None => hasher.hash_password(&crate::base32::random_base32_20())?,
                };
                hasher.verify_hashed_password(&hash, &password);
                Ok::<_, Error>(hash)
            })
            .await??;
        self.dummy_hash.get_or_init(|| hash);
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

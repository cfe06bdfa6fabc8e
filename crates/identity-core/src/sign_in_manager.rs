//! `SignInManager`: the password sign-in check with ASP.NET Core Identity's order of checks
//! (not allowed, locked out, password, failure counting), and security-stamp validation.
//!
//! Cookies and schemes are a host concern; this type answers "may this user sign in with this
//! password now", which is what both a login page and the password grant need.

use crate::error::{Error, Result};
use crate::model::{IdentityUser, MAX_PASSWORD_BYTES, UserExtension};
use crate::store::{LockoutChange, LockoutState};
use crate::user_manager::{UserManager, count_failure};
use chrono::{DateTime, Utc};
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;

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
        let allowed = self.can_sign_in(user).await?;
        let lockout = self.users.supports_user_lockout();
        let attempt = Attempt { allowed, lockout, lockout_on_failure, reserved: false, two_factor_client_remembered };
        let verdict = if lockout && lockout_on_failure {
            // Reserved, checked and settled in a task of its own, which runs to its end even when
            // the caller stops waiting (a dropped request): a reservation is never left counted.
            let users = Arc::clone(&self.users);
            let (mut owned, password) = (user.clone(), password.to_owned());
            let (verdict, settled) = tokio::spawn(async move {
                let verdict = attempt.reserve_and_settle(&users, &mut owned, &password).await;
                (verdict, owned)
            })
            .await
            .map_err(|error| Error::Background(error.to_string()))?;
            *user = settled;
            verdict?
        } else if lockout && self.users.is_locked_out(user).await? {
            tracing::debug!("user is currently locked out");
            Verdict::Unchecked(SignInResult::LockedOut)
        } else {
            Verdict::Checked(attempt.verify_and_settle(&self.users, user, password).await?)
        };
        match verdict {
            Verdict::Checked(outcome) => Ok(outcome),
            Verdict::Unchecked(result) => {
                self.verify_dummy_password(password).await?;
                Ok((result, false))
            }
        }
    }

    /// Finds the user by name and checks the password, as .NET's `PasswordSignInAsync`: after a
    /// correct password, a user to whom two-factor applies gets `TwoFactorRequired` unless
    /// `two_factor_client_remembered` (this browser passed two-factor before and is remembered).
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
        match self.users.find_by_name(user_name).await? {
            Some(mut user) => {
                let (result, two_factor) =
                    self.check_password(&mut user, password, lockout_on_failure, two_factor_client_remembered).await?;
                if result == SignInResult::Success && two_factor && !two_factor_client_remembered {
                    return Ok((SignInResult::TwoFactorRequired, Some(user)));
                }
                Ok((result, Some(user)))
            }
            None => {
                self.verify_dummy_password(password).await?;
                Ok((SignInResult::Failed, None))
            }
        }
    }

    /// Refuses a password longer than any a user can have, before any lookup or hashing of it but
    /// after a dummy verification, so that it costs what a wrong password costs.
    async fn refuse_overlong_password(&self) -> Result<SignInResult> {
        tracing::debug!("password longer than any a user can have refused before hashing");
        // Argon2's cost does not depend on the password: an empty one takes as long.
        self.verify_dummy_password("").await?;
        Ok(SignInResult::Failed)
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

/// Whether two-factor sign-in applies to `user` (see [`SignInManager::is_two_factor_enabled`]).
async fn two_factor_applies<X: UserExtension>(users: &UserManager<X>, user: &IdentityUser<X>) -> Result<bool> {
    Ok(users.supports_user_two_factor()
        && users.get_two_factor_enabled(user).await?
        && !users.get_valid_two_factor_providers(user).await?.is_empty())
}

/// When a lockout that starts now ends.
fn lock_until<X: UserExtension>(users: &UserManager<X>) -> DateTime<Utc> {
    users.clock().now() + users.options().lockout.default_lockout_time_span
}

/// The outcome of an attempt: checked (with whether two-factor applies), or refused before the
/// password was looked at, which still costs a dummy verification.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Checked((SignInResult, bool)),
    Unchecked(SignInResult),
}

/// A password attempt past its admission: what decides its outcome once the password is checked.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// Whether the options allow the user to sign in (confirmed e-mail and so on).
    allowed: bool,
    /// Whether the store keeps lockout data.
    lockout: bool,
    /// Whether a wrong password counts as a failure.
    lockout_on_failure: bool,
    /// Whether the attempt was reserved in the store (and so must be given back or kept).
    reserved: bool,
    /// Whether this browser passed two-factor before and is remembered.
    two_factor_client_remembered: bool,
}

impl Attempt {
    /// Reserves the attempt in the store (see [`admit_attempt`]), then checks and settles it.
    async fn reserve_and_settle<X: UserExtension>(
        mut self,
        users: &UserManager<X>,
        user: &mut IdentityUser<X>,
        password: &str,
    ) -> Result<Verdict> {
        let now = users.clock().now();
        let (max, lock_until) = (users.options().lockout.max_failed_access_attempts, lock_until(users));
        let reserve = move |state| admit_attempt(state, now, max, lock_until).0;
        let Some(before) = users.update_lockout(user, Box::new(reserve)).await? else {
            return Ok(Verdict::Unchecked(SignInResult::Failed));
        };
        match admit_attempt(before, now, max, lock_until).1 {
            Admission::LockedOut => {
                tracing::debug!("user is currently locked out");
                return Ok(Verdict::Unchecked(SignInResult::LockedOut));
            }
            Admission::Counted => self.reserved = true,
            Admission::Uncounted => {}
        }
        Ok(Verdict::Checked(self.verify_and_settle(users, user, password).await?))
    }

    /// Checks the password and settles the attempt in the store: a correct password gives the
    /// reservation back (and resets the count when no two-factor step follows) unless the user was
    /// locked out meanwhile; a wrong one keeps it as a failure. A user who may not sign in gets
    /// `NotAllowed` only with the right password, so only its owner learns why; a wrong password
    /// counts as for anyone.
    async fn verify_and_settle<X: UserExtension>(
        self,
        users: &UserManager<X>,
        user: &mut IdentityUser<X>,
        password: &str,
    ) -> Result<(SignInResult, bool)> {
        if users.check_password(user, password).await? {
            let two_factor = self.allowed && two_factor_applies(users, user).await?;
            if self.lockout {
                let now = users.clock().now();
                let reset = self.allowed && (!two_factor || self.two_factor_client_remembered);
                let reserved = self.reserved;
                let accept = move |state| accept_correct_password(state, now, reserved, reset).0;
                match users.update_lockout(user, Box::new(accept)).await? {
                    None => return Ok((SignInResult::Failed, false)),
                    Some(before) if !accept_correct_password(before, now, reserved, reset).1 => {
                        tracing::debug!("user was locked out while the password was checked");
                        return Ok((SignInResult::LockedOut, false));
                    }
                    Some(_) => {}
                }
            }
            if !self.allowed {
                tracing::debug!("user may not sign in yet (unconfirmed e-mail, phone number or account)");
                return Ok((SignInResult::NotAllowed, false));
            }
            return Ok((SignInResult::Success, two_factor));
        }
        tracing::debug!("user failed to provide the correct password");
        if self.lockout && self.lockout_on_failure {
            let (max, lock_until) = (users.options().lockout.max_failed_access_attempts, lock_until(users));
            let reserved = self.reserved;
            let count = move |state| count_wrong_password(state, reserved, max, lock_until);
            if let Some(before) = users.update_lockout(user, Box::new(count)).await?
                && is_locked(&count(before).state, users.clock().now())
            {
                tracing::warn!("user is locked out");
                return Ok((SignInResult::LockedOut, false));
            }
        }
        Ok((SignInResult::Failed, false))
    }
}

/// How [`admit_attempt`] let a password attempt in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// The attempt is counted as a failure until it proves to be the right password.
    Counted,
    /// Lockout is disabled for the user: nothing to reserve (failures are still counted).
    Uncounted,
    /// The user is locked out (now, or because every remaining attempt is in flight).
    LockedOut,
}

fn is_locked(state: &LockoutState, now: DateTime<Utc>) -> bool {
    state.lockout_enabled && state.lockout_end.is_some_and(|end| end >= now)
}

/// Reserves one attempt: a locked-out user is refused; a user whose count already reached `max`
/// (every remaining attempt in flight, or a lowered maximum) is locked out now and refused;
/// otherwise the attempt counts as a failure until the password proves right. The reservation
/// itself leaves the concurrency stamp alone: a correct password gives it back.
fn admit_attempt(
    state: LockoutState,
    now: DateTime<Utc>,
    max: i32,
    lock_until: DateTime<Utc>,
) -> (LockoutChange, Admission) {
    // A maximum below one would lock every user at every attempt, the right password included.
    let max = max.max(1);
    let unchanged = LockoutChange { state, rotate_concurrency_stamp: false };
    if is_locked(&state, now) {
        (unchanged, Admission::LockedOut)
    } else if !state.lockout_enabled {
        (unchanged, Admission::Uncounted)
    } else if state.access_failed_count >= max {
        (LockoutChange::rotating(LockoutChange::locked_until(state, lock_until)), Admission::LockedOut)
    } else {
        let reserved = LockoutState { access_failed_count: state.access_failed_count.saturating_add(1), ..state };
        (LockoutChange { state: reserved, rotate_concurrency_stamp: false }, Admission::Counted)
    }
}

/// A correct password: gives a reserved attempt back, or resets the count when `reset` (no
/// two-factor step follows), and tells whether the user may sign in (not locked out now). Only a
/// reset of earlier failures rotates the concurrency stamp, as .NET writes only then.
fn accept_correct_password(
    state: LockoutState,
    now: DateTime<Utc>,
    reserved: bool,
    reset: bool,
) -> (LockoutChange, bool) {
    let given_back = if reserved { (state.access_failed_count - 1).max(0) } else { state.access_failed_count };
    let access_failed_count = if reset && !is_locked(&state, now) { 0 } else { given_back };
    let change = LockoutChange {
        state: LockoutState { access_failed_count, ..state },
        rotate_concurrency_stamp: access_failed_count != given_back,
    };
    (change, !is_locked(&state, now))
}

/// A wrong password: the reserved attempt stays counted (an unreserved one is counted now), and
/// the user is locked out at `max`.
fn count_wrong_password(state: LockoutState, reserved: bool, max: i32, lock_until: DateTime<Utc>) -> LockoutChange {
    if !reserved {
        return LockoutChange::rotating(count_failure(state, max, lock_until));
    }
    if state.access_failed_count >= max {
        LockoutChange::rotating(LockoutChange::locked_until(state, lock_until))
    } else {
        // The failure was counted at the reservation, without a new stamp: give it one now.
        LockoutChange::rotating(state)
    }
}

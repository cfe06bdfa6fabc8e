//! One sign-in attempt against the store's lockout state: reserved before the credential is
//! checked, settled after, so that concurrent attempts never earn extra guesses (see
//! [`SignInManager::check_password_sign_in`](super::SignInManager::check_password_sign_in)).
//! The lockout transitions are pure functions of the stored state; the store applies them under
//! its row lock.

use crate::error::Result;
use crate::hashing_pool::HashingSlot;
use crate::model::{IdentityUser, UserExtension};
use crate::store::{LockoutChange, LockoutState};
use crate::user_manager::{UserManager, count_failure};
use chrono::{DateTime, Utc};

use super::SignInResult;

/// What an attempt presents. Its `Debug` output names the kind only, never the secret.
#[derive(Clone)]
pub(super) enum Credential {
    /// The user's password.
    Password(String),
    /// A second-factor code from the named token provider (authenticator, e-mail, phone).
    TwoFactorCode {
        /// The token provider's name.
        provider: String,
        /// The code as the user typed it.
        code: String,
    },
    /// A two-factor recovery code; consumed when it is right.
    RecoveryCode(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Password(_) => "Password([redacted])",
            Self::TwoFactorCode { .. } => "TwoFactorCode([redacted])",
            Self::RecoveryCode(_) => "RecoveryCode([redacted])",
        })
    }
}

impl Credential {
    /// Whether the credential is checked by a password verification, which an attempt refused
    /// before the check must spend as well, so that timing does not tell the two apart.
    pub(super) fn is_password(&self) -> bool {
        matches!(self, Self::Password(_))
    }

    /// Whether the credential is right for `user` (a recovery code is redeemed by this check); a
    /// password is verified in `slot` when the caller reserved one.
    async fn check<X: UserExtension>(
        &self,
        users: &UserManager<X>,
        user: &mut IdentityUser<X>,
        slot: Option<HashingSlot>,
    ) -> Result<bool> {
        match self {
            Self::Password(password) => users.check_password_in(user, password, slot).await,
            Self::TwoFactorCode { provider, code } => users.verify_two_factor_token(user, provider, code).await,
            Self::RecoveryCode(code) => {
                if code.is_empty() {
                    return Ok(false);
                }
                users.redeem_recovery_code_for_sign_in(user, code).await
            }
        }
    }
}

/// Whether two-factor sign-in applies to `user` (see
/// [`SignInManager::is_two_factor_enabled`](super::SignInManager::is_two_factor_enabled)).
pub(super) async fn two_factor_applies<X: UserExtension>(
    users: &UserManager<X>,
    user: &IdentityUser<X>,
) -> Result<bool> {
    Ok(users.supports_user_two_factor()
        && users.get_two_factor_enabled(user).await?
        && !users.get_valid_two_factor_providers(user).await?.is_empty())
}

/// When a lockout that starts now ends.
fn lock_until<X: UserExtension>(users: &UserManager<X>) -> DateTime<Utc> {
    users.clock().now() + users.options().lockout.default_lockout_time_span
}

/// The outcome of an attempt: checked (with whether two-factor applies), or refused before the
/// credential was looked at, which for a password still costs a dummy verification.
#[derive(Debug, Clone, Copy)]
pub(super) enum Verdict {
    Checked((SignInResult, bool)),
    Unchecked(SignInResult),
}

/// An attempt past its admission: what decides its outcome once the credential is checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attempt {
    /// Whether the options allow the user to sign in (confirmed e-mail and so on).
    pub(super) allowed: bool,
    /// Whether the store keeps lockout data.
    pub(super) lockout: bool,
    /// Whether a wrong credential counts as a failure.
    pub(super) lockout_on_failure: bool,
    /// Whether the attempt was reserved in the store (and so must be given back or kept).
    pub(super) reserved: bool,
    /// Whether this browser passed two-factor before and is remembered.
    pub(super) two_factor_client_remembered: bool,
}

impl Attempt {
    /// Reserves the attempt in the store (see [`admit_attempt`]), then checks (a password in
    /// `slot`, which an attempt refused before the check leaves in place) and settles it.
    pub(super) async fn reserve_and_settle<X: UserExtension>(
        mut self,
        users: &UserManager<X>,
        user: &mut IdentityUser<X>,
        credential: &Credential,
        slot: &mut Option<HashingSlot>,
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
        Ok(Verdict::Checked(self.verify_and_settle(users, user, credential, slot.take()).await?))
    }

    /// Checks the credential and settles the attempt in the store: a correct one gives the
    /// reservation back (and resets the count when no two-factor step follows) unless the user was
    /// locked out meanwhile; a wrong one keeps it as a failure. A user who may not sign in gets
    /// `NotAllowed` only with the right credential, so only its owner learns why; a wrong one
    /// counts as for anyone. Only a password can be followed by a two-factor step.
    pub(super) async fn verify_and_settle<X: UserExtension>(
        self,
        users: &UserManager<X>,
        user: &mut IdentityUser<X>,
        credential: &Credential,
        slot: Option<HashingSlot>,
    ) -> Result<(SignInResult, bool)> {
        if credential.check(users, user, slot).await? {
            let two_factor = self.allowed && credential.is_password() && two_factor_applies(users, user).await?;
            if self.lockout {
                let now = users.clock().now();
                let reset = self.allowed && (!two_factor || self.two_factor_client_remembered);
                let reserved = self.reserved;
                let accept = move |state| accept_correct_credential(state, now, reserved, reset).0;
                match users.update_lockout(user, Box::new(accept)).await? {
                    None => return Ok((SignInResult::Failed, false)),
                    Some(before) if !accept_correct_credential(before, now, reserved, reset).1 => {
                        tracing::debug!("user was locked out while the credential was checked");
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
        tracing::debug!("user failed to provide the correct credential");
        if self.lockout && self.lockout_on_failure {
            let (max, lock_until) = (users.options().lockout.max_failed_access_attempts, lock_until(users));
            let reserved = self.reserved;
            let count = move |state| count_wrong_credential(state, reserved, max, lock_until);
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

/// How [`admit_attempt`] let an attempt in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// The attempt is counted as a failure until it proves to be the right credential.
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
/// otherwise the attempt counts as a failure until the credential proves right. The reservation
/// itself leaves the concurrency stamp alone: a correct credential gives it back.
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

/// A correct credential: gives a reserved attempt back, or resets the count when `reset` (no
/// two-factor step follows), and tells whether the user may sign in (not locked out now). Only a
/// reset of earlier failures rotates the concurrency stamp, as .NET writes only then.
fn accept_correct_credential(
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

/// A wrong credential: the reserved attempt stays counted (an unreserved one is counted now), and
/// the user is locked out at `max`.
fn count_wrong_credential(state: LockoutState, reserved: bool, max: i32, lock_until: DateTime<Utc>) -> LockoutChange {
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

//! Lockout: the lockout flag and end date, and the failure count kept atomically in the store.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::{Capability, LockoutChange, LockoutState, LockoutTransition, UserLockoutStore};
use chrono::{DateTime, Utc};

impl<X: UserExtension> UserManager<X> {
    /// Whether the user is locked out now: lockout enabled and an end at or after now.
    pub async fn is_locked_out(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_enabled && user.lockout_end.is_some_and(|end| end >= self.clock.now()))
    }

    /// Whether the user can be locked out.
    pub async fn get_lockout_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_enabled)
    }

    /// Enables or disables lockout for the user.
    pub async fn set_lockout_enabled(&self, user: &mut IdentityUser<X>, enabled: bool) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        user.lockout_enabled = enabled;
        self.update_user(user).await
    }

    /// When the lockout ends.
    pub async fn get_lockout_end_date(&self, user: &IdentityUser<X>) -> Result<Option<DateTime<Utc>>> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_end)
    }

    /// Locks the user out until `end` (a past date or `None` unlocks); `UserLockoutNotEnabled`
    /// when lockout is disabled for the user.
    pub async fn set_lockout_end_date(
        &self,
        user: &mut IdentityUser<X>,
        end: Option<DateTime<Utc>>,
    ) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        if !user.lockout_enabled {
            tracing::debug!("lockout for user failed because lockout is not enabled for this user");
            return Ok(IdentityResult::failed([self.describer.user_lockout_not_enabled()]));
        }
        user.lockout_end = end;
        self.update_user(user).await
    }

    /// Counts one failed access, atomically in the store: at the configured maximum the user is
    /// locked out for the configured time span and the count restarts. Does not look at
    /// `lockout_enabled`, as in .NET; [`Self::is_locked_out`] does.
    pub async fn access_failed(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let lockout = &self.options.lockout;
        let max = lockout.max_failed_access_attempts;
        let lock_until = self.clock.now() + lockout.default_lockout_time_span;
        let count = move |state| count_failure(state, max, lock_until);
        match self.update_lockout(user, Box::new(move |state| LockoutChange::rotating(count(state)))).await? {
            None => Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
            Some(before) => {
                if count(before).lockout_end != before.lockout_end {
                    tracing::warn!("user is locked out");
                }
                Ok(IdentityResult::Success)
            }
        }
    }

    /// Applies a lockout transition atomically in the store (see
    /// [`UserLockoutStore::update_lockout`]); `None` when the user no longer exists.
    pub(crate) async fn update_lockout(
        &self,
        user: &mut IdentityUser<X>,
        transition: LockoutTransition,
    ) -> Result<Option<LockoutState>> {
        let store: &dyn UserLockoutStore<X> = require!(self.lockout_store, Capability::Lockout);
        store.update_lockout(user, transition).await
    }

    /// Resets the failure count; a no-op success when it is already zero.
    pub async fn reset_access_failed_count(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        if user.access_failed_count == 0 {
            return Ok(IdentityResult::Success);
        }
        user.access_failed_count = 0;
        self.update_user(user).await
    }

    /// The failure count.
    pub async fn get_access_failed_count(&self, user: &IdentityUser<X>) -> Result<i32> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.access_failed_count)
    }
}

/// One more failed access: at `max` the user is locked out until `lock_until` and the count
/// restarts, as .NET's `AccessFailedAsync`.
pub(crate) fn count_failure(state: LockoutState, max: i32, lock_until: DateTime<Utc>) -> LockoutState {
    let count = state.access_failed_count.saturating_add(1);
    if count >= max {
        LockoutChange::locked_until(state, lock_until)
    } else {
        LockoutState { access_failed_count: count, ..state }
    }
}

//! An in-memory store implementing every capability: the reference for store authors, and the
//! store of fast unit tests. All state sits behind one mutex, so every operation is atomic.
//!
//! The user row, its email, lockout and listing, and the role row are implemented here; claims, role
//! memberships, logins and tokens, passkeys, and bulk export and import each have their own
//! module.

use crate::error::{Error, Result};
use crate::model::{IdentityRole, IdentityUser, StoredClaim, UserExtension, UserLoginInfo, UserPasskeyInfo, new_guid};
use crate::result::{ErrorDescriber, IdentityResult};
use crate::store::{
    LockoutState, LockoutTransition, QueryableRoleStore, QueryableUserStore, RoleClaimStore, RoleStore, UserEmailStore,
    UserLockoutStore, UserPasswordStore, UserPhoneNumberStore, UserQuery, UserSecurityStampStore, UserStore,
    UserTwoFactorStore,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

mod claims;
mod logins;
mod passkeys;
mod roles;
mod transfer;

#[derive(Debug)]
struct State<X: UserExtension> {
    users: BTreeMap<String, IdentityUser<X>>,
    user_claims: Vec<(String, StoredClaim)>,
    logins: Vec<(String, UserLoginInfo)>,
    tokens: BTreeMap<(String, String, String), Option<String>>,
    passkeys: Vec<(String, UserPasskeyInfo)>,
    roles: BTreeMap<String, IdentityRole>,
    user_roles: Vec<(String, String)>,
    role_claims: Vec<(String, StoredClaim)>,
}

impl<X: UserExtension> Default for State<X> {
    fn default() -> Self {
        Self {
            users: BTreeMap::new(),
            user_claims: Vec::new(),
            logins: Vec::new(),
            tokens: BTreeMap::new(),
            passkeys: Vec::new(),
            roles: BTreeMap::new(),
            user_roles: Vec::new(),
            role_claims: Vec::new(),
        }
    }
}

impl<X: UserExtension> State<X> {
    fn name_taken(&self, normalized: Option<&str>, except_id: &str) -> bool {
        normalized.is_some_and(|name| {
            self.users.values().any(|u| u.id != except_id && u.normalized_user_name.as_deref() == Some(name))
        })
    }

    fn role_name_taken(&self, normalized: Option<&str>, except_id: &str) -> bool {
        normalized.is_some_and(|name| {
            self.roles.values().any(|r| r.id != except_id && r.normalized_name.as_deref() == Some(name))
        })
    }

    fn role_by_name(&self, normalized: &str) -> Option<&IdentityRole> {
        self.roles.values().find(|r| r.normalized_name.as_deref() == Some(normalized))
    }

    fn users_with_ids<'a>(&self, ids: impl Iterator<Item = &'a String>) -> Vec<IdentityUser<X>> {
        ids.filter_map(|id| self.users.get(id).cloned()).collect()
    }
}

/// An in-memory user and role store for any user type `IdentityUser<X>`.
#[derive(Debug)]
pub struct MemoryStore<X: UserExtension = ()> {
    state: Mutex<State<X>>,
    describer: ErrorDescriber,
}

impl<X: UserExtension> Default for MemoryStore<X> {
    fn default() -> Self {
        Self::new()
    }
}

impl<X: UserExtension> MemoryStore<X> {
    /// An empty store.
    pub fn new() -> Self {
        Self { state: Mutex::new(State::default()), describer: ErrorDescriber }
    }

    fn state(&self) -> MutexGuard<'_, State<X>> {
        // A panic while holding the lock cannot leave a half-applied change: every mutation
        // below is a single insert or retain, so the data stays usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl<X: UserExtension> UserStore<X> for MemoryStore<X> {
    async fn create(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let mut state = self.state();
        if state.name_taken(user.normalized_user_name.as_deref(), &user.id) {
            let name = user.user_name.clone().unwrap_or_default();
            return Ok(IdentityResult::failed([self.describer.duplicate_user_name(&name)]));
        }
        if state.users.contains_key(&user.id) {
            return Err(Error::Store(format!("a user with id {} exists", user.id)));
        }
        state.users.insert(user.id.clone(), user.clone());
        Ok(IdentityResult::Success)
    }

    async fn update(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let mut state = self.state();
        let current_stamp = match state.users.get(&user.id) {
            Some(stored) => stored.concurrency_stamp.clone(),
            None => return Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
        };
        if current_stamp != user.concurrency_stamp {
            return Ok(IdentityResult::failed([self.describer.concurrency_failure()]));
        }
        if state.name_taken(user.normalized_user_name.as_deref(), &user.id) {
            let name = user.user_name.clone().unwrap_or_default();
            return Ok(IdentityResult::failed([self.describer.duplicate_user_name(&name)]));
        }
        user.concurrency_stamp = Some(new_guid());
        state.users.insert(user.id.clone(), user.clone());
        Ok(IdentityResult::Success)
    }

    async fn delete(&self, user: &IdentityUser<X>) -> Result<IdentityResult> {
        let mut state = self.state();
        match state.users.get(&user.id) {
            Some(stored) if stored.concurrency_stamp == user.concurrency_stamp => {}
            _ => return Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
        }
        state.users.remove(&user.id);
        state.user_claims.retain(|(id, _)| *id != user.id);
        state.logins.retain(|(id, _)| *id != user.id);
        state.tokens.retain(|(id, _, _), _| *id != user.id);
        state.passkeys.retain(|(id, _)| *id != user.id);
        state.user_roles.retain(|(id, _)| *id != user.id);
        Ok(IdentityResult::Success)
    }

    async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser<X>>> {
        Ok(self.state().users.get(user_id).cloned())
    }

    async fn find_by_name(&self, normalized_user_name: &str) -> Result<Option<IdentityUser<X>>> {
        let state = self.state();
        Ok(state.users.values().find(|u| u.normalized_user_name.as_deref() == Some(normalized_user_name)).cloned())
    }

    crate::advertise_capabilities!(X; all);
}

impl<X: UserExtension> UserPasswordStore<X> for MemoryStore<X> {}
impl<X: UserExtension> UserPhoneNumberStore<X> for MemoryStore<X> {}
impl<X: UserExtension> UserSecurityStampStore<X> for MemoryStore<X> {}
impl<X: UserExtension> UserTwoFactorStore<X> for MemoryStore<X> {}

#[async_trait]
impl<X: UserExtension> UserEmailStore<X> for MemoryStore<X> {
    async fn find_by_email(&self, normalized_email: &str) -> Result<Option<IdentityUser<X>>> {
        let state = self.state();
        let mut matches = state.users.values().filter(|u| u.normalized_email.as_deref() == Some(normalized_email));
        let first = matches.next().cloned();
        if matches.next().is_some() {
            return Err(Error::InconsistentData("more than one user has this email".to_owned()));
        }
        Ok(first)
    }
}

#[async_trait]
impl<X: UserExtension> QueryableUserStore<X> for MemoryStore<X> {
    async fn users(&self, query: &UserQuery) -> Result<Vec<IdentityUser<X>>> {
        let state = self.state();
        let mut users: Vec<IdentityUser<X>> = state
            .users
            .values()
            .filter(|u| match &query.normalized_user_name_prefix {
                Some(prefix) => u.normalized_user_name.as_deref().is_some_and(|n| n.starts_with(prefix.as_str())),
                None => true,
            })
            .cloned()
            .collect();
        users.sort_by(|a, b| a.normalized_user_name.cmp(&b.normalized_user_name));
        Ok(users.into_iter().skip(query.offset).take(query.limit.unwrap_or(usize::MAX)).collect())
    }
}

#[async_trait]
impl<X: UserExtension> UserLockoutStore<X> for MemoryStore<X> {
    async fn update_lockout(
        &self,
        user: &mut IdentityUser<X>,
        transition: LockoutTransition,
    ) -> Result<Option<LockoutState>> {
        let mut state = self.state();
        let Some(stored) = state.users.get_mut(&user.id) else {
            return Ok(None);
        };
        let before = LockoutState::of(stored);
        let change = transition(before);
        if change.writes_over(&before) {
            stored.access_failed_count = change.state.access_failed_count;
            stored.lockout_end = change.state.lockout_end;
            if change.rotate_concurrency_stamp {
                stored.concurrency_stamp = Some(new_guid());
                user.concurrency_stamp = stored.concurrency_stamp.clone();
            }
        }
        user.access_failed_count = stored.access_failed_count;
        user.lockout_end = stored.lockout_end;
        Ok(Some(before))
    }
}

#[async_trait]
impl<X: UserExtension> RoleStore for MemoryStore<X> {
    async fn create(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let mut state = self.state();
        if state.role_name_taken(role.normalized_name.as_deref(), &role.id) {
            let name = role.name.clone().unwrap_or_default();
            return Ok(IdentityResult::failed([self.describer.duplicate_role_name(&name)]));
        }
        state.roles.insert(role.id.clone(), role.clone());
        Ok(IdentityResult::Success)
    }

    async fn update(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let mut state = self.state();
        match state.roles.get(&role.id) {
            Some(stored) if stored.concurrency_stamp == role.concurrency_stamp => {}
            _ => return Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
        }
        if state.role_name_taken(role.normalized_name.as_deref(), &role.id) {
            let name = role.name.clone().unwrap_or_default();
            return Ok(IdentityResult::failed([self.describer.duplicate_role_name(&name)]));
        }
        role.concurrency_stamp = Some(new_guid());
        state.roles.insert(role.id.clone(), role.clone());
        Ok(IdentityResult::Success)
    }

    async fn delete(&self, role: &IdentityRole) -> Result<IdentityResult> {
        let mut state = self.state();
        match state.roles.get(&role.id) {
            Some(stored) if stored.concurrency_stamp == role.concurrency_stamp => {}
            _ => return Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
        }
        state.roles.remove(&role.id);
        state.role_claims.retain(|(id, _)| *id != role.id);
        state.user_roles.retain(|(_, id)| *id != role.id);
        Ok(IdentityResult::Success)
    }

    async fn find_by_id(&self, role_id: &str) -> Result<Option<IdentityRole>> {
        Ok(self.state().roles.get(role_id).cloned())
    }

    async fn find_by_name(&self, normalized_name: &str) -> Result<Option<IdentityRole>> {
        Ok(self.state().role_by_name(normalized_name).cloned())
    }

    fn role_claim_store(&self) -> Option<&dyn RoleClaimStore> {
        Some(self)
    }

    fn queryable_role_store(&self) -> Option<&dyn QueryableRoleStore> {
        Some(self)
    }
}

//! An in-memory store implementing every capability: the reference for store authors, and the
//! store of fast unit tests. All state sits behind one mutex, so every operation is atomic.

use crate::error::{Error, Result};
use crate::model::{Claim, IdentityRole, IdentityUser, UserExtension, UserLoginInfo, UserPasskeyInfo, new_guid};
use crate::result::{ErrorDescriber, IdentityResult};
use crate::store::{
    LockoutState, LockoutTransition, QueryableRoleStore, QueryableUserStore, RoleClaimStore, RoleStore, RoleWithClaims,
    UserAuthenticationTokenStore, UserAuthenticatorKeyStore, UserClaimStore, UserClaimsData, UserClaimsDataStore,
    UserEmailStore, UserLockoutStore, UserLoginStore, UserPasskeyStore, UserPasswordStore, UserPhoneNumberStore,
    UserQuery, UserRoleStore, UserSecurityStampStore, UserStore, UserTwoFactorRecoveryCodeStore, UserTwoFactorStore,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug)]
struct State<X: UserExtension> {
    users: BTreeMap<String, IdentityUser<X>>,
    user_claims: Vec<(String, Claim)>,
    logins: Vec<(String, UserLoginInfo)>,
    tokens: BTreeMap<(String, String, String), Option<String>>,
    passkeys: Vec<(String, UserPasskeyInfo)>,
    roles: BTreeMap<String, IdentityRole>,
    user_roles: Vec<(String, String)>,
    role_claims: Vec<(String, Claim)>,
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
impl<X: UserExtension> UserAuthenticatorKeyStore<X> for MemoryStore<X> {}
impl<X: UserExtension> UserTwoFactorRecoveryCodeStore<X> for MemoryStore<X> {}

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
impl<X: UserExtension> UserClaimStore<X> for MemoryStore<X> {
    async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<Claim>> {
        let state = self.state();
        Ok(state.user_claims.iter().filter(|(id, _)| *id == user.id).map(|(_, c)| c.clone()).collect())
    }

    async fn add_claims(&self, user: &IdentityUser<X>, claims: &[Claim]) -> Result<()> {
        let mut state = self.state();
        state.user_claims.extend(claims.iter().map(|c| (user.id.clone(), c.clone())));
        Ok(())
    }

    async fn replace_claim(&self, user: &IdentityUser<X>, claim: &Claim, new_claim: &Claim) -> Result<()> {
        let mut state = self.state();
        for (id, stored) in state.user_claims.iter_mut() {
            if *id == user.id && stored == claim {
                *stored = new_claim.clone();
            }
        }
        Ok(())
    }

    async fn remove_claims(&self, user: &IdentityUser<X>, claims: &[Claim]) -> Result<()> {
        let mut state = self.state();
        state.user_claims.retain(|(id, c)| *id != user.id || !claims.contains(c));
        Ok(())
    }

    async fn get_users_for_claim(&self, claim: &Claim) -> Result<Vec<IdentityUser<X>>> {
        let state = self.state();
        let mut ids: Vec<&String> = state.user_claims.iter().filter(|(_, c)| c == claim).map(|(id, _)| id).collect();
        ids.dedup();
        Ok(state.users_with_ids(ids.into_iter()))
    }
}

#[async_trait]
impl<X: UserExtension> UserRoleStore<X> for MemoryStore<X> {
    async fn add_to_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()> {
        let mut state = self.state();
        let role_id = state
            .role_by_name(normalized_role_name)
            .map(|r| r.id.clone())
            .ok_or_else(|| Error::RoleNotFound(normalized_role_name.to_owned()))?;
        let link = (user.id.clone(), role_id);
        if !state.user_roles.contains(&link) {
            state.user_roles.push(link);
        }
        Ok(())
    }

    async fn remove_from_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()> {
        let mut state = self.state();
        if let Some(role_id) = state.role_by_name(normalized_role_name).map(|r| r.id.clone()) {
            state.user_roles.retain(|(u, r)| !(*u == user.id && *r == role_id));
        }
        Ok(())
    }

    async fn get_roles(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let state = self.state();
        Ok(state
            .user_roles
            .iter()
            .filter(|(u, _)| *u == user.id)
            .filter_map(|(_, r)| state.roles.get(r).and_then(|role| role.name.clone()))
            .collect())
    }

    async fn is_in_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<bool> {
        let state = self.state();
        Ok(state
            .role_by_name(normalized_role_name)
            .is_some_and(|role| state.user_roles.iter().any(|(u, r)| *u == user.id && *r == role.id)))
    }

    async fn get_users_in_role(&self, normalized_role_name: &str) -> Result<Vec<IdentityUser<X>>> {
        let state = self.state();
        let Some(role) = state.role_by_name(normalized_role_name) else {
            return Ok(Vec::new());
        };
        let ids = state.user_roles.iter().filter(|(_, r)| *r == role.id).map(|(u, _)| u);
        Ok(state.users_with_ids(ids))
    }
}

#[async_trait]
impl<X: UserExtension> UserLoginStore<X> for MemoryStore<X> {
    async fn add_login(&self, user: &IdentityUser<X>, login: &UserLoginInfo) -> Result<()> {
        let mut state = self.state();
        let taken = state
            .logins
            .iter()
            .any(|(_, l)| l.login_provider == login.login_provider && l.provider_key == login.provider_key);
        if taken {
            return Err(Error::Store("this login is linked to a user already".to_owned()));
        }
        state.logins.push((user.id.clone(), login.clone()));
        Ok(())
    }

    async fn remove_login(&self, user: &IdentityUser<X>, login_provider: &str, provider_key: &str) -> Result<()> {
        let mut state = self.state();
        state.logins.retain(|(id, l)| {
            !(*id == user.id && l.login_provider == login_provider && l.provider_key == provider_key)
        });
        Ok(())
    }

    async fn get_logins(&self, user: &IdentityUser<X>) -> Result<Vec<UserLoginInfo>> {
        let state = self.state();
        Ok(state.logins.iter().filter(|(id, _)| *id == user.id).map(|(_, l)| l.clone()).collect())
    }

    async fn find_by_login(&self, login_provider: &str, provider_key: &str) -> Result<Option<IdentityUser<X>>> {
        let state = self.state();
        let owner = state
            .logins
            .iter()
            .find(|(_, l)| l.login_provider == login_provider && l.provider_key == provider_key)
            .map(|(id, _)| id);
        Ok(owner.and_then(|id| state.users.get(id).cloned()))
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
impl<X: UserExtension> UserAuthenticationTokenStore<X> for MemoryStore<X> {
    async fn set_token(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let key = (user.id.clone(), login_provider.to_owned(), name.to_owned());
        self.state().tokens.insert(key, value.map(str::to_owned));
        Ok(())
    }

    async fn remove_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<()> {
        let key = (user.id.clone(), login_provider.to_owned(), name.to_owned());
        self.state().tokens.remove(&key);
        Ok(())
    }

    async fn get_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<Option<String>> {
        let key = (user.id.clone(), login_provider.to_owned(), name.to_owned());
        Ok(self.state().tokens.get(&key).cloned().flatten())
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
impl<X: UserExtension> UserPasskeyStore<X> for MemoryStore<X> {
    async fn add_or_update_passkey(&self, user: &IdentityUser<X>, passkey: &UserPasskeyInfo) -> Result<()> {
        let mut state = self.state();
        match state.passkeys.iter_mut().find(|(_, p)| p.credential_id == passkey.credential_id) {
            Some((_, existing)) => {
                existing.name.clone_from(&passkey.name);
                existing.sign_count = passkey.sign_count;
                existing.is_backed_up = passkey.is_backed_up;
                existing.is_user_verified = passkey.is_user_verified;
            }
            None => state.passkeys.push((user.id.clone(), passkey.clone())),
        }
        Ok(())
    }

    async fn get_passkeys(&self, user: &IdentityUser<X>) -> Result<Vec<UserPasskeyInfo>> {
        let state = self.state();
        Ok(state.passkeys.iter().filter(|(id, _)| *id == user.id).map(|(_, p)| p.clone()).collect())
    }

    async fn find_by_passkey_id(&self, credential_id: &[u8]) -> Result<Option<IdentityUser<X>>> {
        let state = self.state();
        let owner = state.passkeys.iter().find(|(_, p)| p.credential_id == credential_id).map(|(id, _)| id);
        Ok(owner.and_then(|id| state.users.get(id).cloned()))
    }

    async fn find_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<Option<UserPasskeyInfo>> {
        let state = self.state();
        Ok(state
            .passkeys
            .iter()
            .find(|(id, p)| *id == user.id && p.credential_id == credential_id)
            .map(|(_, p)| p.clone()))
    }

    async fn remove_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<()> {
        let mut state = self.state();
        state.passkeys.retain(|(id, p)| !(*id == user.id && p.credential_id == credential_id));
        Ok(())
    }
}

#[async_trait]
impl<X: UserExtension> UserClaimsDataStore<X> for MemoryStore<X> {
    async fn load_claims_data(&self, user_id: &str) -> Result<Option<UserClaimsData<X>>> {
        let state = self.state();
        let Some(user) = state.users.get(user_id).cloned() else {
            return Ok(None);
        };
        let claims = state.user_claims.iter().filter(|(id, _)| id == user_id).map(|(_, c)| c.clone()).collect();
        let roles = state
            .user_roles
            .iter()
            .filter(|(u, _)| u == user_id)
            .filter_map(|(_, role_id)| state.roles.get(role_id))
            .map(|role| RoleWithClaims {
                role: role.clone(),
                claims: state.role_claims.iter().filter(|(r, _)| *r == role.id).map(|(_, c)| c.clone()).collect(),
            })
            .collect();
        Ok(Some(UserClaimsData { user, claims, roles }))
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

#[async_trait]
impl<X: UserExtension> RoleClaimStore for MemoryStore<X> {
    async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<Claim>> {
        let state = self.state();
        Ok(state.role_claims.iter().filter(|(id, _)| *id == role.id).map(|(_, c)| c.clone()).collect())
    }

    async fn add_claim(&self, role: &IdentityRole, claim: &Claim) -> Result<()> {
        self.state().role_claims.push((role.id.clone(), claim.clone()));
        Ok(())
    }

    async fn remove_claim(&self, role: &IdentityRole, claim: &Claim) -> Result<()> {
        self.state().role_claims.retain(|(id, c)| !(*id == role.id && c == claim));
        Ok(())
    }
}

#[async_trait]
impl<X: UserExtension> QueryableRoleStore for MemoryStore<X> {
    async fn roles(&self, normalized_name_prefix: Option<&str>) -> Result<Vec<IdentityRole>> {
        let state = self.state();
        let mut roles: Vec<IdentityRole> = state
            .roles
            .values()
            .filter(|r| match normalized_name_prefix {
                Some(prefix) => r.normalized_name.as_deref().is_some_and(|n| n.starts_with(prefix)),
                None => true,
            })
            .cloned()
            .collect();
        roles.sort_by(|a, b| a.normalized_name.cmp(&b.normalized_name));
        Ok(roles)
    }
}

//! Bulk export and import ([`UserTransferStore`]): records read and written under the store's one
//! lock, so an import call is atomic as a whole and no record is ever half-written.

use super::{MemoryStore, State};
use crate::error::{Error, Result};
use crate::model::{IdentityRole, IdentityUser, StoredClaim, UserExtension, UserLoginInfo, UserPasskeyInfo};
use crate::transfer::{
    ClaimRecord, ImportOutcome, LoginRecord, PasskeyRecord, RoleRecord, TokenRecord, UserRecord, UserTransferStore,
    reasons,
};
use async_trait::async_trait;
use std::ops::Bound;

#[async_trait]
impl<X: UserExtension> UserTransferStore<X> for MemoryStore<X> {
    async fn export_roles(&self) -> Result<Vec<RoleRecord>> {
        let state = self.state();
        // The map is ordered by id, as the trait asks.
        Ok(state.roles.values().map(|role| state.export_role(role.clone())).collect())
    }

    async fn export_users(&self, after_id: Option<&str>, limit: usize) -> Result<Vec<UserRecord<X>>> {
        let state = self.state();
        // `String`'s order is by code point, as the trait asks, so the map's range is the page.
        let start = after_id.map_or(Bound::Unbounded, Bound::Excluded);
        state
            .users
            .range::<str, _>((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, user)| state.export_user(user))
            .collect()
    }

    async fn import_roles(&self, roles: &[RoleRecord]) -> Result<Vec<ImportOutcome>> {
        let mut state = self.state();
        Ok(roles.iter().map(|record| state.import_role(record)).collect())
    }

    async fn import_users(&self, users: &[UserRecord<X>]) -> Result<Vec<ImportOutcome>> {
        let mut state = self.state();
        Ok(users.iter().map(|record| state.import_user(record)).collect())
    }
}

impl<X: UserExtension> State<X> {
    fn export_role(&self, role: IdentityRole) -> RoleRecord {
        let claims =
            self.role_claims.iter().filter(|(owner, _)| *owner == role.id).map(|(_, c)| ClaimRecord::from(c.clone()));
        let claims = claims.collect();
        RoleRecord { claims, ..RoleRecord::from_role(role) }
    }

    fn export_user(&self, user: &IdentityUser<X>) -> Result<UserRecord<X>> {
        let id = &user.id;
        let mut record = UserRecord::from_user(user.clone());
        record.claims = self
            .user_claims
            .iter()
            .filter(|(owner, _)| owner == id)
            .map(|(_, c)| ClaimRecord::from(c.clone()))
            .collect();
        record.logins =
            self.logins.iter().filter(|(owner, _)| owner == id).map(|(_, l)| LoginRecord::from(l.clone())).collect();
        record.tokens = self
            .tokens
            .iter()
            .filter(|((owner, _, _), _)| owner == id)
            .map(|((_, login_provider, name), value)| TokenRecord {
                login_provider: login_provider.clone(),
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        record.passkeys = self
            .passkeys
            .iter()
            .filter(|(owner, _)| owner == id)
            .map(|(_, p)| PasskeyRecord::from(p.clone()))
            .collect();
        for (_, role_id) in self.user_roles.iter().filter(|(owner, _)| owner == id) {
            let Some(role) = self.roles.get(role_id) else { continue };
            // A record names roles by normalized name; leaving the membership out instead would
            // lose it without a word.
            let name = role.normalized_name.clone().ok_or_else(|| {
                Error::InconsistentData(format!(
                    "role {} has no normalized name, so the membership of user {id} cannot be exported",
                    role.id
                ))
            })?;
            record.roles.push(name);
        }
        record.roles.sort();
        Ok(record)
    }

    fn import_role(&mut self, record: &RoleRecord) -> ImportOutcome {
        if self.roles.contains_key(&record.id) {
            return ImportOutcome::Skipped;
        }
        if self.role_name_taken(record.normalized_name.as_deref(), &record.id) {
            return ImportOutcome::Failed(reasons::role_name_taken(
                record.normalized_name.as_deref().unwrap_or_default(),
            ));
        }
        self.roles.insert(record.id.clone(), record.to_role());
        let claims = record.claims.iter().map(|claim| (record.id.clone(), StoredClaim::from(claim.clone())));
        self.role_claims.extend(claims);
        ImportOutcome::Created
    }

    /// Checks everything first and writes only then, so a refused record leaves nothing behind.
    fn import_user(&mut self, record: &UserRecord<X>) -> ImportOutcome {
        match self.refusal(record) {
            Ok(role_ids) => {
                self.write_user(record, role_ids);
                ImportOutcome::Created
            }
            Err(outcome) => outcome,
        }
    }

    /// Why `record` is not written (skipped or failed), or the ids of its roles.
    fn refusal(&self, record: &UserRecord<X>) -> std::result::Result<Vec<String>, ImportOutcome> {
        if self.users.contains_key(&record.id) {
            return Err(ImportOutcome::Skipped);
        }
        if let Some(problem) = record.duplicate_key() {
            return Err(ImportOutcome::Failed(problem));
        }
        if self.name_taken(record.normalized_user_name.as_deref(), &record.id) {
            let name = record.normalized_user_name.as_deref().unwrap_or_default();
            return Err(ImportOutcome::Failed(reasons::user_name_taken(name)));
        }
        let mut role_ids: Vec<String> = Vec::with_capacity(record.roles.len());
        for name in &record.roles {
            let role = self.role_by_name(name).ok_or_else(|| ImportOutcome::Failed(reasons::unknown_role(name)))?;
            // A role named twice is one membership, as adding a user to a role twice is.
            if !role_ids.contains(&role.id) {
                role_ids.push(role.id.clone());
            }
        }
        let login_taken = record.logins.iter().any(|login| {
            self.logins
                .iter()
                .any(|(_, l)| l.login_provider == login.login_provider && l.provider_key == login.provider_key)
        });
        if login_taken {
            return Err(ImportOutcome::Failed(reasons::LOGIN_TAKEN.to_owned()));
        }
        let passkey_taken = record
            .passkeys
            .iter()
            .any(|passkey| self.passkeys.iter().any(|(_, p)| p.credential_id == passkey.credential_id));
        if passkey_taken {
            return Err(ImportOutcome::Failed(reasons::PASSKEY_TAKEN.to_owned()));
        }
        Ok(role_ids)
    }

    fn write_user(&mut self, record: &UserRecord<X>, role_ids: Vec<String>) {
        let id = &record.id;
        self.users.insert(id.clone(), record.to_user());
        self.user_claims.extend(record.claims.iter().map(|c| (id.clone(), StoredClaim::from(c.clone()))));
        self.logins.extend(record.logins.iter().map(|l| (id.clone(), UserLoginInfo::from(l.clone()))));
        for token in &record.tokens {
            let key = (id.clone(), token.login_provider.clone(), token.name.clone());
            self.tokens.insert(key, token.value.clone());
        }
        self.passkeys.extend(record.passkeys.iter().map(|p| (id.clone(), UserPasskeyInfo::from(p.clone()))));
        self.user_roles.extend(role_ids.into_iter().map(|role_id| (id.clone(), role_id)));
    }
}

//! User claims, role claims and the one-read claims data of a user (the user, its claims, and its roles with
//! their claims).

use super::MemoryStore;
use crate::error::Result;
use crate::model::{IdentityRole, IdentityUser, StoredClaim, UserExtension};
use crate::store::{RoleClaimStore, RoleWithClaims, UserClaimStore, UserClaimsData, UserClaimsDataStore};
use async_trait::async_trait;

#[async_trait]
impl<X: UserExtension> UserClaimStore<X> for MemoryStore<X> {
    async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<StoredClaim>> {
        let state = self.state();
        Ok(state.user_claims.iter().filter(|(id, _)| *id == user.id).map(|(_, c)| c.clone()).collect())
    }

    async fn add_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()> {
        let mut state = self.state();
        state.user_claims.extend(claims.iter().map(|c| (user.id.clone(), c.clone())));
        Ok(())
    }

    async fn replace_claim(&self, user: &IdentityUser<X>, claim: &StoredClaim, new_claim: &StoredClaim) -> Result<()> {
        let mut state = self.state();
        for (id, stored) in state.user_claims.iter_mut() {
            if *id == user.id && stored == claim {
                *stored = new_claim.clone();
            }
        }
        Ok(())
    }

    async fn remove_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()> {
        let mut state = self.state();
        state.user_claims.retain(|(id, c)| *id != user.id || !claims.contains(c));
        Ok(())
    }

    async fn get_users_for_claim(&self, claim: &StoredClaim) -> Result<Vec<IdentityUser<X>>> {
        let state = self.state();
        let mut ids: Vec<&String> = state.user_claims.iter().filter(|(_, c)| c == claim).map(|(id, _)| id).collect();
        ids.dedup();
        Ok(state.users_with_ids(ids.into_iter()))
    }
}

#[async_trait]
impl<X: UserExtension> RoleClaimStore for MemoryStore<X> {
    async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<StoredClaim>> {
        let state = self.state();
        Ok(state.role_claims.iter().filter(|(id, _)| *id == role.id).map(|(_, c)| c.clone()).collect())
    }

    async fn add_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        self.state().role_claims.push((role.id.clone(), claim.clone()));
        Ok(())
    }

    async fn remove_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        self.state().role_claims.retain(|(id, c)| !(*id == role.id && c == claim));
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

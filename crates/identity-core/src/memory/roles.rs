//! Role memberships of users, and the role listing.

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::model::{IdentityRole, IdentityUser, UserExtension};
use crate::store::{QueryableRoleStore, UserRoleStore};
use async_trait::async_trait;

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

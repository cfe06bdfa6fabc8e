//! Role memberships: adding and removing them (all or nothing), listing them and finding role members.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::{Capability, UserRoleStore};

impl<X: UserExtension> UserManager<X> {
    /// Adds the user to a role; `UserAlreadyInRole` when a member, [`Error::RoleNotFound`] when
    /// the role does not exist.
    pub async fn add_to_role(&self, user: &mut IdentityUser<X>, role: &str) -> Result<IdentityResult> {
        self.add_to_roles(user, &[role]).await
    }

    /// Adds the user to several roles (duplicates in `roles` ignored). Memberships are checked
    /// before anything is written, so a failure leaves every membership unchanged.
    pub async fn add_to_roles(&self, user: &mut IdentityUser<X>, roles: &[&str]) -> Result<IdentityResult> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        let mut distinct: Vec<&str> = Vec::new();
        for role in roles {
            if !distinct.contains(role) {
                distinct.push(role);
            }
        }
        for role in &distinct {
            if store.is_in_role(user, &self.normalize_name(role)).await? {
                tracing::debug!(role, "user is already in role");
                return Ok(IdentityResult::failed([self.describer.user_already_in_role(role)]));
            }
        }
        for role in &distinct {
            store.add_to_role(user, &self.normalize_name(role)).await?;
        }
        self.update_user(user).await
    }

    /// Removes the user from a role; `UserNotInRole` when not a member.
    pub async fn remove_from_role(&self, user: &mut IdentityUser<X>, role: &str) -> Result<IdentityResult> {
        self.remove_from_roles(user, &[role]).await
    }

    /// Removes the user from several roles; nothing changes when one is not a membership.
    pub async fn remove_from_roles(&self, user: &mut IdentityUser<X>, roles: &[&str]) -> Result<IdentityResult> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        for role in roles {
            if !store.is_in_role(user, &self.normalize_name(role)).await? {
                tracing::debug!(role, "user is not in role");
                return Ok(IdentityResult::failed([self.describer.user_not_in_role(role)]));
            }
        }
        for role in roles {
            store.remove_from_role(user, &self.normalize_name(role)).await?;
        }
        self.update_user(user).await
    }

    /// Display names of the user's roles.
    pub async fn get_roles(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.get_roles(user).await
    }

    /// Whether the user is in a role.
    pub async fn is_in_role(&self, user: &IdentityUser<X>, role: &str) -> Result<bool> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.is_in_role(user, &self.normalize_name(role)).await
    }

    /// Members of a role.
    pub async fn get_users_in_role(&self, role: &str) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.get_users_in_role(&self.normalize_name(role)).await
    }
}

//! Creating, updating, deleting and finding users: the entry points of the manager, each ending in the
//! store call (or the write pipeline) of the parent module.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension, is_storable_name};
use crate::result::IdentityResult;
use crate::store::{Capability, QueryableUserStore, UserEmailStore, UserLoginStore, UserQuery};

impl<X: UserExtension> UserManager<X> {
    /// Creates a user: new security stamp, validation, lockout enabled when
    /// `lockout.allowed_for_new_users`, normalized name and email, then insert.
    pub async fn create(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        self.rotate_security_stamp(user);
        let validation = self.validate_user(user).await?;
        if !validation.succeeded() {
            return Ok(validation);
        }
        if self.options.lockout.allowed_for_new_users && self.supports_user_lockout() {
            user.lockout_enabled = true;
        }
        self.update_normalized_fields(user);
        self.store.create(user).await
    }

    /// Validates and hashes `password`, then creates the user.
    pub async fn create_with_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<IdentityResult> {
        let result = self.update_password_hash(user, Some(password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.create(user).await
    }

    /// Validates and writes the user (no stamp rotation).
    pub async fn update(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        self.update_user(user).await
    }

    /// Deletes the user and its claims, logins, tokens, roles and passkeys.
    pub async fn delete(&self, user: &IdentityUser<X>) -> Result<IdentityResult> {
        self.store.delete(user).await
    }

    /// Finds a user by id.
    pub async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser<X>>> {
        self.store.find_by_id(user_id).await
    }

    /// Finds a user by user name (normalized first).
    /// A name that no user can have (see [`is_storable_name`]) finds nobody without asking the
    /// store.
    pub async fn find_by_name(&self, user_name: &str) -> Result<Option<IdentityUser<X>>> {
        if !is_storable_name(user_name) {
            return Ok(None);
        }
        self.store.find_by_name(&self.normalize_name(user_name)).await
    }

    /// Finds a user by email (normalized first). An address that no user can have (see
    /// [`is_storable_name`]) finds nobody without asking the store.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserEmailStore<X> = require!(self.email_store, Capability::Email);
        if !is_storable_name(email) {
            return Ok(None);
        }
        store.find_by_email(&self.normalize_email(email)).await
    }

    /// Finds the user owning an external login.
    pub async fn find_by_login(&self, login_provider: &str, provider_key: &str) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.find_by_login(login_provider, provider_key).await
    }

    /// Lists users.
    pub async fn users(&self, query: &UserQuery) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn QueryableUserStore<X> = require!(self.queryable_store, Capability::QueryableUsers);
        store.users(query).await
    }

    /// Renames the user: rotates the stamp, validates (catching invalid and taken names) and writes.
    pub async fn set_user_name(&self, user: &mut IdentityUser<X>, user_name: Option<&str>) -> Result<IdentityResult> {
        user.user_name = user_name.map(str::to_owned);
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }
}

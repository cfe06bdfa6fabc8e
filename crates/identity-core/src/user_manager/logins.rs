//! External logins: linking, unlinking and listing the logins of other identity providers.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension, UserLoginInfo};
use crate::result::IdentityResult;
use crate::store::{Capability, UserLoginStore};

impl<X: UserExtension> UserManager<X> {
    /// Links an external login; `LoginAlreadyAssociated` when any user (this one included) has it.
    pub async fn add_login(&self, user: &mut IdentityUser<X>, login: &UserLoginInfo) -> Result<IdentityResult> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        if store.find_by_login(&login.login_provider, &login.provider_key).await?.is_some() {
            tracing::debug!("add login failed because it was already associated with another user");
            return Ok(IdentityResult::failed([self.describer.login_already_associated()]));
        }
        store.add_login(user, login).await?;
        self.update_user(user).await
    }

    /// Unlinks an external login and rotates the stamp.
    pub async fn remove_login(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        provider_key: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.remove_login(user, login_provider, provider_key).await?;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The user's external logins.
    pub async fn get_logins(&self, user: &IdentityUser<X>) -> Result<Vec<UserLoginInfo>> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.get_logins(user).await
    }
}

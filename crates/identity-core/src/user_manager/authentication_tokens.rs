//! Authentication tokens: the named tokens stored per user and login provider.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::{Capability, UserAuthenticationTokenStore};

impl<X: UserExtension> UserManager<X> {
    /// Reads an authentication token.
    pub async fn get_authentication_token(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
    ) -> Result<Option<String>> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.get_token(user, login_provider, name).await
    }

    /// Sets an authentication token and writes the user.
    pub async fn set_authentication_token(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.set_token(user, login_provider, name, value).await?;
        self.update_user(user).await
    }

    /// Removes an authentication token and writes the user.
    pub async fn remove_authentication_token(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        name: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.remove_token(user, login_provider, name).await?;
        self.update_user(user).await
    }
}

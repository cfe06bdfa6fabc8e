//! External logins and the authentication tokens kept per login provider, which also hold the authenticator
//! key and the recovery codes.

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension, UserLoginInfo};
use crate::store::{
    UserAuthenticationTokenStore, UserAuthenticatorKeyStore, UserLoginStore, UserTwoFactorRecoveryCodeStore,
};
use async_trait::async_trait;

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

    async fn replace_token_if(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        current: &str,
        replacement: &str,
    ) -> Result<bool> {
        let key = (user.id.clone(), login_provider.to_owned(), name.to_owned());
        let mut state = self.state();
        match state.tokens.get_mut(&key) {
            Some(Some(value)) if value == current => {
                replacement.clone_into(value);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl<X: UserExtension> UserAuthenticatorKeyStore<X> for MemoryStore<X> {}
impl<X: UserExtension> UserTwoFactorRecoveryCodeStore<X> for MemoryStore<X> {}

//! Passkeys: adding, updating, listing and removing the user's passkeys, and finding their owner.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension, UserPasskeyInfo};
use crate::result::IdentityResult;
use crate::store::{Capability, UserPasskeyStore};

impl<X: UserExtension> UserManager<X> {
    /// Adds a passkey, or updates the mutable fields of an existing one, and writes the user.
    pub async fn add_or_update_passkey(
        &self,
        user: &mut IdentityUser<X>,
        passkey: &UserPasskeyInfo,
    ) -> Result<IdentityResult> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.add_or_update_passkey(user, passkey).await?;
        self.update_user(user).await
    }

    /// The user's passkeys.
    pub async fn get_passkeys(&self, user: &IdentityUser<X>) -> Result<Vec<UserPasskeyInfo>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.get_passkeys(user).await
    }

    /// One of the user's passkeys.
    pub async fn get_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<Option<UserPasskeyInfo>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.find_passkey(user, credential_id).await
    }

    /// The owner of a passkey.
    pub async fn find_by_passkey_id(&self, credential_id: &[u8]) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.find_by_passkey_id(credential_id).await
    }

    /// Removes a passkey and writes the user.
    pub async fn remove_passkey(&self, user: &mut IdentityUser<X>, credential_id: &[u8]) -> Result<IdentityResult> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.remove_passkey(user, credential_id).await?;
        self.update_user(user).await
    }
}

//! Passkeys: the WebAuthn credentials of users, stored and found by credential id.

use super::MemoryStore;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension, UserPasskeyInfo};
use crate::store::UserPasskeyStore;
use async_trait::async_trait;

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

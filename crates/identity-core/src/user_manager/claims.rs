//! User claims: adding, replacing, removing and listing them, and finding the users that hold one.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, StoredClaim, UserExtension};
use crate::result::IdentityResult;
use crate::store::{Capability, UserClaimStore};

impl<X: UserExtension> UserManager<X> {
    /// Adds one claim.
    pub async fn add_claim(&self, user: &mut IdentityUser<X>, claim: StoredClaim) -> Result<IdentityResult> {
        self.add_claims(user, &[claim]).await
    }

    /// Adds claims.
    pub async fn add_claims(&self, user: &mut IdentityUser<X>, claims: &[StoredClaim]) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.add_claims(user, claims).await?;
        self.update_user(user).await
    }

    /// Replaces every claim equal to `claim` by `new_claim`.
    pub async fn replace_claim(
        &self,
        user: &mut IdentityUser<X>,
        claim: &StoredClaim,
        new_claim: &StoredClaim,
    ) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.replace_claim(user, claim, new_claim).await?;
        self.update_user(user).await
    }

    /// Removes one claim (every copy of it).
    pub async fn remove_claim(&self, user: &mut IdentityUser<X>, claim: &StoredClaim) -> Result<IdentityResult> {
        self.remove_claims(user, std::slice::from_ref(claim)).await
    }

    /// Removes claims.
    pub async fn remove_claims(&self, user: &mut IdentityUser<X>, claims: &[StoredClaim]) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.remove_claims(user, claims).await?;
        self.update_user(user).await
    }

    /// The user's claims.
    pub async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<StoredClaim>> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.get_claims(user).await
    }

    /// Users holding a claim.
    pub async fn get_users_for_claim(&self, claim: &StoredClaim) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.get_users_for_claim(claim).await
    }
}

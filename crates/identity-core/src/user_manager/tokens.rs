//! User tokens: generating and verifying purpose-bound tokens with the registered token providers.

use super::UserManager;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};

impl<X: UserExtension> UserManager<X> {
    /// The names of the registered token providers, in registration order.
    pub fn token_provider_names(&self) -> Vec<&str> {
        self.token_providers.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// A token from the named provider for a purpose.
    pub async fn generate_user_token(&self, user: &IdentityUser<X>, provider: &str, purpose: &str) -> Result<String> {
        self.token_provider(provider)?.generate(purpose, self, user).await
    }

    /// Whether a token from the named provider is valid for a purpose.
    pub async fn verify_user_token(
        &self,
        user: &IdentityUser<X>,
        provider: &str,
        purpose: &str,
        token: &str,
    ) -> Result<bool> {
        let valid = self.token_provider(provider)?.validate(purpose, token, self, user).await?;
        if !valid {
            tracing::debug!(purpose, "verify user token failed");
        }
        Ok(valid)
    }
}

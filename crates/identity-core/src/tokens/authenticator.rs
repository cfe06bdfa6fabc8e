//! The authenticator-app provider (.NET's `AuthenticatorTokenProvider`, "Authenticator"):
//! standard RFC 6238 codes (HMAC-SHA1, 30-second steps, six digits, no modifier) from the user's
//! Base32 authenticator key, as Google Authenticator and compatible apps compute them.

use super::TokenProvider;
use super::rfc6238;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use async_trait::async_trait;

/// Length of a time step of authenticator codes, in seconds.
const STEP_SECONDS: i64 = 30;

/// Validates codes from the user's authenticator app.
///
/// - [`generate`](TokenProvider::generate) returns `""`: codes come from the app.
/// - [`validate`](TokenProvider::validate) accepts the code of any 30-second step within two
///   steps of now (±60–90 seconds) on [`UserManager::clock`]; the code parses as .NET's
///   `int.TryParse` does, so `" 012345 "` and `"12345"` both match `012345`. A missing key, an
///   unparseable code or a key that is not valid Base32 gives `false`. The purpose is ignored
///   and codes are not single-use.
/// - [`can_generate_two_factor_token`](TokenProvider::can_generate_two_factor_token) is true
///   when the user has a non-blank authenticator key. Unlike .NET, a store without authenticator
///   keys gives `false` rather than an error, so that listing the valid two-factor providers
///   works with any store.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuthenticatorTokenProvider;

#[async_trait]
impl<X: UserExtension> TokenProvider<X> for AuthenticatorTokenProvider {
    async fn generate(
        &self,
        _purpose: &str,
        _manager: &UserManager<X>,
        _user: &IdentityUser<X>,
    ) -> Result<String> {
        Ok(String::new())
    }

    async fn validate(
        &self,
        _purpose: &str,
        token: &str,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<bool> {
        let Some(key) = manager.get_authenticator_key(user).await? else {
            return Ok(false);
        };
        let (Some(code), Some(key)) = (rfc6238::parse_code(token), crate::base32::decode(&key))
        else {
            return Ok(false);
        };
        Ok(rfc6238::validate_totp(
            &key,
            code,
            manager.clock().now(),
            STEP_SECONDS,
            None,
        ))
    }

    async fn can_generate_two_factor_token(
        &self,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<bool> {
        if !manager.supports_user_authenticator_key() {
            return Ok(false);
        }
        let key = manager.get_authenticator_key(user).await?;
        Ok(key.is_some_and(|key| !key.trim().is_empty()))
    }
}

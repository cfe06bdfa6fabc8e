//! The authenticator-app provider (.NET's `AuthenticatorTokenProvider`, "Authenticator"):
//! standard RFC 6238 codes (HMAC-SHA1, 30-second steps, six digits, no modifier) from the user's
//! Base32 authenticator key, as Google Authenticator and compatible apps compute them.

use super::TokenProvider;
use super::rfc6238;
use crate::base32;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use async_trait::async_trait;

/// An authenticator code as people type it, without the spaces and dashes that apps and pages
/// show to group its digits (the reference UI strips them too before verifying).
pub fn without_separators(code: &str) -> String {
    code.chars().filter(|character| !character.is_whitespace() && *character != '-').collect()
}

/// Length of a time step of authenticator codes, in seconds.
const STEP_SECONDS: i64 = 30;

/// Validates codes from the user's authenticator app.
///
/// - [`generate`](TokenProvider::generate) returns `""`: codes come from the app.
/// - [`validate`](TokenProvider::validate) accepts the code of any 30-second step within two
///   steps of now (±60–90 seconds) on [`UserManager::clock`]; the code parses as .NET's
///   `int.TryParse` does, so `" 012345 "` and `"12345"` both match `012345`. A missing or blank
///   key, a key that is not valid Base32 or an unparseable code gives `false`; a store without
///   authenticator keys is [`Error::NotSupported`](crate::Error::NotSupported). The purpose is
///   ignored and codes are not single-use.
/// - [`can_generate_two_factor_token`](TokenProvider::can_generate_two_factor_token) is true
///   when the user has a non-blank authenticator key. Unlike .NET, a store without authenticator
///   keys gives `false` rather than an error, so that listing the valid two-factor providers
///   works with any store.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuthenticatorTokenProvider;

/// The user's authenticator key, unless it is missing or blank.
async fn usable_key<X: UserExtension>(manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<Option<String>> {
    let key = manager.get_authenticator_key(user).await?;
    Ok(key.filter(|key| !key.trim().is_empty()))
}

#[async_trait]
impl<X: UserExtension> TokenProvider<X> for AuthenticatorTokenProvider {
    async fn generate(&self, _purpose: &str, _manager: &UserManager<X>, _user: &IdentityUser<X>) -> Result<String> {
        Ok(String::new())
    }

    async fn validate(
        &self,
        _purpose: &str,
        token: &str,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<bool> {
        let key = usable_key(manager, user).await?;
        let (Some(key), Some(code)) = (key.as_deref().and_then(base32::decode), rfc6238::parse_code(token)) else {
            return Ok(false);
        };
        Ok(rfc6238::validate_totp(&key, code, manager.clock().now(), STEP_SECONDS, None))
    }

    async fn can_generate_two_factor_token(&self, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<bool> {
        Ok(manager.supports_user_authenticator_key() && usable_key(manager, user).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::test_support::{BareStore, Fixture, fixture, manager_over, t0};
    use chrono::{DateTime, Duration};
    use std::sync::Arc;

    /// The RFC 6238 SHA-1 secret `12345678901234567890`, in Base32.
    const KEY: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const SECRET: &[u8] = b"12345678901234567890";

    async fn with_key(key: &str) -> Fixture {
        let f = fixture().await;
        let store = f.manager.store().authenticator_key_store().unwrap();
        store.set_authenticator_key(&f.user, key).await.unwrap();
        f
    }

    async fn validates(f: &Fixture, code: &str) -> bool {
        AuthenticatorTokenProvider.validate("TwoFactor", code, &f.manager, &f.user).await.unwrap()
    }

    #[tokio::test]
    async fn accepts_the_rfc6238_code_of_the_key() {
        let f = with_key(KEY).await;
        f.clock.set(DateTime::from_timestamp(59, 0).unwrap());
        assert!(validates(&f, "287082").await, "94287082 from RFC 6238 appendix B, six digits");
        f.clock.set(DateTime::from_timestamp(1_234_567_890, 0).unwrap());
        assert!(validates(&f, "005924").await);
        assert!(validates(&f, "5924").await, "leading zeros are optional");
        assert!(validates(&f, " +005924\n").await, "white space and sign as int.TryParse");
        assert!(!validates(&f, "005925").await);
    }

    #[tokio::test]
    async fn accepts_two_steps_of_drift_either_way() {
        let f = with_key(KEY).await;
        for drift in -4i64..=4 {
            let code = rfc6238::totp(SECRET, t0() + Duration::seconds(30 * drift), 30, None);
            assert_eq!(validates(&f, &format!("{code:06}")).await, drift.abs() <= 2, "drift {drift}");
        }
    }

    #[tokio::test]
    async fn the_key_is_case_insensitive_and_the_purpose_ignored() {
        let f = with_key(&KEY.to_lowercase()).await;
        let code = format!("{:06}", rfc6238::totp(SECRET, t0(), 30, None));
        for purpose in ["TwoFactor", "", "anything"] {
            assert!(AuthenticatorTokenProvider.validate(purpose, &code, &f.manager, &f.user).await.unwrap());
        }
        assert!(f.manager.verify_two_factor_token(&f.user, "Authenticator", &code).await.unwrap());
    }

    #[tokio::test]
    async fn unusable_keys_and_codes_are_false() {
        let code = format!("{:06}", rfc6238::totp(SECRET, t0(), 30, None));
        let f = fixture().await;
        assert!(!validates(&f, &code).await, "no key");
        for key in ["", "   ", "GEZDGNBV1!", "not base32"] {
            let f = with_key(key).await;
            assert!(!validates(&f, &code).await, "key {key:?}");
        }
        let f = with_key(KEY).await;
        for garbage in ["", " ", "abc", "12 34", "1.5", "99999999999", "-1"] {
            assert!(!validates(&f, garbage).await, "code {garbage:?}");
        }
    }

    #[tokio::test]
    async fn generates_nothing_and_is_a_second_factor_once_a_key_is_set() {
        let f = fixture().await;
        let provider = AuthenticatorTokenProvider;
        assert_eq!(provider.generate("TwoFactor", &f.manager, &f.user).await.unwrap(), "");
        assert!(!provider.can_generate_two_factor_token(&f.manager, &f.user).await.unwrap());
        let f = with_key("  ").await;
        assert!(!provider.can_generate_two_factor_token(&f.manager, &f.user).await.unwrap());
        let f = with_key(KEY).await;
        assert!(provider.can_generate_two_factor_token(&f.manager, &f.user).await.unwrap());
        let names = f.manager.get_valid_two_factor_providers(&f.user).await.unwrap();
        assert_eq!(names, ["Authenticator"]);
    }

    #[tokio::test]
    async fn a_store_without_keys_is_no_second_factor_and_cannot_validate() {
        let (manager, _clock) = manager_over(Arc::new(BareStore));
        let user = crate::IdentityUser::new("carol");
        let provider = AuthenticatorTokenProvider;
        assert!(!provider.can_generate_two_factor_token(&manager, &user).await.unwrap());
        let error = provider.validate("TwoFactor", "123456", &manager, &user).await.unwrap_err();
        assert!(matches!(error, crate::Error::NotSupported(_)), "{error:?}");
    }
}

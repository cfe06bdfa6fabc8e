//! Token providers: one-time codes and links for email confirmation, password reset, email and
//! phone changes and two-factor sign-in, keyed to the user's security stamp so that any stamp
//! change invalidates them.
//!
//! | Provider | Name | Tokens |
//! |---|---|---|
//! | [`DataProtectorTokenProvider`] | "Default" | signed, expiring link tokens |
//! | [`EmailTokenProvider`] | "Email" | six-digit codes keyed to the stamp, 3-minute steps |
//! | [`PhoneNumberTokenProvider`] | "Phone" | six-digit codes keyed to the stamp, 3-minute steps |
//! | [`AuthenticatorTokenProvider`] | "Authenticator" | RFC 6238 authenticator-app codes |
//!
//! [`rfc6238`] holds the HOTP/TOTP algorithm they share.

use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use async_trait::async_trait;

mod authenticator;
mod data_protector;
pub mod rfc6238;
mod totp;

#[cfg(test)]
mod test_support;

pub use authenticator::{AuthenticatorTokenProvider, without_separators};
pub use data_protector::DataProtectorTokenProvider;
pub use totp::{EmailTokenProvider, PhoneNumberTokenProvider};

/// Generates and validates tokens for a purpose (.NET's `IUserTwoFactorTokenProvider<TUser>`).
#[async_trait]
pub trait TokenProvider<X: UserExtension>: Send + Sync + std::fmt::Debug {
    /// A token for `purpose` and `user`.
    async fn generate(&self, purpose: &str, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<String>;
    /// Whether `token` is valid for `purpose` and `user`. Malformed tokens are `false`, not errors.
    async fn validate(
        &self,
        purpose: &str,
        token: &str,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<bool>;
    /// Whether this provider can serve as a second factor for `user`.
    async fn can_generate_two_factor_token(&self, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<bool>;
}

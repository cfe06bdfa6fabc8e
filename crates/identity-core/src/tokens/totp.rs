//! Security-stamp TOTP providers (.NET's `TotpSecurityStampBasedTokenProvider` and its
//! `EmailTokenProvider` and `PhoneNumberTokenProvider` subclasses): six-digit codes to send by
//! email or text message. Both providers share one implementation, parameterised by a
//! [`Channel`].

use super::TokenProvider;
use super::rfc6238;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use async_trait::async_trait;

/// Length of a time step of security-stamp codes, in seconds (3 minutes, as in .NET).
const STEP_SECONDS: i64 = 180;

/// What distinguishes the email and phone providers: the contact a code is sent to.
trait Channel {
    /// First part of the modifier: `Email` or `PhoneNumber`.
    const LABEL: &'static str;
    /// The user's current contact (email address or phone number), if any.
    fn contact<X: UserExtension>(user: &IdentityUser<X>) -> Option<&str>;
    /// Whether that contact is confirmed.
    fn confirmed<X: UserExtension>(user: &IdentityUser<X>) -> bool;
}

/// The modifier `"{label}:{purpose}:{contact}"`, with an empty contact when there is none.
fn modifier<C: Channel, X: UserExtension>(purpose: &str, user: &IdentityUser<X>) -> String {
    format!(
        "{}:{purpose}:{}",
        C::LABEL,
        C::contact(user).unwrap_or_default()
    )
}

/// The current code, six digits with leading zeros.
async fn generate<C: Channel, X: UserExtension>(
    purpose: &str,
    manager: &UserManager<X>,
    user: &IdentityUser<X>,
) -> Result<String> {
    let key = manager.create_security_token(user).await?;
    let code = rfc6238::totp(
        &key,
        manager.clock().now(),
        STEP_SECONDS,
        Some(&modifier::<C, X>(purpose, user)),
    );
    Ok(format!("{code:0width$}", width = rfc6238::DIGITS as usize))
}

/// Whether `token` parses as an integer matching the code of a step within ±2 of now.
async fn validate<C: Channel, X: UserExtension>(
    purpose: &str,
    token: &str,
    manager: &UserManager<X>,
    user: &IdentityUser<X>,
) -> Result<bool> {
    let Some(code) = rfc6238::parse_code(token) else {
        return Ok(false);
    };
    let key = manager.create_security_token(user).await?;
    let modifier = modifier::<C, X>(purpose, user);
    Ok(rfc6238::validate_totp(
        &key,
        code,
        manager.clock().now(),
        STEP_SECONDS,
        Some(&modifier),
    ))
}

/// Whether the user has a non-blank, confirmed contact.
fn can_generate<C: Channel, X: UserExtension>(user: &IdentityUser<X>) -> bool {
    C::contact(user).is_some_and(|contact| !contact.trim().is_empty()) && C::confirmed(user)
}

/// Implements [`TokenProvider`] for a channel type with the shared stamp-TOTP functions.
macro_rules! stamp_totp_provider {
    ($provider:ty) => {
        #[async_trait]
        impl<X: UserExtension> TokenProvider<X> for $provider {
            async fn generate(
                &self,
                purpose: &str,
                manager: &UserManager<X>,
                user: &IdentityUser<X>,
            ) -> Result<String> {
                generate::<Self, X>(purpose, manager, user).await
            }

            async fn validate(
                &self,
                purpose: &str,
                token: &str,
                manager: &UserManager<X>,
                user: &IdentityUser<X>,
            ) -> Result<bool> {
                validate::<Self, X>(purpose, token, manager, user).await
            }

            async fn can_generate_two_factor_token(
                &self,
                _: &UserManager<X>,
                user: &IdentityUser<X>,
            ) -> Result<bool> {
                Ok(can_generate::<Self, X>(user))
            }
        }
    };
}

/// Six-digit codes for the user's email address ("Email").
///
/// The HMAC key is the UTF-16LE bytes of the user's security stamp
/// ([`UserManager::create_security_token`]), so rotating the stamp invalidates every outstanding
/// code; a user without a stamp is an error. The modifier `"Email:{purpose}:{email}"` binds a
/// code to its purpose and to the user's current email address (`""` when there is none). Codes
/// use 3-minute steps counted from the Unix epoch on [`UserManager::clock`] and validate within
/// two steps either way (about ±6–9 minutes). A token parses as .NET's `int.TryParse` does, so
/// `" 012345 "` and `"12345"` both match `012345`; one that does not parse is `false`. Codes are
/// not single-use.
///
/// A second factor when the user has a non-blank, confirmed email address.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmailTokenProvider;

impl Channel for EmailTokenProvider {
    const LABEL: &'static str = "Email";

    fn contact<X: UserExtension>(user: &IdentityUser<X>) -> Option<&str> {
        user.email.as_deref()
    }

    fn confirmed<X: UserExtension>(user: &IdentityUser<X>) -> bool {
        user.email_confirmed
    }
}

stamp_totp_provider!(EmailTokenProvider);

/// Six-digit codes for the user's phone number ("Phone"), computed and checked as by
/// [`EmailTokenProvider`] but with the modifier `"PhoneNumber:{purpose}:{phoneNumber}"`, where
/// `phoneNumber` is the user's *current* stored number (`""` when there is none).
///
/// A change-phone-number token has the purpose `"ChangePhoneNumber:{new}"`, so it binds both the
/// old and the new number. A second factor when the user has a non-blank, confirmed phone
/// number.
#[derive(Debug, Default, Clone, Copy)]
pub struct PhoneNumberTokenProvider;

impl Channel for PhoneNumberTokenProvider {
    const LABEL: &'static str = "PhoneNumber";

    fn contact<X: UserExtension>(user: &IdentityUser<X>) -> Option<&str> {
        user.phone_number.as_deref()
    }

    fn confirmed<X: UserExtension>(user: &IdentityUser<X>) -> bool {
        user.phone_number_confirmed
    }
}

stamp_totp_provider!(PhoneNumberTokenProvider);

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
    format!("{}:{purpose}:{}", C::LABEL, C::contact(user).unwrap_or_default())
}

/// The current code, six digits with leading zeros.
async fn generate<C: Channel, X: UserExtension>(
    purpose: &str,
    manager: &UserManager<X>,
    user: &IdentityUser<X>,
) -> Result<String> {
    let key = manager.create_security_token(user).await?;
    let code = rfc6238::totp(&key, manager.clock().now(), STEP_SECONDS, Some(&modifier::<C, X>(purpose, user)));
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
    Ok(rfc6238::validate_totp(&key, code, manager.clock().now(), STEP_SECONDS, Some(&modifier)))
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

            async fn can_generate_two_factor_token(&self, _: &UserManager<X>, user: &IdentityUser<X>) -> Result<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::test_support::{BareStore, Fixture, fixture, manager_over, t0};
    use chrono::Duration;
    use std::sync::Arc;

    /// One of the two providers, with the user fields its channel reads.
    struct Case {
        provider: &'static dyn TokenProvider<()>,
        name: &'static str,
        label: &'static str,
        set_contact: fn(&mut IdentityUser, Option<&str>, bool),
    }

    fn cases() -> [Case; 2] {
        [
            Case {
                provider: &EmailTokenProvider,
                name: "Email",
                label: "Email",
                set_contact: |user, email, confirmed| {
                    user.email = email.map(str::to_owned);
                    user.email_confirmed = confirmed;
                },
            },
            Case {
                provider: &PhoneNumberTokenProvider,
                name: "Phone",
                label: "PhoneNumber",
                set_contact: |user, phone, confirmed| {
                    user.phone_number = phone.map(str::to_owned);
                    user.phone_number_confirmed = confirmed;
                },
            },
        ]
    }

    /// The code .NET computes: TOTP over the UTF-16LE stamp with the channel's modifier.
    fn expected_code(f: &Fixture, at: chrono::DateTime<chrono::Utc>, modifier: &str) -> String {
        let stamp = f.user.security_stamp.as_deref().unwrap();
        let key: Vec<u8> = stamp.encode_utf16().flat_map(u16::to_le_bytes).collect();
        format!("{:06}", rfc6238::totp(&key, at, 180, Some(modifier)))
    }

    async fn validates(case: &Case, f: &Fixture, purpose: &str, token: &str) -> bool {
        case.provider.validate(purpose, token, &f.manager, &f.user).await.unwrap()
    }

    #[tokio::test]
    async fn codes_are_the_dotnet_stamp_totp_codes() {
        for case in cases() {
            let mut f = fixture().await;
            (case.set_contact)(&mut f.user, Some("contact@example.com"), true);
            let token = case.provider.generate("Purpose", &f.manager, &f.user).await.unwrap();
            assert_eq!(token.len(), 6);
            assert!(token.bytes().all(|b| b.is_ascii_digit()), "{token}");
            let modifier = format!("{}:Purpose:contact@example.com", case.label);
            assert_eq!(token, expected_code(&f, t0(), &modifier), "{}", case.name);
            assert!(validates(&case, &f, "Purpose", &token).await);

            (case.set_contact)(&mut f.user, None, false);
            let token = case.provider.generate("Purpose", &f.manager, &f.user).await.unwrap();
            assert_eq!(token, expected_code(&f, t0(), &format!("{}:Purpose:", case.label)));
        }
    }

    #[tokio::test]
    async fn codes_validate_within_two_steps_either_way() {
        for case in cases() {
            let f = fixture().await;
            for drift in -4i64..=4 {
                f.clock.set(t0() + Duration::minutes(3 * drift));
                let token = case.provider.generate("p", &f.manager, &f.user).await.unwrap();
                f.clock.set(t0());
                assert_eq!(validates(&case, &f, "p", &token).await, drift.abs() <= 2, "{} {drift}", case.name);
            }
        }
    }

    #[tokio::test]
    async fn tokens_parse_like_int_try_parse() {
        for case in cases() {
            let f = fixture().await;
            let token = case.provider.generate("p", &f.manager, &f.user).await.unwrap();
            let number: u32 = token.parse().unwrap();
            for variant in [format!("{number}"), format!(" +{token}\t"), format!("000{token}")] {
                assert!(validates(&case, &f, "p", &variant).await, "{variant:?}");
            }
            for garbage in ["", "  ", "abc", &format!("{token}x"), &format!("1{token}"), "2147483648"] {
                assert!(!validates(&case, &f, "p", garbage).await, "{garbage:?}");
            }
        }
    }

    #[tokio::test]
    async fn codes_are_bound_to_purpose_contact_stamp_and_channel() {
        for case in cases() {
            let mut f = fixture().await;
            (case.set_contact)(&mut f.user, Some("+15550100"), true);
            let token = case.provider.generate("p", &f.manager, &f.user).await.unwrap();
            assert!(!validates(&case, &f, "q", &token).await, "purpose");

            let other = cases().into_iter().find(|other| other.name != case.name).unwrap();
            (other.set_contact)(&mut f.user, Some("+15550100"), true);
            assert!(!validates(&other, &f, "p", &token).await, "channel");

            (case.set_contact)(&mut f.user, Some("+15550199"), true);
            assert!(!validates(&case, &f, "p", &token).await, "contact");
            (case.set_contact)(&mut f.user, Some("+15550100"), true);
            assert!(validates(&case, &f, "p", &token).await, "contact restored");

            assert!(f.manager.update_security_stamp(&mut f.user).await.unwrap().succeeded());
            assert!(!validates(&case, &f, "p", &token).await, "stamp");
        }
    }

    #[tokio::test]
    async fn a_confirmed_non_blank_contact_makes_a_second_factor() {
        for case in cases() {
            let mut f = fixture().await;
            let states = [(None, true, false), (Some(""), true, false), (Some(" \t"), true, false)];
            let states = states.into_iter().chain([(Some("x@y"), false, false), (Some("x@y"), true, true)]);
            for (contact, confirmed, expected) in states {
                (case.set_contact)(&mut f.user, contact, confirmed);
                let can = case.provider.can_generate_two_factor_token(&f.manager, &f.user).await.unwrap();
                assert_eq!(can, expected, "{} {contact:?} {confirmed}", case.name);
            }
            let names = f.manager.get_valid_two_factor_providers(&f.user).await.unwrap();
            assert_eq!(names, [case.name]);
            let token = f.manager.generate_two_factor_token(&f.user, case.name).await.unwrap();
            assert!(f.manager.verify_two_factor_token(&f.user, case.name, &token).await.unwrap());
        }
    }

    #[tokio::test]
    async fn stamps_are_required() {
        for case in cases() {
            let mut f = fixture().await;
            f.user.security_stamp = None;
            let error = case.provider.generate("p", &f.manager, &f.user).await.unwrap_err();
            assert!(matches!(error, crate::Error::NullSecurityStamp), "{error:?}");

            let (manager, _clock) = manager_over(Arc::new(BareStore));
            let user = IdentityUser::new("carol");
            let error = case.provider.generate("p", &manager, &user).await.unwrap_err();
            assert!(matches!(error, crate::Error::NotSupported(_)), "{error:?}");
            assert!(!case.provider.validate("p", "abc", &manager, &user).await.unwrap(), "parsed first");
        }
    }
}

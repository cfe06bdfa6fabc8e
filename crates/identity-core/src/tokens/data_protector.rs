//! The "Default" provider (.NET's `DataProtectorTokenProvider`): signed, expiring link tokens.

use super::TokenProvider;
use crate::error::Result;
use crate::model::{IdentityUser, UserExtension};
use crate::user_manager::UserManager;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The first byte of every token: the version of the token format.
const FORMAT_VERSION: u8 = 1;

/// The label under which the signing key is derived from the secret (.NET's protector purpose).
const KEY_DERIVATION_LABEL: &[u8] = b"DataProtectorTokenProvider";

/// Length of the HMAC-SHA256 tag at the end of a token.
const MAC_LENGTH: usize = 32;

/// .NET ticks (100 ns units since 0001-01-01) at the Unix epoch.
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// .NET ticks per second.
const TICKS_PER_SECOND: i64 = 10_000_000;

/// Signed, expiring tokens bound to a user, a purpose and the user's security stamp, for links
/// (email confirmation, password reset, email change). Tokens expire after a lifespan, 1 day by
/// default.
///
/// .NET protects the payload with ASP.NET Core Data Protection. This port **signs** it instead:
/// the payload holds nothing secret (the security stamp is only compared, never used as a key),
/// so it needs integrity, not confidentiality. Anyone holding a token can decode it and read the
/// user id, purpose and stamp; no one without the secret can forge or alter one.
///
/// - [`generate`](TokenProvider::generate) gives a token in the format below; when the store
///   keeps stamps, a user without one is [`Error::NullSecurityStamp`](crate::Error::NullSecurityStamp).
/// - [`validate`](TokenProvider::validate) never fails: a token that does not decode, carries a
///   wrong MAC, expired (creation + lifespan earlier than [`UserManager::clock`]'s now), names
///   another user or purpose, has trailing bytes, or carries a stamp other than the user's
///   current one (`""` when the store keeps no stamps) is `false`.
/// - [`can_generate_two_factor_token`](TokenProvider::can_generate_two_factor_token) is always
///   `false`: these tokens are links, not codes a user can type.
///
/// Tokens are not single-use: they stay valid until they expire or the stamp changes.
///
/// # Token format
///
/// `base64url_no_pad(version || payload || mac)`, where
///
/// - `version` is one byte, `1`;
/// - `payload` is laid out as .NET's `BinaryWriter` writes it: the creation time as an `i64`
///   little-endian count of .NET ticks (100 ns units since 0001-01-01T00:00:00Z, the value of
///   `DateTimeOffset.UtcTicks`), then the user id, the purpose and the security stamp (`""` when
///   the store keeps no stamps), each a UTF-8 string behind its byte length as a 7-bit (LEB128)
///   encoded integer;
/// - `mac` is HMAC-SHA256 of `version || payload` (32 bytes) under a key derived from the shared
///   secret: `HMAC-SHA256(key = secret, message = "DataProtectorTokenProvider")`. The derivation
///   separates these tokens from any other use of the same secret.
///
/// Every server instance that must accept a token needs the same secret. Changing the secret
/// invalidates every outstanding token.
#[derive(Clone)]
pub struct DataProtectorTokenProvider {
    key: [u8; MAC_LENGTH],
    lifespan: Duration,
}

impl DataProtectorTokenProvider {
    /// A provider signing with a key derived from `secret`, with a lifespan of 1 day.
    ///
    /// The secret must be high-entropy (32 random bytes or more) and shared by every server
    /// instance that validates the tokens.
    ///
    /// # Panics
    ///
    /// When `secret` is empty.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let secret = secret.into();
        assert!(!secret.is_empty(), "the token signing secret must not be empty");
        let mut derivation = hmac_sha256(&secret);
        derivation.update(KEY_DERIVATION_LABEL);
        Self { key: derivation.finalize().into_bytes().into(), lifespan: Duration::days(1) }
    }

    /// The same provider with tokens valid for `lifespan` after their creation.
    pub fn with_lifespan(mut self, lifespan: Duration) -> Self {
        self.lifespan = lifespan;
        self
    }

    /// How long tokens stay valid after their creation.
    pub fn lifespan(&self) -> Duration {
        self.lifespan
    }

    /// The MAC of `signed` (the version byte and the payload).
    fn mac(&self, signed: &[u8]) -> [u8; MAC_LENGTH] {
        let mut mac = hmac_sha256(&self.key);
        mac.update(signed);
        mac.finalize().into_bytes().into()
    }

    /// The payload of `token` when it decodes, carries the right MAC and is well-formed;
    /// `None` otherwise.
    fn open(&self, token: &str) -> Option<Payload> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (signed, mac) = bytes.split_at(bytes.len().checked_sub(MAC_LENGTH)?);
        let authentic = bool::from(self.mac(signed).ct_eq(mac));
        match signed.split_first()? {
            (&FORMAT_VERSION, payload) if authentic => Payload::decode(payload),
            _ => None,
        }
    }
}

impl std::fmt::Debug for DataProtectorTokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataProtectorTokenProvider")
            .field("key", &"<redacted>")
            .field("lifespan", &self.lifespan)
            .finish()
    }
}

/// An HMAC-SHA256 instance keyed with `key`.
fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// What a token carries.
#[derive(Debug, PartialEq, Eq)]
struct Payload {
    /// When the token was generated.
    created: DateTime<Utc>,
    /// The user's id.
    user_id: String,
    /// The purpose the token was generated for.
    purpose: String,
    /// The user's security stamp then (`""` without stamp support).
    stamp: String,
}

impl Payload {
    /// The payload bytes, laid out as .NET's `BinaryWriter` writes them.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 3 * 5 + self.user_id.len() + self.purpose.len() + self.stamp.len());
        out.extend_from_slice(&to_ticks(self.created).to_le_bytes());
        for text in [&self.user_id, &self.purpose, &self.stamp] {
            write_string(&mut out, text);
        }
        out
    }

    /// Reads a payload; `None` when it is malformed or followed by trailing bytes.
    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader { rest: bytes };
        let created = from_ticks(i64::from_le_bytes(reader.take(8)?.try_into().ok()?))?;
        let payload = Self {
            created,
            user_id: reader.read_string()?,
            purpose: reader.read_string()?,
            stamp: reader.read_string()?,
        };
        reader.rest.is_empty().then_some(payload)
    }
}

/// Appends a .NET `BinaryWriter` string: its UTF-8 byte length as a 7-bit encoded integer,
/// then the bytes.
fn write_string(out: &mut Vec<u8>, text: &str) {
    let mut length = text.len();
    while length >= 0x80 {
        out.push((length & 0x7f) as u8 | 0x80);
        length >>= 7;
    }
    out.push(length as u8);
    out.extend_from_slice(text.as_bytes());
}

/// Reads payload fields from the front of a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next `count` bytes.
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if count > self.rest.len() {
            return None;
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Some(taken)
    }

    /// A 7-bit encoded non-negative `i32`, as .NET's `BinaryReader.Read7BitEncodedInt` reads it:
    /// seven bits per byte, least significant first, at most five bytes.
    fn read_length(&mut self) -> Option<usize> {
        let mut value: u64 = 0;
        for index in 0..5 {
            let byte = *self.take(1)?.first()?;
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return usize::try_from(i32::try_from(value).ok()?).ok();
            }
        }
        None
    }

    /// A length-prefixed UTF-8 string.
    fn read_string(&mut self) -> Option<String> {
        let length = self.read_length()?;
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).ok()
    }
}

/// `at` in .NET ticks, saturating beyond the range of an `i64`.
fn to_ticks(at: DateTime<Utc>) -> i64 {
    at.timestamp()
        .saturating_mul(TICKS_PER_SECOND)
        .saturating_add(i64::from(at.timestamp_subsec_nanos() / 100))
        .saturating_add(UNIX_EPOCH_TICKS)
}

/// The instant of a count of .NET ticks; `None` outside the range of [`DateTime`].
fn from_ticks(ticks: i64) -> Option<DateTime<Utc>> {
    let since_epoch = ticks.checked_sub(UNIX_EPOCH_TICKS)?;
    let nanos = u32::try_from(since_epoch.rem_euclid(TICKS_PER_SECOND) * 100).ok()?;
    DateTime::from_timestamp(since_epoch.div_euclid(TICKS_PER_SECOND), nanos)
}

#[async_trait]
impl<X: UserExtension> TokenProvider<X> for DataProtectorTokenProvider {
    async fn generate(&self, purpose: &str, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<String> {
        let stamp = if manager.supports_user_security_stamp() {
            manager.get_security_stamp(user).await?
        } else {
            String::new()
        };
        let payload =
            Payload { created: manager.clock().now(), user_id: user.id.clone(), purpose: purpose.to_owned(), stamp };
        let mut token = vec![FORMAT_VERSION];
        token.extend_from_slice(&payload.encode());
        let mac = self.mac(&token);
        token.extend_from_slice(&mac);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    async fn validate(
        &self,
        purpose: &str,
        token: &str,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<bool> {
        let Some(payload) = self.open(token) else {
            return Ok(false);
        };
        let expired =
            payload.created.checked_add_signed(self.lifespan).is_none_or(|expiry| expiry < manager.clock().now());
        if expired || payload.user_id != user.id || payload.purpose != purpose {
            return Ok(false);
        }
        let current_stamp =
            if manager.supports_user_security_stamp() { user.security_stamp.as_deref() } else { Some("") };
        Ok(current_stamp == Some(payload.stamp.as_str()))
    }

    async fn can_generate_two_factor_token(&self, _manager: &UserManager<X>, _user: &IdentityUser<X>) -> Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::test_support::{BareStore, SECRET, fixture, manager_over, t0};
    use std::sync::Arc;

    const PURPOSE: &str = "ResetPassword";

    fn provider() -> DataProtectorTokenProvider {
        DataProtectorTokenProvider::new(SECRET)
    }

    /// A correctly signed token around arbitrary payload bytes.
    fn sign(provider: &DataProtectorTokenProvider, payload: &[u8]) -> String {
        let mut bytes = vec![FORMAT_VERSION];
        bytes.extend_from_slice(payload);
        let mac = provider.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn payload_is_laid_out_like_a_dotnet_binary_writer() {
        let payload = Payload {
            created: DateTime::UNIX_EPOCH,
            user_id: "u".to_owned(),
            purpose: "p".to_owned(),
            stamp: String::new(),
        };
        let mut expected = 621_355_968_000_000_000i64.to_le_bytes().to_vec();
        expected.extend_from_slice(b"\x01u\x01p\x00");
        assert_eq!(payload.encode(), expected);
        assert_eq!(Payload::decode(&expected), Some(payload));

        let mut long = Vec::new();
        write_string(&mut long, &"é".repeat(100));
        assert_eq!(&long[..2], &[0xc8, 0x01], "200 bytes as a 7-bit encoded length");
        assert_eq!(Reader { rest: &long }.read_string(), Some("é".repeat(100)));
    }

    #[test]
    fn malformed_payloads_do_not_decode() {
        let valid = Payload {
            created: t0(),
            user_id: "user".to_owned(),
            purpose: PURPOSE.to_owned(),
            stamp: "STAMP".to_owned(),
        }
        .encode();
        assert!(Payload::decode(&valid).is_some());
        for length in 0..valid.len() {
            assert_eq!(Payload::decode(&valid[..length]), None, "truncated to {length}");
        }
        let mut trailing = valid.clone();
        trailing.push(0);
        assert_eq!(Payload::decode(&trailing), None);

        let ticks = 0i64.to_le_bytes();
        for bad_strings in [
            &b"\x80\x80\x80\x80\x80\x00"[..], // a length prefix longer than five bytes
            b"\xff\xff\xff\xff\x0f",          // a negative length
            b"\x02\xc3\x28\x00\x00",          // invalid UTF-8
        ] {
            let bytes = [&ticks[..], bad_strings].concat();
            assert_eq!(Payload::decode(&bytes), None, "{bad_strings:x?}");
        }
        // An over-long but five-byte encoding is accepted, as .NET accepts it.
        let bytes = [&ticks[..], b"\x80\x80\x80\x80\x00\x00\x00"].concat();
        assert!(Payload::decode(&bytes).is_some());
    }

    #[test]
    fn ticks_round_trip_at_100_ns_resolution() {
        let y2k = DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(to_ticks(y2k), 630_822_816_000_000_000);
        let at = DateTime::parse_from_rfc3339("2024-02-29T12:34:56.123456789Z").unwrap().to_utc();
        let back = from_ticks(to_ticks(at)).unwrap();
        assert_eq!(back, DateTime::parse_from_rfc3339("2024-02-29T12:34:56.1234567Z").unwrap().to_utc());
        assert_eq!(from_ticks(0).unwrap(), DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z").unwrap().to_utc());
        assert_eq!(from_ticks(i64::MIN), None);
    }

    #[tokio::test]
    async fn tokens_round_trip_and_are_url_safe() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert!(provider().validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());

        // Through the manager, under the name "Default".
        let token = f.manager.generate_user_token(&f.user, "Default", "Anything").await.unwrap();
        assert!(f.manager.verify_user_token(&f.user, "Default", "Anything", &token).await.unwrap());
    }

    #[tokio::test]
    async fn tokens_are_bound_to_the_purpose() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        for other in ["", "resetpassword", "ResetPassword ", "EmailConfirmation"] {
            assert!(!provider().validate(other, &token, &f.manager, &f.user).await.unwrap(), "{other:?}");
        }
    }

    #[tokio::test]
    async fn tokens_are_bound_to_the_user() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        let mut bob = IdentityUser::new("bob");
        bob.security_stamp = f.user.security_stamp.clone();
        assert!(!provider().validate(PURPOSE, &token, &f.manager, &bob).await.unwrap());
    }

    #[tokio::test]
    async fn a_stamp_change_invalidates_tokens() {
        let mut f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        assert!(f.manager.update_security_stamp(&mut f.user).await.unwrap().succeeded());
        assert!(!provider().validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());

        f.user.security_stamp = None;
        assert!(!provider().validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());
        let error = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap_err();
        assert!(matches!(error, crate::Error::NullSecurityStamp), "{error:?}");
    }

    #[tokio::test]
    async fn tokens_expire_after_their_lifespan() {
        let f = fixture().await;
        let default = provider();
        assert_eq!(default.lifespan(), Duration::days(1));
        let token = default.generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        f.clock.advance(Duration::days(1));
        assert!(default.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap(), "valid up to the end");
        f.clock.advance(Duration::microseconds(1));
        assert!(!default.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());

        let hourly = provider().with_lifespan(Duration::hours(1));
        let token = hourly.generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        f.clock.advance(Duration::minutes(59));
        assert!(hourly.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());
        f.clock.advance(Duration::minutes(2));
        assert!(!hourly.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());
    }

    #[tokio::test]
    async fn any_tampering_is_rejected() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for index in 0..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut tampered = bytes.clone();
                tampered[index] ^= flip;
                let tampered = URL_SAFE_NO_PAD.encode(tampered);
                assert!(!provider().validate(PURPOSE, &tampered, &f.manager, &f.user).await.unwrap(), "byte {index}");
            }
        }
        let mut extended = bytes.clone();
        extended.push(0);
        let extended = URL_SAFE_NO_PAD.encode(extended);
        assert!(!provider().validate(PURPOSE, &extended, &f.manager, &f.user).await.unwrap());
        let truncated = URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]);
        assert!(!provider().validate(PURPOSE, &truncated, &f.manager, &f.user).await.unwrap());
        for variant in [format!("{token}="), format!(" {token}"), token.replace('-', "+").replace('_', "/") + "x"] {
            assert!(!provider().validate(PURPOSE, &variant, &f.manager, &f.user).await.unwrap(), "{variant}");
        }
    }

    #[tokio::test]
    async fn a_wrong_version_byte_is_rejected_even_when_signed() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let mut signed = bytes[..bytes.len() - MAC_LENGTH].to_vec();
        signed[0] = FORMAT_VERSION + 1;
        let mac = provider().mac(&signed);
        signed.extend_from_slice(&mac);
        let resigned = URL_SAFE_NO_PAD.encode(signed);
        assert!(!provider().validate(PURPOSE, &resigned, &f.manager, &f.user).await.unwrap());
    }

    #[tokio::test]
    async fn garbage_is_rejected_without_errors() {
        let f = fixture().await;
        let long = "A".repeat(10_000);
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 64]);
        let just_a_mac = URL_SAFE_NO_PAD.encode(provider().mac(&[]));
        let garbage = ["", "a", "abc", "!!!!", "====", "null", "123456", "é", &long, &zeros, &just_a_mac];
        for token in garbage {
            assert!(!provider().validate(PURPOSE, token, &f.manager, &f.user).await.unwrap(), "{token:?}");
        }
        // Signed, but not a payload.
        for payload in [&b""[..], b"\x00", &[0xff; 8], &[0; 12]] {
            let token = sign(&provider(), payload);
            assert!(!provider().validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap(), "{payload:x?}");
        }
    }

    #[tokio::test]
    async fn another_secret_rejects_the_token() {
        let f = fixture().await;
        let token = provider().generate(PURPOSE, &f.manager, &f.user).await.unwrap();
        let other = DataProtectorTokenProvider::new(b"another secret".to_vec());
        assert!(!other.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap());
        let same = DataProtectorTokenProvider::new(SECRET.to_vec());
        assert!(same.validate(PURPOSE, &token, &f.manager, &f.user).await.unwrap(), "instances share the secret");
    }

    #[tokio::test]
    async fn without_stamp_support_the_stamp_is_empty() {
        let (manager, _clock) = manager_over(Arc::new(BareStore));
        let user = IdentityUser::new("carol");
        let token = provider().generate(PURPOSE, &manager, &user).await.unwrap();
        assert!(provider().validate(PURPOSE, &token, &manager, &user).await.unwrap());

        let with_stamp = Payload {
            created: t0(),
            user_id: user.id.clone(),
            purpose: PURPOSE.to_owned(),
            stamp: user.security_stamp.clone().unwrap(),
        };
        let token = sign(&provider(), &with_stamp.encode());
        assert!(!provider().validate(PURPOSE, &token, &manager, &user).await.unwrap());
    }

    #[tokio::test]
    async fn never_a_second_factor_and_never_shows_the_key() {
        let f = fixture().await;
        assert!(!provider().can_generate_two_factor_token(&f.manager, &f.user).await.unwrap());
        let names = f.manager.get_valid_two_factor_providers(&f.user).await.unwrap();
        assert!(!names.contains(&"Default".to_owned()), "{names:?}");
        let debug = format!("{:?}", provider());
        assert!(debug.contains("<redacted>") && !debug.contains(&format!("{:?}", provider().key)), "{debug}");
    }

    #[test]
    #[should_panic(expected = "must not be empty")]
    fn an_empty_secret_is_refused() {
        let _ = DataProtectorTokenProvider::new(Vec::new());
    }
}

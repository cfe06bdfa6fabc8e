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
        assert!(
            !secret.is_empty(),
            "the token signing secret must not be empty"
        );
        let mut derivation = hmac_sha256(&secret);
        derivation.update(KEY_DERIVATION_LABEL);
        Self {
            key: derivation.finalize().into_bytes().into(),
            lifespan: Duration::days(1),
        }
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
        let mut out = Vec::with_capacity(
            8 + 3 * 5 + self.user_id.len() + self.purpose.len() + self.stamp.len(),
        );
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
    async fn generate(
        &self,
        purpose: &str,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
    ) -> Result<String> {
        let stamp = if manager.supports_user_security_stamp() {
            manager.get_security_stamp(user).await?
        } else {
            String::new()
        };
        let payload = Payload {
            created: manager.clock().now(),
            user_id: user.id.clone(),
            purpose: purpose.to_owned(),
            stamp,
        };
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
        let expired = payload
            .created
            .checked_add_signed(self.lifespan)
            .is_none_or(|expiry| expiry < manager.clock().now());
        if expired || payload.user_id != user.id || payload.purpose != purpose {
            return Ok(false);
        }
        let current_stamp = if manager.supports_user_security_stamp() {
            user.security_stamp.as_deref()
        } else {
            Some("")
        };
        Ok(current_stamp == Some(payload.stamp.as_str()))
    }

    async fn can_generate_two_factor_token(
        &self,
        _manager: &UserManager<X>,
        _user: &IdentityUser<X>,
    ) -> Result<bool> {
        Ok(false)
    }
}

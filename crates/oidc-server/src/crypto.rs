//! Authenticated encryption shared by everything the server keeps secret or hands out sealed:
//! private signing keys at rest, session cookies and logout ids.
//!
//! A [`SealingKey`] is an AES-256-GCM key derived with HKDF-SHA256 from a configured secret, a
//! salt naming its use and an info string naming the format version; callers bind context as
//! associated data. A [`DataProtector`] seals serde values for the browser as base64url text,
//! with a purpose string as associated data so that a value sealed for one purpose (a session)
//! cannot be presented as another (a logout id).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hkdf;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Shortest accepted secret; secrets are used as key material, not as passwords.
pub(crate) const MINIMUM_SECRET_LENGTH: usize = 32;

/// An AES-256-GCM key with random nonces.
pub(crate) struct SealingKey {
    key: RandomizedNonceKey,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

impl SealingKey {
    /// Derives a key from `secret`; `None` only if the cryptographic library fails.
    pub(crate) fn derive(secret: &[u8], salt: &[u8], info: &[u8]) -> Option<Self> {
        let mut key_bytes = [0_u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
            .extract(secret)
            .expand(&[info], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut key_bytes))
            .ok()?;
        let key = RandomizedNonceKey::new(&AES_256_GCM, &key_bytes).ok()?;
        Some(Self { key })
    }

    /// Encrypts `plaintext`, binding `associated_data`; the result is nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(&self, associated_data: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut ciphertext = plaintext.to_vec();
        let nonce = self.key.seal_in_place_append_tag(Aad::from(associated_data), &mut ciphertext).ok()?;
        let mut sealed = nonce.as_ref().to_vec();
        sealed.append(&mut ciphertext);
        Some(sealed)
    }

    /// Decrypts what [`Self::seal`] produced with the same associated data; `None` for anything
    /// else (tampered, truncated, another key or other associated data).
    pub(crate) fn open(&self, associated_data: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self.key.open_in_place(nonce, Aad::from(associated_data), &mut buffer).ok()?;
        Some(plaintext.to_vec())
    }
}

const DATA_PROTECTION_SALT: &[u8] = b"oidc-server data protection";
const DATA_PROTECTION_INFO: &[u8] = b"AES-256-GCM v1";

/// What a sealed value is for; the purpose is bound as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The sign-in session cookie.
    Session,
    /// The `logoutId` handed to the host's logout page.
    Logout,
    /// The marker that replaces `prompt=login` in a login page's return URL.
    LoginPrompt,
    /// A value a host seals for a purpose it names (see `OidcServer::protected_cookie`).
    Host(&'static str),
}

impl Purpose {
    fn associated_data(self) -> Vec<u8> {
        match self {
            Self::Session => b"session v1".to_vec(),
            Self::Logout => b"logout v1".to_vec(),
            Self::LoginPrompt => b"login prompt v1".to_vec(),
            // A prefix no built-in purpose has, so that a host's purpose never opens theirs.
            Self::Host(purpose) => format!("host: {purpose}").into_bytes(),
        }
    }
}

/// Seals values that travel through the browser and must come back unchanged and unread.
#[derive(Debug)]
pub(crate) struct DataProtector {
    key: SealingKey,
}

impl DataProtector {
    /// A protector keyed by `secret` (at least [`MINIMUM_SECRET_LENGTH`] bytes).
    pub(crate) fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < MINIMUM_SECRET_LENGTH {
            return Err(Error::Configuration(format!(
                "the session secret must be at least {MINIMUM_SECRET_LENGTH} bytes"
            )));
        }
        let key = SealingKey::derive(secret, DATA_PROTECTION_SALT, DATA_PROTECTION_INFO)
            .ok_or_else(|| Error::Configuration("the data-protection key could not be derived".into()))?;
        Ok(Self { key })
    }

    /// Serialises and seals `value` for `purpose`, as base64url text.
    pub(crate) fn protect(&self, purpose: Purpose, value: &impl Serialize) -> Result<String> {
        let plaintext = serde_json::to_vec(value)?;
        let sealed = self
            .key
            .seal(&purpose.associated_data(), &plaintext)
            .ok_or_else(|| Error::Configuration("data protection failed".into()))?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The value [`Self::protect`] sealed for `purpose`; `None` for anything else.
    pub(crate) fn unprotect<T: DeserializeOwned>(&self, purpose: Purpose, protected: &str) -> Option<T> {
        let sealed = URL_SAFE_NO_PAD.decode(protected).ok()?;
        let plaintext = self.key.open(&purpose.associated_data(), &sealed)?;
        serde_json::from_slice(&plaintext).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_associated_data() {
        let key = SealingKey::derive(SECRET, b"salt", b"info").expect("derived");
        let sealed = key.seal(b"context", b"plain").expect("sealed");
        assert!(!sealed.windows(5).any(|window| window == b"plain"));
        assert_eq!(key.open(b"context", &sealed).as_deref(), Some(&b"plain"[..]));
        assert!(key.open(b"other", &sealed).is_none());
        assert!(key.open(b"context", &sealed[..5]).is_none());
        let other = SealingKey::derive(SECRET, b"other salt", b"info").expect("derived");
        assert!(other.open(b"context", &sealed).is_none());
    }

    #[test]
    fn protected_values_are_bound_to_their_purpose() {
        let protector = DataProtector::new(SECRET).expect("valid secret");
        let protected = protector.protect(Purpose::Logout, &vec!["a".to_owned()]).expect("protected");
        assert_eq!(protector.unprotect::<Vec<String>>(Purpose::Logout, &protected), Some(vec!["a".to_owned()]));
        assert_eq!(protector.unprotect::<Vec<String>>(Purpose::Session, &protected), None);
        assert_eq!(protector.unprotect::<Vec<String>>(Purpose::Host("logout v1"), &protected), None);
        assert_eq!(protector.unprotect::<Vec<String>>(Purpose::Logout, "not base64!"), None);
        let mut tampered = protected.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(protector.unprotect::<Vec<String>>(Purpose::Logout, &tampered), None);
    }

    #[test]
    fn short_secrets_are_rejected() {
        assert!(DataProtector::new(b"too short").is_err());
    }
}

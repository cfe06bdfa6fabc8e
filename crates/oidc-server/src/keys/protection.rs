//! Encryption of private keys at rest with AES-256-GCM.
//!
//! The AES key is derived from the configured key-encryption secret with HKDF-SHA256, and the
//! key id and algorithm are bound as associated data, so a ciphertext cannot be moved to another
//! key record.

use std::fmt;

use super::SigningAlgorithm;
use crate::crypto::{MINIMUM_SECRET_LENGTH, SealingKey};
use crate::error::{Error, Result};

const KEY_DERIVATION_SALT: &[u8] = b"oidc-server signing-key protection";
const KEY_DERIVATION_INFO: &[u8] = b"AES-256-GCM v1";

/// Encrypts and decrypts stored private keys.
pub(crate) struct KeyProtector {
    key: SealingKey,
}

impl fmt::Debug for KeyProtector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyProtector([redacted])")
    }
}

fn associated_data(key_id: &str, algorithm: SigningAlgorithm) -> String {
    format!("{key_id}\u{0}{}", algorithm.as_str())
}

impl KeyProtector {
    pub(crate) fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < MINIMUM_SECRET_LENGTH {
            return Err(Error::Configuration(format!(
                "the key-encryption secret must be at least {MINIMUM_SECRET_LENGTH} bytes"
            )));
        }
        let key = SealingKey::derive(secret, KEY_DERIVATION_SALT, KEY_DERIVATION_INFO)
            .ok_or_else(|| Error::SigningKey("key-encryption key derivation failed".into()))?;
        Ok(Self { key })
    }

    /// Encrypts `private_key`; the result is nonce ‖ ciphertext ‖ tag.
    pub(crate) fn protect(&self, key_id: &str, algorithm: SigningAlgorithm, private_key: &[u8]) -> Result<Vec<u8>> {
        self.key
            .seal(associated_data(key_id, algorithm).as_bytes(), private_key)
            .ok_or_else(|| Error::SigningKey("signing-key encryption failed".into()))
    }

    /// Decrypts what [`Self::protect`] produced for the same key id and algorithm.
    pub(crate) fn unprotect(&self, key_id: &str, algorithm: SigningAlgorithm, protected: &[u8]) -> Result<Vec<u8>> {
        self.key.open(associated_data(key_id, algorithm).as_bytes(), protected).ok_or_else(|| {
            Error::SigningKey(format!("signing key {key_id} could not be decrypted (wrong key-encryption secret?)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trips_and_binds_the_key_record() {
        let protector = KeyProtector::new(SECRET).expect("valid secret");
        let protected = protector.protect("kid1", SigningAlgorithm::Rs256, b"private key").expect("encrypts");
        assert!(!protected.windows(11).any(|window| window == b"private key"));
        let plain = protector.unprotect("kid1", SigningAlgorithm::Rs256, &protected).expect("decrypts");
        assert_eq!(plain, b"private key");
        assert!(protector.unprotect("kid2", SigningAlgorithm::Rs256, &protected).is_err());
        assert!(protector.unprotect("kid1", SigningAlgorithm::Es256, &protected).is_err());
        assert!(protector.unprotect("kid1", SigningAlgorithm::Rs256, &protected[..5]).is_err());
    }

    #[test]
    fn another_secret_cannot_decrypt() {
        let protected = KeyProtector::new(SECRET)
            .and_then(|protector| protector.protect("kid", SigningAlgorithm::EdDsa, b"key"))
            .expect("encrypts");
        let other = KeyProtector::new(b"another secret of at least 32 bytes!").expect("valid");
        assert!(other.unprotect("kid", SigningAlgorithm::EdDsa, &protected).is_err());
    }

    #[test]
    fn short_secrets_are_rejected() {
        assert!(KeyProtector::new(b"too short").is_err());
    }
}

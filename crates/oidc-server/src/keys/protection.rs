//! Encryption of private keys at rest with AES-256-GCM.
//!
//! The AES key is derived from the configured key-encryption secret with HKDF-SHA256, and the
//! key id and algorithm are bound as associated data, so a ciphertext cannot be moved to another
//! key record.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hkdf;

use super::SigningAlgorithm;
use crate::error::{Error, Result};

/// Shortest accepted key-encryption secret; it is used as key material, not as a password.
pub(crate) const MINIMUM_SECRET_LENGTH: usize = 32;

const KEY_DERIVATION_SALT: &[u8] = b"oidc-server signing-key protection";
const KEY_DERIVATION_INFO: &[u8] = b"AES-256-GCM v1";

/// Encrypts and decrypts stored private keys.
pub(crate) struct KeyProtector {
    key: RandomizedNonceKey,
}

impl fmt::Debug for KeyProtector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyProtector([redacted])")
    }
}

fn associated_data(key_id: &str, algorithm: SigningAlgorithm) -> Aad<String> {
    Aad::from(format!("{key_id}\u{0}{}", algorithm.as_str()))
}

fn crypto_failure(what: &str) -> Error {
    Error::SigningKey(format!("{what} failed"))
}

impl KeyProtector {
    pub(crate) fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < MINIMUM_SECRET_LENGTH {
            return Err(Error::Configuration(format!(
                "the key-encryption secret must be at least {MINIMUM_SECRET_LENGTH} bytes"
            )));
        }
        let mut key_bytes = [0_u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_DERIVATION_SALT)
            .extract(secret)
            .expand(&[KEY_DERIVATION_INFO], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut key_bytes))
            .map_err(|_| crypto_failure("key-encryption key derivation"))?;
        let key = RandomizedNonceKey::new(&AES_256_GCM, &key_bytes)
            .map_err(|_| crypto_failure("key-encryption key setup"))?;
        Ok(Self { key })
    }

    /// Encrypts `private_key`; the result is nonce ‖ ciphertext ‖ tag.
    pub(crate) fn protect(&self, key_id: &str, algorithm: SigningAlgorithm, private_key: &[u8]) -> Result<Vec<u8>> {
        let mut ciphertext = private_key.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(associated_data(key_id, algorithm), &mut ciphertext)
            .map_err(|_| crypto_failure("signing-key encryption"))?;
        let mut protected = nonce.as_ref().to_vec();
        protected.append(&mut ciphertext);
        Ok(protected)
    }

    /// Decrypts what [`Self::protect`] produced for the same key id and algorithm.
    pub(crate) fn unprotect(&self, key_id: &str, algorithm: SigningAlgorithm, protected: &[u8]) -> Result<Vec<u8>> {
        let decryption_failed =
            || Error::SigningKey(format!("signing key {key_id} could not be decrypted (wrong key-encryption secret?)"));
        let (nonce, ciphertext) = protected.split_at_checked(NONCE_LEN).ok_or_else(decryption_failed)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| decryption_failed())?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, associated_data(key_id, algorithm), &mut buffer)
            .map_err(|_| decryption_failed())?;
        Ok(plaintext.to_vec())
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

//! Private key material: generation with aws-lc-rs and parsing for signing and publication.
//!
//! Keys are generated and stored as PKCS#8 DER. They are parsed once, when loaded, into a
//! [`JwsSigner`] that holds the aws-lc key pair for signing, a [`Jwk`] for publication and a
//! [`DecodingKey`] for checking the server's own tokens. Nothing is parsed per token.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde::Serialize;

use super::SigningAlgorithm;
use super::signer::JwsSigner;
use crate::error::{Error, Result};

/// Generates a private key for `algorithm` as PKCS#8 DER: RSA 2048 for RS256, P-256 for ES256,
/// and Ed25519 in PKCS#8 v1 (without the embedded public key): earlier versions of this crate
/// derived the JWK through `jsonwebtoken`, which rejects v2, and may share the key store during an
/// upgrade.
pub(crate) fn generate_private_key(algorithm: SigningAlgorithm) -> Result<Vec<u8>> {
    let failed = |_| Error::SigningKey(format!("{} key generation failed", algorithm.as_str()));
    match algorithm {
        SigningAlgorithm::Rs256 => {
            let key_pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let der = key_pair.as_der().map_err(failed)?;
            Ok(der.as_ref().to_vec())
        }
        SigningAlgorithm::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map(|document| document.as_ref().to_vec())
            .map_err(failed),
        SigningAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new())
            .map(|document| document.as_ref().to_vec())
            .map_err(failed),
    }
}

/// A signing key parsed for use.
pub(crate) struct SigningKey {
    key_id: String,
    created: DateTime<Utc>,
    signer: JwsSigner,
    decoding_key: DecodingKey,
    jwk: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm())
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PKCS#8 private key. A corrupt key, or one of another algorithm, fails here, at
    /// load time, rather than when the first token is signed.
    pub(crate) fn from_pkcs8(
        key_id: String,
        algorithm: SigningAlgorithm,
        created: DateTime<Utc>,
        pkcs8_der: &[u8],
    ) -> Result<Self> {
        let signer = JwsSigner::from_pkcs8(algorithm, pkcs8_der)?;
        let jwk = signer.jwk(&key_id)?;
        let decoding_key = DecodingKey::from_jwk(&jwk)?;
        Ok(Self { key_id, created, signer, decoding_key, jwk })
    }

    pub(crate) fn key_id(&self) -> &str {
        &self.key_id
    }

    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        self.signer.algorithm()
    }

    pub(crate) fn created(&self) -> DateTime<Utc> {
        self.created
    }

    pub(crate) fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding_key
    }

    /// Signs `claims` as a compact JWS with this key's `kid` and `typ` `token_type`.
    pub(crate) fn sign(&self, token_type: &str, claims: &impl Serialize) -> Result<String> {
        self.signer.sign(&self.key_id, token_type, claims)
    }
}

/// The private key bytes of a stored record, base64-decoded.
pub(crate) fn decode_stored_key_data(data: &str) -> Result<Vec<u8>> {
    STANDARD.decode(data).map_err(|_| Error::SigningKey("stored key data is not valid base64".into()))
}

/// Encodes private key bytes for a stored record.
pub(crate) fn encode_stored_key_data(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Validation, decode};
    use serde_json::{Value, json};

    use super::*;

    fn round_trip(algorithm: SigningAlgorithm) {
        let der = generate_private_key(algorithm).expect("generates");
        let key =
            SigningKey::from_pkcs8("kid-1".into(), algorithm, test_support::clock::start(), &der).expect("parses");
        let token = key.sign("at+jwt", &json!({"sub": "1", "exp": 4_000_000_000_u64})).expect("signs");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some("kid-1"));
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let from_jwk = DecodingKey::from_jwk(key.jwk()).expect("public key");
        let validation = Validation::new(algorithm.jwt_algorithm());
        let data = decode::<Value>(&token, &from_jwk, &validation).expect("verifies");
        assert_eq!(data.claims["sub"], "1");
        // The decoding key parsed at load time checks the server's own tokens.
        assert!(decode::<Value>(&token, key.decoding_key(), &validation).is_ok());
        assert_eq!(key.jwk().common.key_id.as_deref(), Some("kid-1"));
    }

    #[test]
    fn rs256_keys_sign_and_verify_through_their_jwk() {
        round_trip(SigningAlgorithm::Rs256);
    }

    #[test]
    fn es256_keys_sign_and_verify_through_their_jwk() {
        round_trip(SigningAlgorithm::Es256);
    }

    #[test]
    fn eddsa_keys_sign_and_verify_through_their_jwk() {
        round_trip(SigningAlgorithm::EdDsa);
    }

    #[test]
    fn corrupt_keys_fail_at_load_time() {
        for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::EdDsa] {
            let loaded = SigningKey::from_pkcs8("k".into(), algorithm, test_support::clock::start(), b"not a key");
            assert!(loaded.is_err(), "{algorithm:?}");
        }
    }
}

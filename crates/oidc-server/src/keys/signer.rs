//! Compact JWS signing over private keys parsed once.
//!
//! `jsonwebtoken::encode` re-parses the private key (DER into an aws-lc key pair) inside every
//! signature, which for RSA costs more than the signature itself. [`JwsSigner`] parses the key when
//! it is loaded and keeps the aws-lc key pair, so issuing a token only serialises, encodes and signs.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType, Jwk,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use serde::Serialize;

use super::SigningAlgorithm;
use crate::error::{Error, Result};

/// Length of an ES256 signature (fixed-size `r ‖ s`, RFC 7518 §3.4) and of an Ed25519 signature.
const FIXED_SIGNATURE_LEN: usize = 64;

/// Length of one P-256 coordinate.
const P256_COORDINATE_LEN: usize = 32;

/// The parsed key pair, one variant per algorithm.
enum KeyPair {
    Rs256(RsaKeyPair),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// The JOSE header of the tokens this crate signs.
#[derive(Serialize)]
struct JoseHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'a str,
}

/// A private key parsed once into an aws-lc key pair, signing compact JWS (RFC 7515 §7.1).
///
/// RS256 is RSASSA-PKCS1-v1_5 with SHA-256, ES256 is ECDSA P-256 with SHA-256 and a fixed-size
/// `r ‖ s` signature, and EdDSA is Ed25519. Signing takes `&self`, so one signer can be shared
/// between threads, for instance in an `Arc`.
pub struct JwsSigner {
    key_pair: KeyPair,
}

impl fmt::Debug for JwsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwsSigner").field("algorithm", &self.algorithm()).finish_non_exhaustive()
    }
}

impl JwsSigner {
    /// Parses an unencrypted PKCS#8 private key for `algorithm`: RSA for RS256, P-256 for ES256,
    /// Ed25519 (PKCS#8 v1 or v2) for EdDSA.
    ///
    /// # Errors
    ///
    /// [`Error::SigningKey`] when the bytes are not a PKCS#8 key of that algorithm.
    pub fn from_pkcs8(algorithm: SigningAlgorithm, pkcs8_der: &[u8]) -> Result<Self> {
        let rejected =
            |error| Error::SigningKey(format!("not a valid {} PKCS#8 private key: {error}", algorithm.as_str()));
        let key_pair = match algorithm {
            SigningAlgorithm::Rs256 => KeyPair::Rs256(RsaKeyPair::from_pkcs8(pkcs8_der).map_err(rejected)?),
            SigningAlgorithm::Es256 => {
                KeyPair::Es256(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8_der).map_err(rejected)?)
            }
            SigningAlgorithm::EdDsa => KeyPair::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8_der).map_err(rejected)?),
        };
        Ok(Self { key_pair })
    }

    /// A signer with a newly generated key, as the key manager creates them: RSA 2048 for
    /// RS256, P-256 for ES256, Ed25519 for EdDSA.
    ///
    /// # Errors
    ///
    /// [`Error::SigningKey`] when the key cannot be generated.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self> {
        Self::from_pkcs8(algorithm, &super::material::generate_private_key(algorithm)?)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        match self.key_pair {
            KeyPair::Rs256(_) => SigningAlgorithm::Rs256,
            KeyPair::Es256(_) => SigningAlgorithm::Es256,
            KeyPair::EdDsa(_) => SigningAlgorithm::EdDsa,
        }
    }

    /// Signs `claims` as a compact JWS whose header is `{"alg", "kid": key_id, "typ": token_type}`:
    /// base64url(header) `.` base64url(claims as JSON) `.` base64url(signature), without padding.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] when `claims` cannot be serialised to JSON, and
    /// [`Error::SigningKey`] when the signature operation fails.
    pub fn sign(&self, key_id: &str, token_type: &str, claims: &impl Serialize) -> Result<String> {
        let header = serde_json::to_vec(&JoseHeader { alg: self.algorithm().as_str(), kid: key_id, typ: token_type })?;
        let payload = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(
            base64url_len(header.len()) + base64url_len(payload.len()) + self.signature_len() + 2,
        );
        URL_SAFE_NO_PAD.encode_string(&header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let failed = |_| Error::SigningKey(format!("signing with key {key_id} failed"));
        let rng = SystemRandom::new();
        match &self.key_pair {
            KeyPair::Rs256(key_pair) => {
                let mut signature = vec![0_u8; key_pair.public_modulus_len()];
                key_pair.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut signature).map_err(failed)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
            }
            KeyPair::Es256(key_pair) => {
                let signature = key_pair.sign(&rng, token.as_bytes()).map_err(failed)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature, &mut token);
            }
            KeyPair::EdDsa(key_pair) => {
                let signature = key_pair.sign(token.as_bytes());
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature, &mut token);
            }
        }
        Ok(token)
    }

    /// The length of the base64url-encoded signature.
    fn signature_len(&self) -> usize {
        match &self.key_pair {
            KeyPair::Rs256(key_pair) => base64url_len(key_pair.public_modulus_len()),
            KeyPair::Es256(_) | KeyPair::EdDsa(_) => base64url_len(FIXED_SIGNATURE_LEN),
        }
    }

    /// The public key as a JWK with `kid`, `use: sig` and `alg`.
    pub(crate) fn jwk(&self, key_id: &str) -> Result<Jwk> {
        let algorithm = match &self.key_pair {
            KeyPair::Rs256(key_pair) => {
                let components = PublicKeyComponents::<Vec<u8>>::from(key_pair.public_key());
                AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: URL_SAFE_NO_PAD.encode(components.n),
                    e: URL_SAFE_NO_PAD.encode(components.e),
                })
            }
            KeyPair::Es256(key_pair) => {
                // SEC 1 uncompressed point: 0x04 ‖ x ‖ y.
                let Some((&0x04, coordinates)) = key_pair.public_key().as_ref().split_first() else {
                    return Err(Error::SigningKey("the ES256 public key is not an uncompressed point".into()));
                };
                let Some((x, y)) =
                    coordinates.split_at_checked(P256_COORDINATE_LEN).filter(|(_, y)| y.len() == P256_COORDINATE_LEN)
                else {
                    return Err(Error::SigningKey("the ES256 public key is not a P-256 point".into()));
                };
                AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                })
            }
            KeyPair::EdDsa(key_pair) => AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(key_pair.public_key()),
            }),
        };
        let common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(self.algorithm().jwt_algorithm().into()),
            key_id: Some(key_id.to_owned()),
            ..CommonParameters::default()
        };
        Ok(Jwk { common, algorithm })
    }
}

/// The length of the unpadded base64 encoding of `bytes` bytes.
fn base64url_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
    use serde_json::{Value, json};

    use super::*;
    use crate::keys::material::generate_private_key;

    const ALGORITHMS: [SigningAlgorithm; 3] =
        [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::EdDsa];

    fn claims() -> Value {
        json!({
            "iss": "https://id.example",
            "sub": "248289761001",
            "aud": "https://api.example",
            "client_id": "s6BhdRkqt3",
            "scope": "openid api",
            "iat": 1_700_000_000_u64,
            "nbf": 1_700_000_000_u64,
            "exp": 4_000_000_000_u64,
            "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
        })
    }

    fn signer(algorithm: SigningAlgorithm) -> JwsSigner {
        let der = generate_private_key(algorithm).expect("generates");
        JwsSigner::from_pkcs8(algorithm, &der).expect("parses")
    }

    /// The JWK as a relying party sees it: serialised in a JWK set and parsed back.
    fn published_key(jwk: Jwk) -> DecodingKey {
        let json = serde_json::to_string(&JwkSet { keys: vec![jwk] }).expect("serialises");
        let set: JwkSet = serde_json::from_str(&json).expect("parses");
        let jwk = set.find("kid-1").expect("published under its kid");
        DecodingKey::from_jwk(jwk).expect("public key")
    }

    fn segment(token: &str, index: usize) -> Vec<u8> {
        let part = token.split('.').nth(index).expect("three segments");
        URL_SAFE_NO_PAD.decode(part).expect("base64url without padding")
    }

    #[test]
    fn tokens_verify_with_jsonwebtoken_through_the_published_jwk() {
        for algorithm in ALGORITHMS {
            let signer = signer(algorithm);
            assert_eq!(signer.algorithm(), algorithm);
            let key = published_key(signer.jwk("kid-1").expect("jwk"));
            for token_type in ["at+jwt", "JWT"] {
                let token = signer.sign("kid-1", token_type, &claims()).expect("signs");
                let mut validation = Validation::new(algorithm.jwt_algorithm());
                validation.set_audience(&["https://api.example"]);
                let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("verifies");
                assert_eq!(data.claims, claims(), "{algorithm:?}");
                assert_eq!(data.header.kid.as_deref(), Some("kid-1"));
                assert_eq!(data.header.typ.as_deref(), Some(token_type));
            }
        }
    }

    #[test]
    fn header_payload_and_signature_have_the_compact_jws_shape() {
        for algorithm in ALGORITHMS {
            let token = signer(algorithm).sign("kid-1", "at+jwt", &claims()).expect("signs");
            assert_eq!(token.split('.').count(), 3);
            let header: Value = serde_json::from_slice(&segment(&token, 0)).expect("json header");
            assert_eq!(header, json!({"alg": algorithm.as_str(), "kid": "kid-1", "typ": "at+jwt"}));
            let payload: Value = serde_json::from_slice(&segment(&token, 1)).expect("json payload");
            assert_eq!(payload, claims());
            let expected_len = match algorithm {
                SigningAlgorithm::Rs256 => 256,
                SigningAlgorithm::Es256 | SigningAlgorithm::EdDsa => FIXED_SIGNATURE_LEN,
            };
            assert_eq!(segment(&token, 2).len(), expected_len, "{algorithm:?}");
        }
    }

    #[test]
    fn tampered_tokens_and_other_keys_do_not_verify() {
        for algorithm in ALGORITHMS {
            let signer = signer(algorithm);
            let token = signer.sign("kid-1", "at+jwt", &claims()).expect("signs");
            let validation = {
                let mut validation = Validation::new(algorithm.jwt_algorithm());
                validation.validate_aud = false;
                validation
            };
            let other = published_key(self::signer(algorithm).jwk("kid-1").expect("jwk"));
            assert!(jsonwebtoken::decode::<Value>(&token, &other, &validation).is_err(), "{algorithm:?}");
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":4000000000}"#);
            parts[1] = &forged;
            let own = published_key(signer.jwk("kid-1").expect("jwk"));
            assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &own, &validation).is_err(), "{algorithm:?}");
        }
    }

    /// The JWKS is unchanged from when `jsonwebtoken` derived it from an `EncodingKey`.
    #[test]
    fn jwk_matches_the_one_jsonwebtoken_derives() {
        for algorithm in ALGORITHMS {
            let der = generate_private_key(algorithm).expect("generates");
            let encoding_key = match algorithm {
                SigningAlgorithm::Rs256 => {
                    let pem = format!(
                        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                        base64::engine::general_purpose::STANDARD.encode(&der)
                    );
                    EncodingKey::from_rsa_pem(pem.as_bytes()).expect("pem")
                }
                SigningAlgorithm::Es256 => EncodingKey::from_ec_der(&der),
                SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(&der),
            };
            let mut expected = Jwk::from_encoding_key(&encoding_key, algorithm.jwt_algorithm()).expect("jwk");
            expected.common.key_id = Some("kid-1".into());
            expected.common.public_key_use = Some(PublicKeyUse::Signature);
            let signer = JwsSigner::from_pkcs8(algorithm, &der).expect("parses");
            assert_eq!(signer.jwk("kid-1").expect("jwk"), expected, "{algorithm:?}");
        }
    }

    #[test]
    fn keys_of_another_algorithm_are_rejected() {
        let ed25519 = generate_private_key(SigningAlgorithm::EdDsa).expect("generates");
        assert!(JwsSigner::from_pkcs8(SigningAlgorithm::Rs256, &ed25519).is_err());
        assert!(JwsSigner::from_pkcs8(SigningAlgorithm::Es256, &ed25519).is_err());
        let p256 = generate_private_key(SigningAlgorithm::Es256).expect("generates");
        assert!(JwsSigner::from_pkcs8(SigningAlgorithm::EdDsa, &p256).is_err());
    }

    #[test]
    fn base64url_lengths_are_unpadded() {
        assert_eq!(base64url_len(0), 0);
        assert_eq!(base64url_len(1), 2);
        assert_eq!(base64url_len(2), 3);
        assert_eq!(base64url_len(3), 4);
        assert_eq!(base64url_len(64), 86);
        assert_eq!(base64url_len(256), 342);
    }
}

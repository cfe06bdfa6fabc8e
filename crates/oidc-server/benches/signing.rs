//! Access-token signing: the crate's cached [`JwsSigner`] against `jsonwebtoken::encode`.
//!
//! Both sign the same RFC 9068 access-token payload (9 claims) with the same key and produce a
//! compact JWS. The signer holds the aws-lc key pair parsed once; `jsonwebtoken::encode` with an
//! `EncodingKey` re-parses the private key inside every signature. Each algorithm is one group, so
//! the two paths are reported side by side:
//!
//! ```text
//! cargo bench -p oidc-server --bench signing -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{EncodingKey, Header};
use oidc_server::{JwsSigner, SigningAlgorithm};
use serde_json::{Value, json};

const KEY_ID: &str = "Zq3bO9mV1cX2tE7rY5uW4A";
const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// A typical access token for a user: the RFC 9068 §2.2 claims.
fn access_token_payload() -> Value {
    json!({
        "iss": "https://id.example.com",
        "sub": "5be86359-073c-434b-ad2d-a3932222dabe",
        "aud": "https://api.example.com",
        "client_id": "s6BhdRkqt3",
        "scope": "openid profile email api offline_access",
        "iat": 1_767_225_600_i64,
        "nbf": 1_767_225_600_i64,
        "exp": 1_767_229_200_i64,
        "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
    })
}

/// A fresh PKCS#8 private key, as the key manager generates and stores it.
fn private_key(algorithm: SigningAlgorithm) -> Vec<u8> {
    match algorithm {
        SigningAlgorithm::Rs256 => {
            let key_pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
            key_pair.as_der().expect("PKCS#8 encoding").as_ref().to_vec()
        }
        SigningAlgorithm::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("P-256 key generation")
            .as_ref()
            .to_vec(),
        SigningAlgorithm::EdDsa => {
            Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new()).expect("Ed25519 key generation").as_ref().to_vec()
        }
        other => panic!("the benchmark has no key generator for {other:?}"),
    }
}

/// The `EncodingKey` for the same key. RSA goes through PEM, whose reader turns PKCS#8 into the
/// PKCS#1 DER that `jsonwebtoken`'s RSA signer parses on every call.
fn encoding_key(algorithm: SigningAlgorithm, pkcs8_der: &[u8]) -> EncodingKey {
    match algorithm {
        SigningAlgorithm::Rs256 => {
            let pem =
                format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(pkcs8_der));
            EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM")
        }
        SigningAlgorithm::Es256 => EncodingKey::from_ec_der(pkcs8_der),
        SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(pkcs8_der),
        other => panic!("the benchmark has no jsonwebtoken key for {other:?}"),
    }
}

fn jwt_algorithm(algorithm: SigningAlgorithm) -> jsonwebtoken::Algorithm {
    match algorithm {
        SigningAlgorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        SigningAlgorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        SigningAlgorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        other => panic!("the benchmark has no jsonwebtoken algorithm for {other:?}"),
    }
}

fn signing(c: &mut Criterion) {
    let payload = access_token_payload();
    for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::EdDsa] {
        let der = private_key(algorithm);
        let signer = JwsSigner::from_pkcs8(algorithm, &der).expect("the signer parses the key");
        let encoding_key = encoding_key(algorithm, &der);
        let mut header = Header::new(jwt_algorithm(algorithm));
        header.kid = Some(KEY_ID.to_owned());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());

        let mut group = c.benchmark_group(format!("sign_access_token/{}", algorithm.as_str()));
        group.bench_function("cached_signer", |b| {
            b.iter(|| signer.sign(KEY_ID, ACCESS_TOKEN_TYPE, black_box(&payload)).expect("signs"));
        });
        group.bench_function("jsonwebtoken_encode", |b| {
            b.iter(|| jsonwebtoken::encode(&header, black_box(&payload), &encoding_key).expect("signs"));
        });
        group.finish();
    }
}

criterion_group!(benches, signing);
criterion_main!(benches);

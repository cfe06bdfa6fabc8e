//! Password verification against arbitrary strings and bytes, and against valid and damaged ASP.NET
//! Identity V2 and V3 hashes; the hashers and limits the Argon2 properties share.

use PasswordVerificationResult::{Failed, Success, SuccessRehashNeeded};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use identity_core::{
    Argon2Params, CompatibilityMode, IdentityPasswordHasher, PasswordHasher as _, PasswordHasherOptions,
    PasswordVerificationResult,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// The password every generated hash is checked against.
pub(crate) const PASSWORD: &str = "my password";
/// The most PBKDF2 iterations a generated V3 header asks for.
const MAX_ITERATIONS: u32 = 2_000;
/// The most Argon2 passes a generated PHC string asks for within the memory limit.
pub(crate) const MAX_PASSES: u32 = 16;
/// The hashers' Argon2 verification memory limit in KiB: a PHC string asking for more fails unread.
pub(crate) const MEMORY_LIMIT_KIB: u32 = 64;
/// .NET's base64 as the verifier reads it: the unused bits of the last character are ignored.
const DOTNET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

/// A hasher writing `mode` at the smallest Argon2 cost, with `v3_iteration_count` as its V3 policy.
pub(crate) fn hasher(mode: CompatibilityMode, v3_iteration_count: u32) -> IdentityPasswordHasher {
    let options = PasswordHasherOptions {
        mode,
        argon2: Argon2Params::INSECURE_MINIMUM,
        v3_iteration_count,
        argon2_max_verify_memory_kib: MEMORY_LIMIT_KIB,
        argon2_max_verify_iterations: PasswordHasherOptions::DEFAULT_ARGON2_MAX_VERIFY_ITERATIONS,
    };
    IdentityPasswordHasher::new(options).expect("valid options")
}

/// One hasher per mode (Argon2id, IdentityV3, IdentityV2), with .NET's default V3 policy.
pub(crate) fn every_mode() -> [IdentityPasswordHasher; 3] {
    let count = PasswordHasherOptions::DEFAULT_V3_ITERATION_COUNT;
    [CompatibilityMode::Argon2id, CompatibilityMode::IdentityV3, CompatibilityMode::IdentityV2]
        .map(|mode| hasher(mode, count))
}

/// The iteration count of a V3 header (marker 1), if `bytes` has one.
fn v3_iterations(bytes: &[u8]) -> Option<u32> {
    let field = bytes.get(5..9).filter(|_| bytes.first() == Some(&1))?;
    Some(u32::from_be_bytes(field.try_into().ok()?))
}

/// Whether verifying `stored` stays within the test's budget (see the crate documentation).
fn cheap_to_verify(stored: &str) -> bool {
    let compact: Vec<u8> = stored.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    let iterations = DOTNET_BASE64.decode(compact).ok().and_then(|bytes| v3_iterations(&bytes));
    let passes = stored.match_indices("t=").map(|(at, _)| {
        let digits = stored[at + 2..].bytes().take_while(u8::is_ascii_digit);
        digits.fold(0_u64, |n, digit| n.saturating_mul(10).saturating_add(u64::from(digit - b'0')))
    });
    iterations.is_none_or(|count| count <= MAX_ITERATIONS) && passes.max().unwrap_or(0) <= u64::from(MAX_PASSES)
}

/// A V2 hash: marker 0, a 16-byte salt, PBKDF2-HMAC-SHA1 with 1000 iterations, a 32-byte subkey.
fn v2_hash(password: &str, salt: &[u8; 16]) -> Vec<u8> {
    let mut subkey = [0_u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt, 1000, &mut subkey);
    [&[0_u8][..], &salt[..], &subkey[..]].concat()
}

/// A V3 hash: marker 1, then PRF (0 SHA-1, 1 SHA-256, 2 SHA-512), iteration count and salt length
/// as big-endian `u32`s, the salt and the subkey.
fn v3_hash(password: &str, prf: u32, iterations: u32, salt: &[u8], subkey_len: usize) -> Vec<u8> {
    let mut subkey = vec![0_u8; subkey_len];
    match prf {
        0 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt, iterations, &mut subkey),
        1 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut subkey),
        _ => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt, iterations, &mut subkey),
    }
    let salt_len = u32::try_from(salt.len()).expect("a short salt");
    let header = [prf.to_be_bytes(), iterations.to_be_bytes(), salt_len.to_be_bytes()].concat();
    [&[1_u8][..], &header[..], salt, &subkey[..]].concat()
}

/// Strings of any characters, of base64's alphabet, and of PHC's.
fn stored_strings() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[A-Za-z0-9+/= \r\n]{0,120}", "\\$[a-z0-9=,$+/]{0,80}"]
        .prop_filter("verification cost within the test budget", |stored| cheap_to_verify(stored))
}

/// Raw bytes: anything, V2-sized with marker 0, and V3 headers with random fields and cheap counts.
fn stored_bytes() -> impl Strategy<Value = Vec<u8>> {
    let v3_header = (
        prop_oneof![0_u32..=3, any::<u32>()],
        prop_oneof![0_u32..=MAX_ITERATIONS, Just(1_u32 << 31), Just(u32::MAX)],
        prop_oneof![0_u32..=80, Just(8192_u32), Just(8193_u32), any::<u32>()],
        prop::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(prf, iterations, salt_len, rest)| {
            let header = [prf.to_be_bytes(), iterations.to_be_bytes(), salt_len.to_be_bytes()].concat();
            [&[1_u8][..], &header[..], &rest[..]].concat()
        });
    let v2_sized = prop::collection::vec(any::<u8>(), 47..=50).prop_map(|rest| [&[0_u8][..], &rest[..]].concat());
    let anything = prop::collection::vec(any::<u8>(), 0..160)
        .prop_filter("PBKDF2 cost within the test budget", |b| v3_iterations(b).is_none_or(|n| n <= MAX_ITERATIONS));
    prop_oneof![anything, v2_sized, v3_header]
}

/// The parameters of a generated V3 hash: PRF, iteration count, salt and subkey length.
type V3Params = (u32, u32, Vec<u8>, usize);

/// Valid V2 and V3 hashes of [`PASSWORD`], with the V3 parameters (`None` for V2).
fn identity_hashes() -> impl Strategy<Value = (Vec<u8>, Option<V3Params>)> {
    let v2 = any::<[u8; 16]>().prop_map(|salt| (v2_hash(PASSWORD, &salt), None::<V3Params>));
    let v3 = (0_u32..=2, 1_u32..=64, prop::collection::vec(any::<u8>(), 16..=48), 16_usize..=64).prop_map(
        |(prf, iterations, salt, subkey_len)| {
            let bytes = v3_hash(PASSWORD, prf, iterations, &salt, subkey_len);
            (bytes, Some((prf, iterations, salt, subkey_len)))
        },
    );
    prop_oneof![v2, v3]
}

proptest! {
    #[test]
    fn arbitrary_strings_never_verify(stored in stored_strings()) {
        for hasher in every_mode() {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, PASSWORD), Failed);
            prop_assert_eq!(hasher.verify_hashed_password(&stored, ""), Failed);
        }
    }

    #[test]
    fn arbitrary_bytes_in_base64_never_verify(bytes in stored_bytes()) {
        let stored = STANDARD.encode(&bytes);
        for hasher in every_mode() {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, PASSWORD), Failed, "{:?}", bytes);
        }
    }

    #[test]
    fn v2_hashes_verify_only_their_password(
        password in any::<String>(),
        other in any::<String>(),
        salt in any::<[u8; 16]>(),
    ) {
        let stored = STANDARD.encode(v2_hash(&password, &salt));
        let expected = [SuccessRehashNeeded, SuccessRehashNeeded, Success];
        for (hasher, expected) in every_mode().into_iter().zip(expected) {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, &password), expected);
            if other != password {
                prop_assert_eq!(hasher.verify_hashed_password(&stored, &other), Failed);
            }
        }
    }

    #[test]
    fn v3_hashes_verify_only_their_password(
        password in any::<String>(),
        other in any::<String>(),
        (prf, iterations, subkey_len) in (0_u32..=2, 1_u32..=64, 16_usize..=64),
        salt in prop::collection::vec(any::<u8>(), 16..=48),
    ) {
        let stored = STANDARD.encode(v3_hash(&password, prf, iterations, &salt, subkey_len));
        let sha512 = if prf == 2 { Success } else { SuccessRehashNeeded };
        // Argon2id mode always upgrades; V3 mode at 100,000 iterations too, and at 1 iteration only
        // another PRF than SHA-512; V2 mode asks only for SHA-512, as .NET does.
        let [argon2id, v3, v2] = every_mode();
        let v3_at_one_iteration = hasher(CompatibilityMode::IdentityV3, 1);
        let cases =
            [(argon2id, SuccessRehashNeeded), (v3, SuccessRehashNeeded), (v2, sha512), (v3_at_one_iteration, sha512)];
        for (hasher, expected) in cases {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, &password), expected);
            if other != password {
                prop_assert_eq!(hasher.verify_hashed_password(&stored, &other), Failed);
            }
        }
    }

    #[test]
    fn damaged_identity_hashes_fail(
        (bytes, v3) in identity_hashes(),
        damage in 0_u8..3,
        index in any::<Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let mut bytes = bytes;
        let still_valid = match (damage, &v3) {
            (0, _) => {
                let bit = index.index(bytes.len() * 8);
                // Not flipped: V2's marker bit (the salt would become a V3 header with any count) and
                // the high bytes of V3's count (up to i32::MAX iterations, valid as in .NET).
                prop_assume!(if v3.is_some() { !(5..8).contains(&(bit / 8)) } else { bit != 0 });
                if let Some(byte) = bytes.get_mut(bit / 8) {
                    *byte ^= 1 << (bit % 8);
                }
                false
            }
            (1, _) => {
                let keep = index.index(bytes.len());
                bytes.truncate(keep);
                v3.as_ref().is_some_and(|(_, _, salt, _)| keep >= 13 + salt.len() + 16)
            }
            (_, None) => {
                bytes.extend(extra);
                false
            }
            // Valid only if the extra bytes happen to continue PBKDF2's output (one in 256 for one byte).
            (_, Some((prf, iterations, salt, subkey_len))) => {
                bytes.extend(&extra);
                bytes == v3_hash(PASSWORD, *prf, *iterations, salt, subkey_len + extra.len())
            }
        };
        let stored = STANDARD.encode(&bytes);
        for hasher in every_mode() {
            let verified = hasher.verify_hashed_password(&stored, PASSWORD) != Failed;
            prop_assert_eq!(verified, still_valid, "{:?}", bytes);
        }
    }
}

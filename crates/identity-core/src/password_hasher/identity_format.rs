//! The ASP.NET Identity V2 and V3 hash formats: .NET's PBKDF2 PRFs, the writers of both formats and the
//! verifier of their base64 layouts, byte for byte as ASP.NET Core's `PasswordHasher<TUser>`.

use super::{Matched, SALT_LEN};
use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq as _;

/// Subkey length of the ASP.NET Identity hashes this module writes, in bytes.
const SUBKEY_LEN: usize = 32;
/// V2 format marker, iteration count and total length.
const V2_MARKER: u8 = 0x00;
const V2_ITERATIONS: u32 = 1000;
const V2_LEN: usize = 1 + SALT_LEN + SUBKEY_LEN;
/// V3 format marker, header length and the salt and subkey bounds of its verifier.
const V3_MARKER: u8 = 0x01;
const V3_HEADER_LEN: usize = 13;
const V3_MIN_SALT_LEN: usize = 16;
const V3_MAX_SALT_LEN: usize = 8192;
const V3_MIN_SUBKEY_LEN: usize = 16;

/// .NET's `Convert.FromBase64String` alphabet and padding; like .NET it ignores the unused low
/// bits of the last character.
const DOTNET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

/// .NET's `KeyDerivationPrf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn from_wire(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::Sha1),
            1 => Some(Self::Sha256),
            2 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn to_wire(self) -> u32 {
        match self {
            Self::Sha1 => 0,
            Self::Sha256 => 1,
            Self::Sha512 => 2,
        }
    }

    fn derive(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out),
            Self::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, out),
        }
    }
}

/// The V2 hash of `password` with `salt`, base64-encoded.
pub(super) fn encode_v2(password: &[u8], salt: &[u8; SALT_LEN]) -> String {
    let mut subkey = [0u8; SUBKEY_LEN];
    Prf::Sha1.derive(password, salt, V2_ITERATIONS, &mut subkey);
    let mut bytes = Vec::with_capacity(V2_LEN);
    bytes.push(V2_MARKER);
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(&subkey);
    DOTNET_BASE64.encode(bytes)
}

/// The V3 hash (HMAC-SHA512) of `password` with `salt` and `iterations`, base64-encoded.
pub(super) fn encode_v3(password: &[u8], salt: &[u8; SALT_LEN], iterations: u32) -> String {
    let mut subkey = [0u8; SUBKEY_LEN];
    Prf::Sha512.derive(password, salt, iterations, &mut subkey);
    let mut bytes = Vec::with_capacity(V3_HEADER_LEN + SALT_LEN + SUBKEY_LEN);
    bytes.push(V3_MARKER);
    bytes.extend_from_slice(&Prf::Sha512.to_wire().to_be_bytes());
    bytes.extend_from_slice(&iterations.to_be_bytes());
    bytes.extend_from_slice(&(SALT_LEN as u32).to_be_bytes());
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(&subkey);
    DOTNET_BASE64.encode(bytes)
}

/// Verifies a base64 ASP.NET Identity hash; `None` when it is malformed or does not match.
pub(super) fn verify_identity(hashed_password: &str, password: &[u8]) -> Option<Matched> {
    let compact: Vec<u8> = hashed_password.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    let decoded = DOTNET_BASE64.decode(compact).ok()?;
    match *decoded.first()? {
        V2_MARKER => verify_v2(&decoded, password),
        V3_MARKER => verify_v3(&decoded, password),
        _ => None,
    }
}

fn verify_v2(decoded: &[u8], password: &[u8]) -> Option<Matched> {
    if decoded.len() != V2_LEN {
        return None;
    }
    let salt = decoded.get(1..1 + SALT_LEN)?;
    let expected = decoded.get(1 + SALT_LEN..)?;
    let mut actual = [0u8; SUBKEY_LEN];
    Prf::Sha1.derive(password, salt, V2_ITERATIONS, &mut actual);
    bool::from(actual.ct_eq(expected)).then_some(Matched::V2)
}

fn verify_v3(decoded: &[u8], password: &[u8]) -> Option<Matched> {
    let prf = Prf::from_wire(read_u32_be(decoded, 1)?)?;
    let iterations = read_u32_be(decoded, 5)?;
    // .NET reads the count as an `int`, and PBKDF2 rejects a count that is not positive.
    if iterations == 0 || i32::try_from(iterations).is_err() {
        return None;
    }
    let salt_len = usize::try_from(read_u32_be(decoded, 9)?).ok()?;
    if !(V3_MIN_SALT_LEN..=V3_MAX_SALT_LEN).contains(&salt_len) {
        return None;
    }
    let salt = decoded.get(V3_HEADER_LEN..V3_HEADER_LEN + salt_len)?;
    let expected = decoded.get(V3_HEADER_LEN + salt_len..)?;
    if expected.len() < V3_MIN_SUBKEY_LEN {
        return None;
    }
    let mut actual = vec![0u8; expected.len()];
    prf.derive(password, salt, iterations, &mut actual);
    bool::from(actual.ct_eq(expected)).then_some(Matched::V3 { prf, iterations })
}

/// The big-endian `u32` at `offset`, if `bytes` is long enough.
fn read_u32_be(bytes: &[u8], offset: usize) -> Option<u32> {
    let field = bytes.get(offset..offset + 4)?;
    Some(u32::from_be_bytes(field.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password_hasher::PasswordHasher as _;
    use crate::password_hasher::PasswordVerificationResult::{Failed, Success, SuccessRehashNeeded};
    use crate::password_hasher::tests::{
        PASSWORD, TEST_SALT, V2_SHA1_1000, V3_SHA512_10000, V3_SHA512_100000, cheap, v2_mode, v3_mode,
    };

    fn decode(hash: &str) -> Vec<u8> {
        DOTNET_BASE64.decode(hash).expect("valid base64")
    }

    #[test]
    fn password_hasher_writers_match_dotnet_byte_for_byte() {
        assert_eq!(encode_v3(PASSWORD.as_bytes(), &TEST_SALT, 100_000), V3_SHA512_100000);
        assert_eq!(encode_v3(PASSWORD.as_bytes(), &TEST_SALT, 10_000), V3_SHA512_10000);
        assert_eq!(encode_v2(PASSWORD.as_bytes(), &TEST_SALT), V2_SHA1_1000);
    }

    #[test]
    fn password_hasher_round_trip_identity_v3() {
        let hasher = v3_mode();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert_eq!(hash.len(), 84);
        let bytes = decode(&hash);
        assert_eq!(bytes.len(), 61);
        // Marker 1, PRF 2 (SHA-512), 100,000 iterations, 16-byte salt; all big-endian.
        assert_eq!(bytes.get(..13), Some(&[1, 0, 0, 0, 2, 0, 1, 0x86, 0xa0, 0, 0, 0, 16][..]));
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
        // The default Argon2id hasher accepts it and asks for an upgrade.
        assert_eq!(cheap().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
    }

    #[test]
    fn password_hasher_round_trip_identity_v2() {
        let hasher = v2_mode();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert_eq!(hash.len(), 68);
        let bytes = decode(&hash);
        assert_eq!((bytes.len(), bytes.first()), (49, Some(&0)));
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
        assert_eq!(v3_mode().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
        assert_eq!(cheap().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
    }

    /// A V3 hash with the given header fields; the salt is `TEST_SALT` and the subkey the one
    /// SHA-512 would give, so only the field under test can make it fail.
    fn v3_with(prf: u32, iterations: u32) -> String {
        let mut bytes = vec![V3_MARKER];
        bytes.extend_from_slice(&prf.to_be_bytes());
        bytes.extend_from_slice(&iterations.to_be_bytes());
        bytes.extend_from_slice(&16u32.to_be_bytes());
        bytes.extend_from_slice(&TEST_SALT);
        let mut subkey = [0u8; SUBKEY_LEN];
        Prf::Sha512.derive(PASSWORD.as_bytes(), &TEST_SALT, 1, &mut subkey);
        bytes.extend_from_slice(&subkey);
        DOTNET_BASE64.encode(bytes)
    }

    #[test]
    fn password_hasher_v3_header_limits() {
        let hasher = v3_mode();
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 1), PASSWORD), SuccessRehashNeeded);
        assert_eq!(hasher.verify_hashed_password(&v3_with(3, 1), PASSWORD), Failed, "PRF 3");
        assert_eq!(hasher.verify_hashed_password(&v3_with(u32::MAX, 1), PASSWORD), Failed, "PRF u32::MAX");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 0), PASSWORD), Failed, "0 iterations");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 1 << 31), PASSWORD), Failed, "negative as i32");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, u32::MAX), PASSWORD), Failed, "-1 as i32");

        // Salt of exactly 8192 bytes is accepted; 8193 is not (subkey valid either way).
        for (salt_len, expected) in [(8192usize, SuccessRehashNeeded), (8193, Failed)] {
            let salt = vec![7u8; salt_len];
            let mut bytes = vec![V3_MARKER];
            bytes.extend_from_slice(&2u32.to_be_bytes());
            bytes.extend_from_slice(&1u32.to_be_bytes());
            bytes.extend_from_slice(&u32::try_from(salt_len).expect("small").to_be_bytes());
            bytes.extend_from_slice(&salt);
            let mut subkey = [0u8; 16];
            Prf::Sha512.derive(PASSWORD.as_bytes(), &salt, 1, &mut subkey);
            bytes.extend_from_slice(&subkey);
            let hash = DOTNET_BASE64.encode(bytes);
            assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), expected, "salt {salt_len}");
        }
    }

    #[test]
    fn password_hasher_base64_leniency_matches_dotnet() {
        let hasher = v3_mode();
        let spaced = format!(" {}\r\n{}\t{} ", &V2_SHA1_1000[..10], &V2_SHA1_1000[10..40], &V2_SHA1_1000[40..]);
        assert_eq!(hasher.verify_hashed_password(&spaced, PASSWORD), SuccessRehashNeeded);
        // "Jg==" → "Jh==": same byte, non-zero unused bits, which .NET ignores.
        let trailing_bits = V2_SHA1_1000.replace("Jg==", "Jh==");
        assert_eq!(hasher.verify_hashed_password(&trailing_bits, PASSWORD), SuccessRehashNeeded);
        // Missing padding and URL-safe characters are rejected, as by .NET.
        let unpadded = V2_SHA1_1000.trim_end_matches('=');
        assert_eq!(hasher.verify_hashed_password(unpadded, PASSWORD), Failed);
        let url_safe = V2_SHA1_1000.replace('+', "-");
        assert_eq!(hasher.verify_hashed_password(&url_safe, PASSWORD), Failed);
    }
}

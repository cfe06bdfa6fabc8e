//! RFC 4648 Base32 (alphabet `A-Z2-7`, no padding) and the random values built on it: security
//! stamps and authenticator keys, both 20 random bytes as 32 characters, as .NET generates them.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes bytes as unpadded Base32.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u64::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 0x1f) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize] as char);
    }
    out
}

/// Decodes Base32, case-insensitively, ignoring trailing `=` padding. `None` on an invalid character.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 5 / 8);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for c in trimmed.chars() {
        let upper = c.to_ascii_uppercase() as u8;
        let value = ALPHABET.iter().position(|&a| a == upper)? as u64;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// 20 random bytes from the operating system's generator, Base32-encoded (32 characters).
pub fn random_base32_20() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    encode(&bytes)
}

/// A fresh security stamp.
pub fn new_security_stamp() -> String {
    random_base32_20()
}

/// A fresh authenticator key (the same generator as the stamp, as in .NET).
pub fn new_authenticator_key() -> String {
    random_base32_20()
}

/// Characters of recovery codes: no `0`, `O`, `1`, `I` or `L`, so codes read back unambiguously.
const RECOVERY_CODE_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// A fresh two-factor recovery code in the current .NET format, `XXXXX-XXXXX`, each character
/// drawn uniformly from [`RECOVERY_CODE_ALPHABET`].
pub fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    let mut pick = || {
        let index = rand::Rng::random_range(&mut rng, 0..RECOVERY_CODE_ALPHABET.len());
        RECOVERY_CODE_ALPHABET[index] as char
    };
    let first: String = (0..5).map(|_| pick()).collect();
    let second: String = (0..5).map(|_| pick()).collect();
    format!("{first}-{second}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc4648_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "MY");
        assert_eq!(encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(decode("MZXW6YTBOI======").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode("M1"), None);
    }

    #[test]
    fn stamps_are_32_characters_and_differ() {
        let a = new_security_stamp();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_security_stamp());
    }

    #[test]
    fn recovery_codes_have_the_dotnet_shape() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        assert!(code.chars().filter(|c| *c != '-').all(|c| RECOVERY_CODE_ALPHABET.contains(&(c as u8))));
    }
}

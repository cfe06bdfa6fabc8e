//! RFC 4226 HOTP and RFC 6238 TOTP codes, as .NET's `Rfc6238AuthenticationService` computes
//! them: HMAC-SHA1 over the 8-byte big-endian counter followed by optional modifier bytes,
//! dynamic truncation, six decimal digits.
//!
//! With no modifier these are the standard codes of authenticator apps, so tests and tools can
//! use [`totp`] to produce the code an app would show for a Base32 key.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Codes have this many decimal digits.
pub const DIGITS: u32 = 6;

/// How many steps before and after the current one [`validate_totp`] accepts, as .NET does.
pub const ACCEPTED_STEP_DRIFT: i64 = 2;

/// The HOTP value (RFC 4226) of `key` at `counter`, as a number below `10^6`.
///
/// The HMAC-SHA1 input is the counter as 8 big-endian bytes followed by the UTF-8 bytes of
/// `modifier`, when there is one (`None` gives the standard RFC 4226 code).
pub fn hotp(key: &[u8], counter: u64, modifier: Option<&str>) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(&counter.to_be_bytes());
    if let Some(modifier) = modifier {
        mac.update(modifier.as_bytes());
    }
    let hash = mac.finalize().into_bytes();
    // Dynamic truncation: the low nibble of the last byte picks four bytes, top bit cleared.
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([hash[offset], hash[offset + 1], hash[offset + 2], hash[offset + 3]]) & 0x7fff_ffff;
    binary % 10u32.pow(DIGITS)
}

/// The RFC 6238 time-step counter of `at`: whole `step_seconds` periods since the Unix epoch.
///
/// Instants before the epoch give negative steps, which wrap as two's complement (as .NET's cast
/// to `ulong` does).
///
/// # Panics
///
/// When `step_seconds` is not positive.
pub fn time_step(at: DateTime<Utc>, step_seconds: i64) -> u64 {
    assert!(step_seconds > 0, "the time step must be positive");
    at.timestamp().div_euclid(step_seconds) as u64
}

/// The TOTP code of `key` at `at`: [`hotp`] at the [`time_step`] of `at`.
pub fn totp(key: &[u8], at: DateTime<Utc>, step_seconds: i64, modifier: Option<&str>) -> u32 {
    hotp(key, time_step(at, step_seconds), modifier)
}

/// Whether `code` is the TOTP code of `key` for any step within [`ACCEPTED_STEP_DRIFT`] steps of
/// the step of `at`. Every candidate step is computed and compared in constant time, so the
/// timing does not reveal which step matched.
pub fn validate_totp(key: &[u8], code: u32, at: DateTime<Utc>, step_seconds: i64, modifier: Option<&str>) -> bool {
    let current = time_step(at, step_seconds);
    let mut matched = subtle::Choice::from(0);
    for drift in -ACCEPTED_STEP_DRIFT..=ACCEPTED_STEP_DRIFT {
        matched |= hotp(key, current.wrapping_add_signed(drift), modifier).ct_eq(&code);
    }
    matched.into()
}

/// Parses a code as .NET's `int.TryParse` with `NumberStyles.Integer` does: leading and trailing
/// white space (tab to carriage return, and space) and one leading `+` or `-` sign are allowed,
/// leading zeros are optional, and the value must fit in an `i32`. `None` when it does not
/// parse, and also for negative numbers, which parse in .NET but can never match a code.
pub(crate) fn parse_code(token: &str) -> Option<u32> {
    let value: i32 = token.trim_matches(|c| matches!(c, '\t'..='\r' | ' ')).parse().ok()?;
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(unix_seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(unix_seconds, 0).unwrap()
    }

    #[test]
    fn hotp_matches_rfc4226_appendix_d() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, None), code, "counter {counter}");
        }
    }

    #[test]
    fn totp_matches_rfc6238_sha1_vectors() {
        // Appendix B gives eight digits; the six-digit code is the value modulo 10^6.
        let vectors = [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (seconds, eight_digits) in vectors {
            assert_eq!(totp(RFC_SECRET, at(seconds), 30, None), eight_digits % 1_000_000, "time {seconds}");
        }
    }

    #[test]
    fn time_steps_count_whole_periods_from_the_epoch() {
        assert_eq!(time_step(at(0), 30), 0);
        assert_eq!(time_step(at(29), 30), 0);
        assert_eq!(time_step(at(59), 30), 1);
        assert_eq!(time_step(at(1_111_111_109), 30), 0x023523EC);
        assert_eq!(time_step(at(360), 180), 2);
        assert_eq!(time_step(at(-1), 30), u64::MAX);
    }

    #[test]
    fn the_modifier_is_appended_to_the_counter() {
        let mut mac = Hmac::<Sha1>::new_from_slice(RFC_SECRET).unwrap();
        mac.update(&7u64.to_be_bytes());
        mac.update("Totp:p:u".as_bytes());
        let hash = mac.finalize().into_bytes();
        let offset = usize::from(hash[19] & 0x0f);
        let expected = (u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff) % 1_000_000;
        assert_eq!(hotp(RFC_SECRET, 7, Some("Totp:p:u")), expected);
        assert_ne!(hotp(RFC_SECRET, 7, Some("Totp:p:u")), hotp(RFC_SECRET, 7, Some("Totp:p:v")));
        assert_eq!(hotp(RFC_SECRET, 7, Some("")), hotp(RFC_SECRET, 7, None));
    }

    #[test]
    fn validation_accepts_two_steps_of_drift_either_way() {
        let now = at(1_000_000 * 30 + 12);
        for drift in -3i64..=3 {
            let code = totp(RFC_SECRET, now + chrono::Duration::seconds(30 * drift), 30, None);
            assert_eq!(validate_totp(RFC_SECRET, code, now, 30, None), drift.abs() <= 2, "drift {drift}");
        }
    }

    #[test]
    fn codes_parse_like_dotnet_int_try_parse() {
        assert_eq!(parse_code("012345"), Some(12345));
        assert_eq!(parse_code("12345"), Some(12345));
        assert_eq!(parse_code(" \t+000042\r\n"), Some(42));
        assert_eq!(parse_code("-0"), Some(0));
        assert_eq!(parse_code("2147483647"), Some(i32::MAX as u32));
        let bad = ["", " ", "+", "-7", "12 34", "1e3", "0x10", "١٢٣", "2147483648", "++1", "123abc", "\u{a0}1"];
        for token in bad {
            assert_eq!(parse_code(token), None, "{token:?}");
        }
    }
}

//! Proof Key for Code Exchange (RFC 7636) with the `S256` method only; `plain` offers no
//! protection against a stolen authorization request and is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only supported `code_challenge_method`.
pub(crate) const S256: &str = "S256";

const MINIMUM_LENGTH: usize = 43;
const MAXIMUM_LENGTH: usize = 128;

/// Whether `value` has the length and characters RFC 7636 §4.1 allows for a verifier (the same
/// rule is applied to challenges): 43 to 128 unreserved characters.
fn is_well_formed(value: &str) -> bool {
    (MINIMUM_LENGTH..=MAXIMUM_LENGTH).contains(&value.len())
        && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` is an acceptable `code_challenge`.
pub(crate) fn is_valid_challenge(challenge: &str) -> bool {
    is_well_formed(challenge)
}

/// Whether `verifier` is well formed and its S256 transform equals `challenge`, compared in
/// constant time.
pub(crate) fn verifies(verifier: &str, challenge: &str) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let transformed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bool::from(transformed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        assert!(is_valid_challenge(CHALLENGE));
        assert!(verifies(VERIFIER, CHALLENGE));
    }

    #[test]
    fn wrong_or_malformed_verifiers_fail() {
        assert!(!verifies(&VERIFIER.replace('d', "e"), CHALLENGE));
        // The challenge itself as verifier: what a `plain` client would send.
        assert!(!verifies(CHALLENGE, CHALLENGE));
        assert!(!verifies("short", CHALLENGE));
        assert!(!verifies(&"a".repeat(129), CHALLENGE));
        assert!(!verifies(&format!("{VERIFIER}+"), CHALLENGE));
    }

    #[test]
    fn challenges_must_be_well_formed() {
        assert!(!is_valid_challenge("too-short"));
        assert!(!is_valid_challenge(&format!("{CHALLENGE}=")));
        assert!(is_valid_challenge(&"a".repeat(128)));
    }
}

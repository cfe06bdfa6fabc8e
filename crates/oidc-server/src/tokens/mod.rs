//! Token creation and validation: JWT access tokens, opaque refresh tokens and id tokens.

pub(crate) mod access_token;
pub(crate) mod id_token;
pub(crate) mod refresh_token;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore as _;

use crate::error::{Error, Result};

fn random_base64url<const BYTES: usize>() -> String {
    let mut bytes = [0_u8; BYTES];
    // The thread-local generator is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A 128-bit random identifier (key ids, `jti`, grant families).
pub(crate) fn random_identifier() -> String {
    random_base64url::<16>()
}

/// A 256-bit random handle for opaque tokens.
pub(crate) fn random_handle() -> String {
    random_base64url::<32>()
}

/// When something issued at `now` with `lifetime` expires. A lifetime so large that the instant
/// cannot be represented is a configuration error, not a panic.
pub(crate) fn expiry(now: DateTime<Utc>, lifetime: TimeDelta) -> Result<DateTime<Utc>> {
    now.checked_add_signed(lifetime)
        .ok_or_else(|| Error::Configuration(format!("the lifetime {lifetime} is out of range")))
}

/// Whether `token` has the shape of a compact JWS (three dot-separated parts); opaque handles
/// are base64url and never contain a dot.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_random_and_url_safe() {
        let handle = random_handle();
        assert_eq!(handle.len(), 43);
        assert_ne!(handle, random_handle());
        assert!(!looks_like_jwt(&handle));
        assert!(handle.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
        assert_eq!(random_identifier().len(), 22);
    }
}

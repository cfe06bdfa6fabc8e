//! Token creation and validation: JWT access tokens, opaque refresh tokens, authorization codes
//! and id tokens.

pub(crate) mod access_token;
pub(crate) mod id_token;
pub(crate) mod logout_token;
pub(crate) mod refresh_token;

pub(crate) mod authorization_code;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::Validation;
use rand::RngCore as _;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::state::ServerState;

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

/// The payload of a JWT that this server signed with one of its keys, whose JOSE `typ` is
/// `token_type`, whose issuer is this server and which has every claim in `required_claims`.
/// Time claims are not checked: the callers decide (against the injected clock). `None` for
/// anything else; the reason is logged at debug level only.
pub(crate) async fn verify_own_jwt(
    state: &ServerState,
    token: &str,
    token_type: &str,
    required_claims: &[&str],
) -> Result<Option<Map<String, Value>>> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        tracing::debug!(typ = token_type, "token rejected: malformed");
        return Ok(None);
    };
    if header.typ.as_deref() != Some(token_type) {
        tracing::debug!(typ = token_type, "token rejected: wrong typ");
        return Ok(None);
    }
    let Some(key_id) = header.kid.as_deref() else {
        tracing::debug!(typ = token_type, "token rejected: no kid");
        return Ok(None);
    };
    let Some(key) = state.keys.verification_key(key_id).await? else {
        tracing::debug!(typ = token_type, kid = key_id, "token rejected: unknown key");
        return Ok(None);
    };
    if key.algorithm().jwt_algorithm() != header.alg {
        tracing::debug!(typ = token_type, kid = key_id, "token rejected: algorithm does not match the key");
        return Ok(None);
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    // Audiences are the callers' business too: userinfo and introspection serve every API's
    // tokens, and an id token hint names its client.
    validation.validate_aud = false;
    validation.set_issuer(&[&state.issuer]);
    validation.set_required_spec_claims(required_claims);
    match jsonwebtoken::decode::<Map<String, Value>>(token, key.decoding_key(), &validation) {
        Ok(data) => Ok(Some(data.claims)),
        Err(error) => {
            tracing::debug!(typ = token_type, %error, "token rejected");
            Ok(None)
        }
    }
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

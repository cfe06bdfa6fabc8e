//! Id tokens (OpenID Connect Core §2): issued at the token endpoint for the authorization-code
//! grant (the password grant returns none, as in IdentityServer), exposed to hosts through
//! [`crate::OidcServer::issue_id_token`], and read back as the end-session endpoint's
//! `id_token_hint`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};

use super::{expiry, verify_own_jwt};
use crate::claims::{Subject, TokenClaim, add_claims_to_json, claim_types, is_protocol_claim_type};
use crate::error::Result;
use crate::keys::SigningAlgorithm;
use crate::model::client::Client;
use crate::state::ServerState;

/// The JOSE `typ` of id tokens. OpenID Connect defines none; `JWT` is what relying parties
/// accept (some reject anything else).
pub(crate) const ID_TOKEN_TYPE: &str = "JWT";

/// What an id token is issued for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdTokenRequest<'a> {
    /// The client; it is the token's audience.
    pub client: &'a Client,
    /// The authenticated user.
    pub subject: &'a Subject,
    /// The `nonce` of the authentication request.
    pub nonce: Option<&'a str>,
    /// The access token issued alongside, hashed into `at_hash`.
    pub access_token: Option<&'a str>,
    /// The authorization code issued alongside, hashed into `c_hash`.
    pub authorization_code: Option<&'a str>,
    /// Lifetime of the id token. Default five minutes.
    pub lifetime: TimeDelta,
    /// User claims to include (protocol claim types are ignored).
    pub claims: Vec<TokenClaim>,
}

impl<'a> IdTokenRequest<'a> {
    /// An id token for `subject` at `client` with no nonce, hashes or extra claims.
    pub fn new(client: &'a Client, subject: &'a Subject) -> Self {
        Self {
            client,
            subject,
            nonce: None,
            access_token: None,
            authorization_code: None,
            lifetime: TimeDelta::minutes(5),
            claims: Vec::new(),
        }
    }
}

/// The `at_hash`/`c_hash` of `value` for a token signed with `algorithm`: base64url of the left
/// half of the hash the JWS algorithm uses — SHA-256 for RS256 and ES256, SHA-512 for EdDSA
/// (Ed25519).
pub fn token_hash(value: &str, algorithm: SigningAlgorithm) -> String {
    match algorithm {
        SigningAlgorithm::Rs256 | SigningAlgorithm::Es256 => {
            let digest = Sha256::digest(value.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
        }
        SigningAlgorithm::EdDsa => {
            let digest = Sha512::digest(value.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
        }
    }
}

/// The claims of an id token that will be signed with `algorithm`.
pub(crate) fn id_token_payload(
    issuer: &str,
    request: &IdTokenRequest<'_>,
    algorithm: SigningAlgorithm,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>> {
    let mut payload = Map::new();
    add_claims_to_json(&mut payload, request.claims.iter().filter(|claim| !is_protocol_claim_type(&claim.claim_type)));
    request.subject.write_protocol_claims(&mut payload);
    payload.insert(claim_types::ISSUER.into(), issuer.into());
    payload.insert(claim_types::AUDIENCE.into(), request.client.client_id.clone().into());
    payload.insert(claim_types::ISSUED_AT.into(), now.timestamp().into());
    payload.insert(claim_types::NOT_BEFORE.into(), now.timestamp().into());
    payload.insert(claim_types::EXPIRATION.into(), expiry(now, request.lifetime)?.timestamp().into());
    if let Some(nonce) = request.nonce {
        payload.insert(claim_types::NONCE.into(), nonce.into());
    }
    if let Some(access_token) = request.access_token {
        payload.insert(claim_types::ACCESS_TOKEN_HASH.into(), token_hash(access_token, algorithm).into());
    }
    if let Some(code) = request.authorization_code {
        payload.insert(claim_types::AUTHORIZATION_CODE_HASH.into(), token_hash(code, algorithm).into());
    }
    Ok(payload)
}

/// Signs an id token with the current id-token signing key.
pub(crate) async fn issue_id_token(state: &ServerState, request: &IdTokenRequest<'_>) -> Result<String> {
    let key = state.keys.id_token_signing_key().await?;
    let payload = id_token_payload(&state.issuer, request, key.algorithm(), state.clock.now())?;
    key.sign(ID_TOKEN_TYPE, &payload)
}

/// What an `id_token_hint` says about who is logging out of which client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdTokenHint {
    pub(crate) subject_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) client_id: String,
}

/// Reads an id token this server issued, checking its signature and issuer but not its expiry
/// (OpenID Connect RP-Initiated Logout §2: an expired id token is a fine hint). Its audience
/// must be exactly one client. `None` for anything else.
pub(crate) async fn validate_id_token_hint(state: &ServerState, token: &str) -> Result<Option<IdTokenHint>> {
    let Some(payload) = verify_own_jwt(state, token, ID_TOKEN_TYPE, &["iss", "sub", "aud"]).await? else {
        return Ok(None);
    };
    let client_id = match payload.get(claim_types::AUDIENCE) {
        Some(Value::String(client_id)) => Some(client_id.as_str()),
        Some(Value::Array(audiences)) => match audiences.as_slice() {
            [Value::String(client_id)] => Some(client_id.as_str()),
            _ => None,
        },
        _ => None,
    };
    let subject_id = payload.get(claim_types::SUBJECT).and_then(Value::as_str);
    let (Some(client_id), Some(subject_id)) = (client_id, subject_id) else {
        tracing::debug!("id_token_hint rejected: no single audience or no subject");
        return Ok(None);
    };
    Ok(Some(IdTokenHint {
        subject_id: subject_id.to_owned(),
        session_id: payload.get(claim_types::SESSION_ID).and_then(Value::as_str).map(str::to_owned),
        client_id: client_id.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The access token of OpenID Connect Core, Appendix A.3.
    const ACCESS_TOKEN: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";

    #[test]
    fn at_hash_uses_the_left_half_of_sha256_for_rs256_and_es256() {
        // The at_hash published with that example.
        assert_eq!(token_hash(ACCESS_TOKEN, SigningAlgorithm::Rs256), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(token_hash(ACCESS_TOKEN, SigningAlgorithm::Es256), "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn at_hash_uses_the_left_half_of_sha512_for_eddsa() {
        // Computed independently: base64url(SHA-512(token)[..32]).
        assert_eq!(token_hash(ACCESS_TOKEN, SigningAlgorithm::EdDsa), "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM");
    }

    #[test]
    fn payload_carries_protocol_and_session_claims() {
        let client = Client::new("web");
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let mut subject = Subject::new("42", "pwd", now - TimeDelta::minutes(1));
        subject.session_id = Some("session-1".into());
        let mut request = IdTokenRequest::new(&client, &subject);
        request.nonce = Some("n-0S6_WzA2Mj");
        request.access_token = Some(ACCESS_TOKEN);
        request.claims = vec![TokenClaim::new("name", "Alice"), TokenClaim::new("sub", "forged")];
        let payload =
            id_token_payload("https://id.example", &request, SigningAlgorithm::Rs256, now).expect("lifetime in range");
        assert_eq!(payload["iss"], "https://id.example");
        assert_eq!(payload["aud"], "web");
        assert_eq!(payload["sub"], "42");
        assert_eq!(payload["sid"], "session-1");
        assert_eq!(payload["amr"], serde_json::json!(["pwd"]));
        assert_eq!(payload["idp"], "local");
        assert_eq!(payload["auth_time"], 1_699_999_940);
        assert_eq!(payload["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(payload["at_hash"], "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(payload["exp"], 1_700_000_300);
        assert_eq!(payload["name"], "Alice");
        assert!(!payload.contains_key("c_hash"));
    }
}

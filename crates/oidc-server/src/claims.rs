//! Claims and the authenticated subject.
//!
//! A [`TokenClaim`] is a type plus a JSON value; a claim type that occurs several times becomes a JSON
//! array in tokens and userinfo responses. A [`Subject`] is the authenticated user together with
//! the session facts that every user token carries (`sub`, `auth_time`, `idp`, `amr`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Claim type names used by the protocol.
pub mod claim_types {
    /// Subject identifier.
    pub const SUBJECT: &str = "sub";
    /// Time of the user's authentication (seconds since the epoch).
    pub const AUTHENTICATION_TIME: &str = "auth_time";
    /// Identity provider that authenticated the user (`local` for the host itself).
    pub const IDENTITY_PROVIDER: &str = "idp";
    /// Authentication methods references, e.g. `pwd`.
    pub const AUTHENTICATION_METHOD: &str = "amr";
    /// Session identifier.
    pub const SESSION_ID: &str = "sid";
    /// Issuer.
    pub const ISSUER: &str = "iss";
    /// Audience.
    pub const AUDIENCE: &str = "aud";
    /// Expiry (seconds since the epoch).
    pub const EXPIRATION: &str = "exp";
    /// Issue time (seconds since the epoch).
    pub const ISSUED_AT: &str = "iat";
    /// Not-before time (seconds since the epoch).
    pub const NOT_BEFORE: &str = "nbf";
    /// Unique token identifier.
    pub const JWT_ID: &str = "jti";
    /// The client the token was issued to.
    pub const CLIENT_ID: &str = "client_id";
    /// Granted scopes (space-separated in access tokens, RFC 9068).
    pub const SCOPE: &str = "scope";
    /// Nonce echoed from the authentication request.
    pub const NONCE: &str = "nonce";
    /// Access-token hash in an id token.
    pub const ACCESS_TOKEN_HASH: &str = "at_hash";
    /// Authorization-code hash in an id token.
    pub const AUTHORIZATION_CODE_HASH: &str = "c_hash";
    /// Authorized party.
    pub const AUTHORIZED_PARTY: &str = "azp";
    /// Authentication context class reference.
    pub const AUTHENTICATION_CONTEXT_CLASS: &str = "acr";
    /// Confirmation (proof-of-possession) claim.
    pub const CONFIRMATION: &str = "cnf";
}

/// The identity provider name for users authenticated by the host itself.
pub const LOCAL_IDENTITY_PROVIDER: &str = "local";

/// Authentication method reference values (`amr`, RFC 8176) that hosts record at sign-in.
pub mod authentication_methods {
    /// A password.
    pub const PASSWORD: &str = "pwd";
    /// A one-time password, such as an authenticator app's code.
    pub const ONE_TIME_PASSWORD: &str = "otp";
    /// More than one factor (a password and a second factor).
    pub const MULTIPLE_FACTORS: &str = "mfa";
}

/// Claim types the server itself sets in tokens; a profile service cannot issue them into a token
/// (they are dropped, as IdentityServer does), which keeps the protocol claims trustworthy.
pub(crate) const PROTOCOL_CLAIM_TYPES: &[&str] = &[
    claim_types::ACCESS_TOKEN_HASH,
    claim_types::AUDIENCE,
    claim_types::AUTHENTICATION_METHOD,
    claim_types::AUTHENTICATION_TIME,
    claim_types::AUTHORIZED_PARTY,
    claim_types::AUTHORIZATION_CODE_HASH,
    claim_types::CLIENT_ID,
    claim_types::EXPIRATION,
    claim_types::IDENTITY_PROVIDER,
    claim_types::ISSUED_AT,
    claim_types::ISSUER,
    claim_types::JWT_ID,
    claim_types::NONCE,
    claim_types::NOT_BEFORE,
    claim_types::SESSION_ID,
    claim_types::SUBJECT,
    claim_types::SCOPE,
    claim_types::CONFIRMATION,
];

pub(crate) fn is_protocol_claim_type(claim_type: &str) -> bool {
    PROTOCOL_CLAIM_TYPES.contains(&claim_type)
}

/// One claim: a type and a JSON value (usually a string; booleans, numbers and objects such as
/// `address` are allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenClaim {
    /// The claim type, e.g. `email`.
    #[serde(rename = "type")]
    pub claim_type: String,
    /// The claim value.
    pub value: Value,
}

impl TokenClaim {
    /// A claim of `claim_type` with `value`.
    pub fn new(claim_type: impl Into<String>, value: impl Into<Value>) -> Self {
        Self { claim_type: claim_type.into(), value: value.into() }
    }
}

/// Adds `claims` to a JSON object: a type seen once becomes a single value, a type seen several
/// times (e.g. `role`) becomes an array. Existing entries are extended, never replaced by a
/// scalar.
pub(crate) fn add_claims_to_json<'a>(
    object: &mut Map<String, Value>,
    claims: impl IntoIterator<Item = &'a TokenClaim>,
) {
    for claim in claims {
        match object.get_mut(&claim.claim_type) {
            None => {
                object.insert(claim.claim_type.clone(), claim.value.clone());
            }
            Some(Value::Array(values)) => values.push(claim.value.clone()),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, claim.value.clone()]);
            }
        }
    }
}

/// The authenticated user a token is issued for, with the facts of their authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The stable user identifier (`sub`).
    pub subject_id: String,
    /// When the user authenticated (`auth_time`).
    pub authentication_time: DateTime<Utc>,
    /// Who authenticated the user (`idp`); [`LOCAL_IDENTITY_PROVIDER`] for the host itself.
    pub identity_provider: String,
    /// How the user authenticated (`amr`), e.g. `["pwd"]`.
    pub authentication_methods: Vec<String>,
    /// The login session (`sid`), when the user signed in interactively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Further claims captured at authentication; the profile service sees them and decides
    /// whether to issue them ([`crate::DefaultProfileService`] issues the requested ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<TokenClaim>,
}

impl Subject {
    /// Whether the user signed in with `method` (an RFC 8176 `amr` value such as `mfa`).
    pub fn has_authentication_method(&self, method: &str) -> bool {
        self.authentication_methods.iter().any(|known| known == method)
    }

    /// A user authenticated locally by `authentication_method` (e.g. `pwd`) at
    /// `authentication_time`.
    pub fn new(
        subject_id: impl Into<String>,
        authentication_method: impl Into<String>,
        authentication_time: DateTime<Utc>,
    ) -> Self {
        Self {
            subject_id: subject_id.into(),
            authentication_time,
            identity_provider: LOCAL_IDENTITY_PROVIDER.to_owned(),
            authentication_methods: vec![authentication_method.into()],
            session_id: None,
            claims: Vec::new(),
        }
    }

    /// Sets the identity provider (`idp`).
    #[must_use]
    pub fn with_identity_provider(mut self, identity_provider: impl Into<String>) -> Self {
        self.identity_provider = identity_provider.into();
        self
    }

    /// Adds claims captured at authentication.
    #[must_use]
    pub fn with_claims(mut self, claims: impl IntoIterator<Item = TokenClaim>) -> Self {
        self.claims.extend(claims);
        self
    }

    /// Writes the subject's protocol claims (`sub`, `auth_time`, `idp`, `amr`, `sid`) into a token
    /// payload.
    pub(crate) fn write_protocol_claims(&self, payload: &mut Map<String, Value>) {
        payload.insert(claim_types::SUBJECT.into(), self.subject_id.clone().into());
        payload.insert(claim_types::AUTHENTICATION_TIME.into(), self.authentication_time.timestamp().into());
        payload.insert(claim_types::IDENTITY_PROVIDER.into(), self.identity_provider.clone().into());
        payload.insert(claim_types::AUTHENTICATION_METHOD.into(), self.authentication_methods.clone().into());
        if let Some(session_id) = &self.session_id {
            payload.insert(claim_types::SESSION_ID.into(), session_id.clone().into());
        }
    }

    /// Rebuilds the subject from a validated token payload; `None` when the payload is not a user
    /// token (no `sub` or no `auth_time`, as in client-credentials tokens).
    pub(crate) fn from_token_payload(payload: &Map<String, Value>) -> Option<Self> {
        let subject_id = payload.get(claim_types::SUBJECT)?.as_str()?.to_owned();
        let authentication_time = payload
            .get(claim_types::AUTHENTICATION_TIME)?
            .as_i64()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))?;
        let identity_provider = payload
            .get(claim_types::IDENTITY_PROVIDER)
            .and_then(Value::as_str)
            .unwrap_or(LOCAL_IDENTITY_PROVIDER)
            .to_owned();
        let authentication_methods = payload
            .get(claim_types::AUTHENTICATION_METHOD)
            .and_then(Value::as_array)
            .map(|methods| methods.iter().filter_map(|method| method.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let session_id = payload.get(claim_types::SESSION_ID).and_then(Value::as_str).map(str::to_owned);
        let claims = payload
            .iter()
            .filter(|(claim_type, _)| !is_protocol_claim_type(claim_type))
            .flat_map(|(claim_type, value)| match value {
                Value::Array(values) => {
                    values.iter().map(|value| TokenClaim::new(claim_type.clone(), value.clone())).collect::<Vec<_>>()
                }
                value => vec![TokenClaim::new(claim_type.clone(), value.clone())],
            })
            .collect();
        Some(Self { subject_id, authentication_time, identity_provider, authentication_methods, session_id, claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_claim_types_become_arrays() {
        let mut object = Map::new();
        let claims = [
            TokenClaim::new("role", "admin"),
            TokenClaim::new("name", "Alice"),
            TokenClaim::new("role", "user"),
            TokenClaim::new("role", "auditor"),
        ];
        add_claims_to_json(&mut object, &claims);
        assert_eq!(object["name"], "Alice");
        assert_eq!(object["role"], serde_json::json!(["admin", "user", "auditor"]));
    }

    #[test]
    fn subject_survives_a_token_payload_round_trip() {
        let time = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let mut subject = Subject::new("42", "pwd", time).with_claims([TokenClaim::new("tenant", "a")]);
        subject.session_id = Some("s1".into());
        let mut payload = Map::new();
        subject.write_protocol_claims(&mut payload);
        add_claims_to_json(&mut payload, &subject.claims);
        payload.insert("client_id".into(), "c".into());
        assert_eq!(Subject::from_token_payload(&payload), Some(subject));
    }

    #[test]
    fn client_tokens_have_no_subject() {
        let mut payload = Map::new();
        payload.insert("sub".into(), "m2m".into());
        assert_eq!(Subject::from_token_payload(&payload), None);
    }
}

//! Authorization codes: random one-time handles whose grant is kept, hashed, in the persisted
//! grant store.
//!
//! A code grant starts a grant family; the refresh tokens issued for the code join it, so a
//! replayed code revokes them (RFC 6749 §4.1.2). A redeemed code stays in the store, marked
//! consumed, so that a replay is recognised.

use serde::{Deserialize, Serialize};

use super::{expiry, random_handle, random_identifier};
use crate::claims::Subject;
use crate::error::Result;
use crate::model::client::Client;
use crate::state::ServerState;
use crate::stores::grants::{ConsumeOutcome, PersistedGrant, PersistedGrantType, grant_key};

/// What an authorization code stands for; stored as the grant's `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AuthorizationCodePayload {
    /// The signed-in user, with the session id (`sid`) and the session's `auth_time`.
    pub(crate) subject: Subject,
    /// The redirect URI of the authorization request; the token request must repeat it.
    pub(crate) redirect_uri: String,
    /// The granted scopes (after consent).
    pub(crate) scopes: Vec<String>,
    /// The `nonce` of the authorization request, for the id token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    /// The S256 PKCE challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code_challenge: Option<String>,
}

impl AuthorizationCodePayload {
    pub(crate) fn from_grant(grant: &PersistedGrant) -> Result<Self> {
        Ok(serde_json::from_str(&grant.data)?)
    }
}

/// Stores a new authorization code for `client` and returns it.
pub(crate) async fn issue_authorization_code(
    state: &ServerState,
    client: &Client,
    payload: &AuthorizationCodePayload,
) -> Result<String> {
    let code = random_handle();
    let now = state.clock.now();
    let grant = PersistedGrant {
        key: grant_key(&code, PersistedGrantType::AuthorizationCode),
        grant_type: PersistedGrantType::AuthorizationCode,
        subject_id: Some(payload.subject.subject_id.clone()),
        session_id: payload.subject.session_id.clone(),
        client_id: client.client_id.clone(),
        family_id: random_identifier(),
        creation_time: now,
        expiration: Some(expiry(now, client.authorization_code_lifetime)?),
        consumed_time: None,
        data: serde_json::to_string(payload)?,
    };
    state.grants.store(grant).await?;
    Ok(code)
}

/// Atomically marks the code's grant consumed; of two concurrent redemptions exactly one gets
/// [`ConsumeOutcome::Consumed`].
pub(crate) async fn consume_authorization_code(state: &ServerState, code: &str) -> Result<ConsumeOutcome> {
    let key = grant_key(code, PersistedGrantType::AuthorizationCode);
    state.grants.consume(&key, state.clock.now()).await
}

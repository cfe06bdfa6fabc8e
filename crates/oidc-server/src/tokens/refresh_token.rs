//! Opaque refresh tokens: random handles whose grant is kept, hashed, in the persisted grant
//! store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{expiry, random_handle, random_identifier};
use crate::claims::Subject;
use crate::error::Result;
use crate::model::client::Client;
use crate::state::ServerState;
use crate::stores::grants::{PersistedGrant, PersistedGrantType, grant_key};

/// What a refresh token grants; stored as the grant's `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RefreshTokenPayload {
    /// The user, as authenticated when the grant was first issued.
    pub(crate) subject: Subject,
    /// The scopes of the original grant; a refresh may narrow the access token's scopes but
    /// never widens these.
    pub(crate) scopes: Vec<String>,
}

impl RefreshTokenPayload {
    pub(crate) fn from_grant(grant: &PersistedGrant) -> Result<Self> {
        Ok(serde_json::from_str(&grant.data)?)
    }
}

/// The grant family a refresh token belongs to: its id and its absolute expiry.
#[derive(Debug, Clone)]
pub(crate) struct GrantFamily {
    family_id: String,
    expiration: Option<DateTime<Utc>>,
}

impl GrantFamily {
    /// A new family, expiring after the client's absolute refresh-token lifetime.
    pub(crate) fn start(client: &Client, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self { family_id: random_identifier(), expiration: Some(expiry(now, client.refresh_token_lifetime)?) })
    }

    /// The family of the tokens issued for an authorization code: the code grant's family, so that
    /// a replayed code revokes them, expiring after the client's absolute refresh-token lifetime.
    pub(crate) fn of_authorization_code(code: &PersistedGrant, client: &Client, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self { family_id: code.family_id.clone(), expiration: Some(expiry(now, client.refresh_token_lifetime)?) })
    }

    /// The family of `grant`; rotation never extends its expiry.
    pub(crate) fn continuing(grant: &PersistedGrant) -> Self {
        Self { family_id: grant.family_id.clone(), expiration: grant.expiration }
    }
}

/// Stores a new refresh-token grant in `family` and returns its handle.
pub(crate) async fn issue_refresh_token(
    state: &ServerState,
    client: &Client,
    payload: &RefreshTokenPayload,
    family: GrantFamily,
) -> Result<String> {
    let (handle, grant) = new_refresh_token(state, client, payload, family)?;
    state.grants.store(grant).await?;
    Ok(handle)
}

/// A new refresh token in `family`, not yet stored: its handle and its grant.
pub(crate) fn new_refresh_token(
    state: &ServerState,
    client: &Client,
    payload: &RefreshTokenPayload,
    family: GrantFamily,
) -> Result<(String, PersistedGrant)> {
    let handle = random_handle();
    let grant = PersistedGrant {
        key: grant_key(&handle, PersistedGrantType::RefreshToken),
        grant_type: PersistedGrantType::RefreshToken,
        subject_id: Some(payload.subject.subject_id.clone()),
        session_id: payload.subject.session_id.clone(),
        client_id: client.client_id.clone(),
        family_id: family.family_id,
        creation_time: state.clock.now(),
        expiration: family.expiration,
        consumed_time: None,
        data: serde_json::to_string(payload)?,
    };
    Ok((handle, grant))
}

/// The refresh-token grant stored for `handle`, if any.
pub(crate) async fn find_refresh_token(state: &ServerState, handle: &str) -> Result<Option<PersistedGrant>> {
    let grant = state.grants.get(&grant_key(handle, PersistedGrantType::RefreshToken)).await?;
    Ok(grant.filter(|grant| grant.grant_type == PersistedGrantType::RefreshToken))
}

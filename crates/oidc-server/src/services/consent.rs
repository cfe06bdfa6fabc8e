//! Consent, kept as [`PersistedGrantType::UserConsent`] grants.
//!
//! Two records per user and client:
//!
//! * the *remembered* consent, stored when the user ticks "remember" (and the client allows it),
//!   which covers later requests for the same or fewer scopes;
//! * the *consent response*, the consent page's latest answer, which lets the next authorize
//!   request through once, with the scopes the user kept, and is consumed by it. It lasts a few
//!   minutes, long enough to get from the consent page back to the authorize endpoint.
//!
//! As in IdentityServer, granting consent without "remember" forgets a remembered consent.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::client::Client;
use crate::model::resources::OPENID_SCOPE;
use crate::state::ServerState;
use crate::stores::grants::{ConsumeOutcome, PersistedGrant, PersistedGrantType, grant_key};
use crate::tokens::{expiry, random_identifier};

/// How long the consent page's answer waits for the authorize request it was given for.
const CONSENT_RESPONSE_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// The scopes a user consented to; stored as the grant's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ConsentRecord {
    scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Remembered,
    Response,
}

fn consent_key(kind: Kind, subject_id: &str, client_id: &str) -> String {
    let kind = match kind {
        Kind::Remembered => "remembered",
        Kind::Response => "response",
    };
    grant_key(&format!("{kind}\u{0}{client_id}\u{0}{subject_id}"), PersistedGrantType::UserConsent)
}

async fn store_record(
    state: &ServerState,
    kind: Kind,
    subject_id: &str,
    client: &Client,
    scopes: &[String],
    lifetime: Option<TimeDelta>,
) -> Result<()> {
    let now = state.clock.now();
    let grant = PersistedGrant {
        key: consent_key(kind, subject_id, &client.client_id),
        grant_type: PersistedGrantType::UserConsent,
        subject_id: Some(subject_id.to_owned()),
        session_id: None,
        client_id: client.client_id.clone(),
        family_id: random_identifier(),
        creation_time: now,
        expiration: lifetime.map(|lifetime| expiry(now, lifetime)).transpose()?,
        consumed_time: None,
        data: serde_json::to_string(&ConsentRecord { scopes: scopes.to_vec() })?,
    };
    state.grants.store(grant).await
}

/// Records the consent page's answer for the next authorize request, and remembers it when
/// `remember` is set and the client allows it (otherwise a remembered consent is forgotten).
pub(crate) async fn grant_consent(
    state: &ServerState,
    subject_id: &str,
    client: &Client,
    scopes: &[String],
    remember: bool,
) -> Result<()> {
    store_record(state, Kind::Response, subject_id, client, scopes, Some(CONSENT_RESPONSE_LIFETIME)).await?;
    if remember && client.allow_remember_consent {
        store_record(state, Kind::Remembered, subject_id, client, scopes, client.consent_lifetime).await
    } else {
        state.grants.remove(&consent_key(Kind::Remembered, subject_id, &client.client_id)).await
    }
}

/// The scopes of `grant` when it is a remembered consent (not a consent page's one-time answer).
pub(crate) fn remembered_scopes(grant: &PersistedGrant) -> Result<Option<Vec<String>>> {
    let (Some(subject_id), PersistedGrantType::UserConsent) = (&grant.subject_id, grant.grant_type) else {
        return Ok(None);
    };
    if grant.key != consent_key(Kind::Remembered, subject_id, &grant.client_id) {
        return Ok(None);
    }
    let record: ConsentRecord = serde_json::from_str(&grant.data)?;
    Ok(Some(record.scopes))
}

/// What the authorize endpoint does about consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConsentDecision {
    /// Go on with these scopes (the requested ones, or those of them the user kept).
    Granted(Vec<String>),
    /// Ask the user.
    Required,
    /// The user kept none of the scopes, or dropped `openid` from an OpenID Connect request.
    Denied,
}

/// Decides consent for `requested` scopes. A pending consent response is consumed first: it is
/// the user's answer for exactly this request. Without one, a remembered consent that covers
/// every requested scope is enough, unless `prompt_consent` asks again.
pub(crate) async fn check_consent(
    state: &ServerState,
    subject_id: &str,
    client: &Client,
    requested: &[String],
    prompt_consent: bool,
) -> Result<ConsentDecision> {
    let response_key = consent_key(Kind::Response, subject_id, &client.client_id);
    if let ConsumeOutcome::Consumed(response) = state.grants.consume(&response_key, state.clock.now()).await? {
        state.grants.remove(&response_key).await?;
        if !response.is_expired(state.clock.now()) {
            let record: ConsentRecord = serde_json::from_str(&response.data)?;
            let granted: Vec<String> =
                requested.iter().filter(|scope| record.scopes.contains(scope)).cloned().collect();
            let is_openid = |scopes: &[String]| scopes.iter().any(|scope| scope == OPENID_SCOPE);
            if granted.is_empty() || (is_openid(requested) && !is_openid(&granted)) {
                return Ok(ConsentDecision::Denied);
            }
            return Ok(ConsentDecision::Granted(granted));
        }
    }
    if prompt_consent {
        return Ok(ConsentDecision::Required);
    }
    let remembered = state.grants.get(&consent_key(Kind::Remembered, subject_id, &client.client_id)).await?;
    if let Some(grant) = remembered.filter(|grant| !grant.is_expired(state.clock.now())) {
        let record: ConsentRecord = serde_json::from_str(&grant.data)?;
        if requested.iter().all(|scope| record.scopes.contains(scope)) {
            return Ok(ConsentDecision::Granted(requested.to_vec()));
        }
    }
    Ok(ConsentDecision::Required)
}

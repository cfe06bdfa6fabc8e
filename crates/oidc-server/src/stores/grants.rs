//! Persisted grants: server-side records behind opaque handles (refresh tokens, authorization
//! codes) and the user's consents.
//!
//! A store never sees a handle. Its key is [`grant_key`]: SHA-256 over the handle and the grant
//! type, so a leaked store reveals no usable token and a handle of one type cannot be redeemed as
//! another.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What kind of grant a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PersistedGrantType {
    /// A refresh token.
    RefreshToken,
    /// An authorization code: one-time, short-lived, kept after use to detect replays.
    AuthorizationCode,
    /// A user's consent to a client's scopes: remembered, or a one-time answer of the consent
    /// page for the next authorize request.
    UserConsent,
}

impl PersistedGrantType {
    /// A stable name for storage columns, e.g. `refresh_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefreshToken => "refresh_token",
            Self::AuthorizationCode => "authorization_code",
            Self::UserConsent => "user_consent",
        }
    }
}

/// The storage key of a handle: base64url(SHA-256(`handle` ":" `grant type`)).
pub(crate) fn grant_key(handle: &str, grant_type: PersistedGrantType) -> String {
    let mut hasher = Sha256::new();
    hasher.update(handle.as_bytes());
    hasher.update(b":");
    hasher.update(grant_type.as_str().as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedGrant {
    /// The hashed handle (see the module documentation); the primary key.
    pub key: String,
    /// The kind of grant.
    pub grant_type: PersistedGrantType,
    /// The user, when the grant has one.
    pub subject_id: Option<String>,
    /// The user's login session, when known.
    pub session_id: Option<String>,
    /// The client the grant was issued to.
    pub client_id: String,
    /// Identifies every grant descended from one original grant (all rotations of a refresh
    /// token), so that they can be revoked together.
    pub family_id: String,
    /// When this record was created.
    pub creation_time: DateTime<Utc>,
    /// When the grant stops being valid.
    pub expiration: Option<DateTime<Utc>>,
    /// When a one-time grant was used; a consumed record is kept to detect replays.
    pub consumed_time: Option<DateTime<Utc>>,
    /// The grant's payload, serialised JSON owned by the server.
    pub data: String,
}

impl PersistedGrant {
    /// Whether the grant has expired at `now` (a grant without an expiration never does).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expiration.is_some_and(|expiration| expiration <= now)
    }
}

/// Which grants an operation applies to; unset fields match everything, but at least one must be
/// set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrantFilter {
    /// Only grants of this user.
    pub subject_id: Option<String>,
    /// Only grants of this client.
    pub client_id: Option<String>,
    /// Only grants of this login session.
    pub session_id: Option<String>,
    /// Only grants of this family.
    pub family_id: Option<String>,
    /// Only grants of this type.
    pub grant_type: Option<PersistedGrantType>,
}

impl GrantFilter {
    /// Every grant of one family.
    pub fn family(family_id: impl Into<String>) -> Self {
        Self { family_id: Some(family_id.into()), ..Self::default() }
    }

    /// Every grant of a user.
    pub fn subject(subject_id: impl Into<String>) -> Self {
        Self { subject_id: Some(subject_id.into()), ..Self::default() }
    }

    /// Every grant of one type of a user (say, all of their refresh tokens).
    pub fn subject_and_type(subject_id: impl Into<String>, grant_type: PersistedGrantType) -> Self {
        Self { subject_id: Some(subject_id.into()), grant_type: Some(grant_type), ..Self::default() }
    }

    /// Every grant a user gave a client.
    pub fn subject_and_client(subject_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self { subject_id: Some(subject_id.into()), client_id: Some(client_id.into()), ..Self::default() }
    }

    /// Fails for a filter without any criterion, which would match every grant.
    pub fn ensure_not_empty(&self) -> Result<()> {
        if *self == Self::default() {
            return Err(Error::store("a grant filter needs at least one criterion"));
        }
        Ok(())
    }

    /// Whether `grant` matches every set criterion.
    pub fn matches(&self, grant: &PersistedGrant) -> bool {
        fn matches_optional(expected: Option<&String>, actual: Option<&String>) -> bool {
            expected.is_none_or(|expected| actual == Some(expected))
        }
        matches_optional(self.subject_id.as_ref(), grant.subject_id.as_ref())
            && matches_optional(self.client_id.as_ref(), Some(&grant.client_id))
            && matches_optional(self.session_id.as_ref(), grant.session_id.as_ref())
            && matches_optional(self.family_id.as_ref(), Some(&grant.family_id))
            && self.grant_type.is_none_or(|grant_type| grant_type == grant.grant_type)
    }
}

/// The outcome of [`PersistedGrantStore::consume`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// This call consumed the grant; it is returned as it was before.
    Consumed(PersistedGrant),
    /// The grant had been consumed before: a replay.
    AlreadyConsumed(PersistedGrant),
    /// No grant has this key.
    NotFound,
}

/// Stores grants by hashed key.
#[async_trait]
pub trait PersistedGrantStore: Send + Sync {
    /// Inserts or replaces the grant with `grant.key`.
    async fn store(&self, grant: PersistedGrant) -> Result<()>;

    /// The grant with `key`.
    async fn get(&self, key: &str) -> Result<Option<PersistedGrant>>;

    /// Atomically marks the grant with `key` consumed at `consumed_time` unless it already was.
    /// Of two concurrent calls exactly one sees [`ConsumeOutcome::Consumed`].
    async fn consume(&self, key: &str, consumed_time: DateTime<Utc>) -> Result<ConsumeOutcome>;

    /// [`consume`](Self::consume), and when this call consumed the grant, stores `successor` in
    /// the same transaction: a rotation (a refresh token consumed, its successor stored) happens
    /// whole or not at all, so no crash between the two leaves the family without a live grant.
    /// When the outcome is not [`ConsumeOutcome::Consumed`], `successor` is not stored.
    async fn consume_and_store(
        &self,
        key: &str,
        consumed_time: DateTime<Utc>,
        successor: PersistedGrant,
    ) -> Result<ConsumeOutcome>;

    /// Removes the grant with `key`, if any.
    async fn remove(&self, key: &str) -> Result<()>;

    /// Every grant matching `filter` (which must not be empty), expired and consumed ones
    /// included, in no particular order.
    async fn get_all(&self, filter: &GrantFilter) -> Result<Vec<PersistedGrant>>;

    /// Removes every grant matching `filter` (which must not be empty); returns how many.
    async fn remove_all(&self, filter: &GrantFilter) -> Result<u64>;
}

/// Grants held in memory; for tests and single-instance development servers.
#[derive(Debug, Default)]
pub struct InMemoryPersistedGrantStore {
    grants: Mutex<HashMap<String, PersistedGrant>>,
}

impl InMemoryPersistedGrantStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn grants(&self) -> MutexGuard<'_, HashMap<String, PersistedGrant>> {
        // Every operation leaves the map consistent, so a panic elsewhere cannot corrupt it.
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl PersistedGrantStore for InMemoryPersistedGrantStore {
    async fn store(&self, grant: PersistedGrant) -> Result<()> {
        self.grants().insert(grant.key.clone(), grant);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<PersistedGrant>> {
        Ok(self.grants().get(key).cloned())
    }

    async fn consume(&self, key: &str, consumed_time: DateTime<Utc>) -> Result<ConsumeOutcome> {
        Ok(consume_in(&mut self.grants(), key, consumed_time))
    }

    async fn consume_and_store(
        &self,
        key: &str,
        consumed_time: DateTime<Utc>,
        successor: PersistedGrant,
    ) -> Result<ConsumeOutcome> {
        // One lock for both: no other call sees the grant consumed without its successor.
        let mut grants = self.grants();
        let outcome = consume_in(&mut grants, key, consumed_time);
        if matches!(outcome, ConsumeOutcome::Consumed(_)) {
            grants.insert(successor.key.clone(), successor);
        }
        Ok(outcome)
    }

    async fn remove(&self, key: &str) -> Result<()> {
        self.grants().remove(key);
        Ok(())
    }

    async fn get_all(&self, filter: &GrantFilter) -> Result<Vec<PersistedGrant>> {
        filter.ensure_not_empty()?;
        Ok(self.grants().values().filter(|grant| filter.matches(grant)).cloned().collect())
    }

    async fn remove_all(&self, filter: &GrantFilter) -> Result<u64> {
        filter.ensure_not_empty()?;
        let mut grants = self.grants();
        let before = grants.len();
        grants.retain(|_, grant| !filter.matches(grant));
        Ok(u64::try_from(before - grants.len()).unwrap_or(u64::MAX))
    }
}

/// Consumes the grant with `key` in `grants`, which the caller holds locked.
fn consume_in(grants: &mut HashMap<String, PersistedGrant>, key: &str, consumed_time: DateTime<Utc>) -> ConsumeOutcome {
    let Some(grant) = grants.get_mut(key) else {
        return ConsumeOutcome::NotFound;
    };
    if grant.consumed_time.is_some() {
        return ConsumeOutcome::AlreadyConsumed(grant.clone());
    }
    let before = grant.clone();
    grant.consumed_time = Some(consumed_time);
    ConsumeOutcome::Consumed(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_their_serde_names() {
        for grant_type in
            [PersistedGrantType::RefreshToken, PersistedGrantType::AuthorizationCode, PersistedGrantType::UserConsent]
        {
            let json = serde_json::to_string(&grant_type).expect("serialises");
            assert_eq!(json, format!("\"{}\"", grant_type.as_str()));
        }
    }

    #[test]
    fn keys_hash_the_handle_and_the_type() {
        let key = grant_key("handle", PersistedGrantType::RefreshToken);
        assert_ne!(key, "handle");
        assert!(!key.contains("handle"));
        assert_eq!(key.len(), 43);
        assert_eq!(key, grant_key("handle", PersistedGrantType::RefreshToken));
        assert_ne!(key, grant_key("handle2", PersistedGrantType::RefreshToken));
        assert_ne!(key, grant_key("handle", PersistedGrantType::AuthorizationCode));
    }
}

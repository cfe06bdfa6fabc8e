//! Server-side sign-in sessions: the session cookie carries only a sealed reference to a row of
//! this store, and every request that reads the session checks the row, so deleting it is how a
//! user (or an administrator) ends a session everywhere, on every instance sharing the store.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::claims::Subject;
use crate::error::Result;

/// A sign-in session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredSession {
    /// The session id (`sid`): random, new at every sign-in, and the key of the row.
    pub session_id: String,
    /// The user: `sub`, `auth_time`, `idp`, `amr` and the claims the host captured at sign-in.
    pub subject: Subject,
    /// When the user signed in.
    pub created: DateTime<Utc>,
    /// When the session was last used and extended.
    pub renewed: DateTime<Utc>,
    /// When the session ends unless it is extended (never beyond the absolute lifetime).
    pub expires: DateTime<Utc>,
    /// Whether the user chose "remember me" (a persistent cookie).
    pub persistent: bool,
    /// The clients the session has issued tokens to, in the order they first did.
    pub client_ids: Vec<String>,
}

impl StoredSession {
    /// A session of `subject` signed in at `created`, ending at `expires`, used by no client yet.
    pub fn new(
        session_id: impl Into<String>,
        subject: Subject,
        created: DateTime<Utc>,
        expires: DateTime<Utc>,
        persistent: bool,
    ) -> Self {
        Self {
            session_id: session_id.into(),
            subject,
            created,
            renewed: created,
            expires,
            persistent,
            client_ids: Vec::new(),
        }
    }

    /// The user's id (`sub`).
    pub fn subject_id(&self) -> &str {
        &self.subject.subject_id
    }
}

/// Which sessions to list or remove; an empty filter matches every session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionFilter {
    /// Only the sessions of this user.
    pub subject_id: Option<String>,
    /// Only the sessions that issued tokens to this client.
    pub client_id: Option<String>,
}

impl SessionFilter {
    /// The sessions of `subject_id`.
    pub fn subject(subject_id: impl Into<String>) -> Self {
        Self { subject_id: Some(subject_id.into()), client_id: None }
    }

    /// Every session.
    pub fn all() -> Self {
        Self::default()
    }

    /// Whether `session` matches.
    pub fn matches(&self, session: &StoredSession) -> bool {
        self.subject_id.as_deref().is_none_or(|subject_id| session.subject_id() == subject_id)
            && self.client_id.as_deref().is_none_or(|client_id| session.client_ids.iter().any(|c| c == client_id))
    }
}

/// Persists sign-in sessions shared by all server instances.
#[async_trait]
pub trait ServerSideSessionStore: Send + Sync {
    /// Stores a new session (its id is new and random).
    async fn create(&self, session: StoredSession) -> Result<()>;

    /// The session with `session_id`, if it exists (expired or not: the caller decides).
    async fn get(&self, session_id: &str) -> Result<Option<StoredSession>>;

    /// Records that the session was used at `renewed` and now ends at `expires`; `false` when
    /// the session no longer exists.
    async fn renew(&self, session_id: &str, renewed: DateTime<Utc>, expires: DateTime<Utc>) -> Result<bool>;

    /// Records that the session issued tokens to `client_id` (once per client); `false` when
    /// the session no longer exists.
    async fn add_client(&self, session_id: &str, client_id: &str) -> Result<bool>;

    /// Deletes the session with `session_id`; returns it when it existed.
    async fn delete(&self, session_id: &str) -> Result<Option<StoredSession>>;

    /// Deletes every session matching `filter`; returns them.
    async fn delete_all(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>>;

    /// The sessions matching `filter`, oldest sign-in first.
    async fn list(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>>;

    /// Deletes the sessions that ended at or before `now`; returns them. Safe to run on several
    /// instances at once: each session is returned by one of them.
    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Vec<StoredSession>>;
}

/// Sessions held in memory: lost on restart and not shared between instances. For tests and
/// single-instance development servers.
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<String, StoredSession>>,
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, StoredSession>> {
        // Every operation leaves the map consistent, so a panic elsewhere cannot corrupt it.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remove_where(&self, keep: impl Fn(&StoredSession) -> bool) -> Vec<StoredSession> {
        let mut sessions = self.sessions();
        let removed: BTreeSet<String> =
            sessions.values().filter(|session| !keep(session)).map(|session| session.session_id.clone()).collect();
        let mut removed: Vec<StoredSession> = removed.iter().filter_map(|id| sessions.remove(id)).collect();
        removed.sort_by_key(|session| session.created);
        removed
    }
}

#[async_trait]
impl ServerSideSessionStore for InMemorySessionStore {
    async fn create(&self, session: StoredSession) -> Result<()> {
        self.sessions().insert(session.session_id.clone(), session);
        Ok(())
    }

    async fn get(&self, session_id: &str) -> Result<Option<StoredSession>> {
        Ok(self.sessions().get(session_id).cloned())
    }

    async fn renew(&self, session_id: &str, renewed: DateTime<Utc>, expires: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .sessions()
            .get_mut(session_id)
            .map(|session| (session.renewed, session.expires) = (renewed, expires))
            .is_some())
    }

    async fn add_client(&self, session_id: &str, client_id: &str) -> Result<bool> {
        let mut sessions = self.sessions();
        let Some(session) = sessions.get_mut(session_id) else { return Ok(false) };
        if !session.client_ids.iter().any(|known| known == client_id) {
            session.client_ids.push(client_id.to_owned());
        }
        Ok(true)
    }

    async fn delete(&self, session_id: &str) -> Result<Option<StoredSession>> {
        Ok(self.sessions().remove(session_id))
    }

    async fn delete_all(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        Ok(self.remove_where(|session| !filter.matches(session)))
    }

    async fn list(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        let mut sessions: Vec<StoredSession> =
            self.sessions().values().filter(|session| filter.matches(session)).cloned().collect();
        sessions.sort_by_key(|session| session.created);
        Ok(sessions)
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Vec<StoredSession>> {
        Ok(self.remove_where(|session| session.expires > now))
    }
}

//! Server-side sign-in sessions: the session cookie carries only a sealed reference to a row of
//! this store, and every request that reads the session checks the row, so ending it is how a
//! user (or an administrator) ends a session everywhere, on every instance sharing the store.
//!
//! The store is also the outbox of back-channel logout: ending a session that issued tokens to
//! clients keeps it, invisible to everything else, until one server instance has claimed it
//! ([`ServerSideSessionStore::claim_ended`]) and notified its clients, in the same write that ends
//! it, so no notification is lost to a crash and none is sent by two instances.

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

/// A session that ended and whose clients may still need to hear of it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EndedSession {
    /// The session as it ended; `client_ids` are the clients not notified yet.
    pub session: StoredSession,
    /// How many times the session has been claimed for delivery, this claim included.
    pub attempts: u32,
}

impl EndedSession {
    /// `session`, claimed for the `attempts`-th time.
    pub fn new(session: StoredSession, attempts: u32) -> Self {
        Self { session, attempts }
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

    /// Ends the session with `session_id`; returns it when it existed. An ended session is gone
    /// for every other method; one that issued tokens to clients waits for
    /// [`claim_ended`](Self::claim_ended), in the same write.
    async fn delete(&self, session_id: &str) -> Result<Option<StoredSession>>;

    /// Ends every session matching `filter` (as [`delete`](Self::delete)); returns them.
    async fn delete_all(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>>;

    /// The sessions matching `filter`, oldest sign-in first.
    async fn list(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>>;

    /// Ends (as [`delete`](Self::delete)) the sessions that expired at or before `now`; returns
    /// them. Safe to run on several instances at once: each session is returned by one of them.
    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Vec<StoredSession>>;

    /// Claims up to `limit` ended sessions whose clients are still to be notified and that no
    /// instance holds (never claimed, or claimed until `now` or earlier), each until
    /// `claimed_until`, counting the attempt. Of instances claiming at once, each session goes to
    /// one.
    async fn claim_ended(
        &self,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EndedSession>>;

    /// Records the outcome of delivering a claimed session's notifications: with no
    /// `undelivered_client_ids` the session is gone for good; otherwise only those clients are
    /// tried again once the claim lapses.
    async fn finish_ended(&self, session_id: &str, undelivered_client_ids: &[String]) -> Result<()>;
}

/// Sessions held in memory: lost on restart and not shared between instances. For tests and
/// single-instance development servers.
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    state: Mutex<Sessions>,
}

/// The live sessions and the ended ones waiting for delivery.
#[derive(Debug, Default)]
struct Sessions {
    live: HashMap<String, StoredSession>,
    /// Ended sessions with clients: the session, when its claim lapses, and the attempts.
    ended: HashMap<String, (StoredSession, Option<DateTime<Utc>>, u32)>,
}

impl Sessions {
    /// Ends `session_ids` (those live); returns the ended sessions, oldest sign-in first.
    fn end(&mut self, session_ids: impl IntoIterator<Item = String>) -> Vec<StoredSession> {
        let mut ended: Vec<StoredSession> = session_ids.into_iter().filter_map(|id| self.live.remove(&id)).collect();
        for session in &ended {
            if !session.client_ids.is_empty() {
                self.ended.insert(session.session_id.clone(), (session.clone(), None, 0));
            }
        }
        ended.sort_by_key(|session| session.created);
        ended
    }
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, Sessions> {
        // Every operation leaves the maps consistent, so a panic elsewhere cannot corrupt them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn end_where(&self, end: impl Fn(&StoredSession) -> bool) -> Vec<StoredSession> {
        let mut state = self.state();
        let chosen: BTreeSet<String> =
            state.live.values().filter(|session| end(session)).map(|session| session.session_id.clone()).collect();
        state.end(chosen)
    }
}

#[async_trait]
impl ServerSideSessionStore for InMemorySessionStore {
    async fn create(&self, session: StoredSession) -> Result<()> {
        self.state().live.insert(session.session_id.clone(), session);
        Ok(())
    }

    async fn get(&self, session_id: &str) -> Result<Option<StoredSession>> {
        Ok(self.state().live.get(session_id).cloned())
    }

    async fn renew(&self, session_id: &str, renewed: DateTime<Utc>, expires: DateTime<Utc>) -> Result<bool> {
        let mut state = self.state();
        Ok(state
            .live
            .get_mut(session_id)
            .map(|session| (session.renewed, session.expires) = (renewed, expires))
            .is_some())
    }

    async fn add_client(&self, session_id: &str, client_id: &str) -> Result<bool> {
        let mut state = self.state();
        let Some(session) = state.live.get_mut(session_id) else { return Ok(false) };
        if !session.client_ids.iter().any(|known| known == client_id) {
            session.client_ids.push(client_id.to_owned());
        }
        Ok(true)
    }

    async fn delete(&self, session_id: &str) -> Result<Option<StoredSession>> {
        Ok(self.state().end([session_id.to_owned()]).pop())
    }

    async fn delete_all(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        Ok(self.end_where(|session| filter.matches(session)))
    }

    async fn list(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        let mut sessions: Vec<StoredSession> =
            self.state().live.values().filter(|session| filter.matches(session)).cloned().collect();
        sessions.sort_by_key(|session| session.created);
        Ok(sessions)
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<Vec<StoredSession>> {
        Ok(self.end_where(|session| session.expires <= now))
    }

    async fn claim_ended(
        &self,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EndedSession>> {
        let mut state = self.state();
        let mut claimed = Vec::new();
        for (session, claim, attempts) in state.ended.values_mut() {
            if claimed.len() == limit {
                break;
            }
            if claim.is_none_or(|until| until <= now) {
                *claim = Some(claimed_until);
                *attempts += 1;
                claimed.push(EndedSession { session: session.clone(), attempts: *attempts });
            }
        }
        claimed.sort_by_key(|ended| ended.session.created);
        Ok(claimed)
    }

    async fn finish_ended(&self, session_id: &str, undelivered_client_ids: &[String]) -> Result<()> {
        let mut state = self.state();
        if undelivered_client_ids.is_empty() {
            state.ended.remove(session_id);
        } else if let Some((session, _, _)) = state.ended.get_mut(session_id) {
            session.client_ids = undelivered_client_ids.to_vec();
        }
        Ok(())
    }
}

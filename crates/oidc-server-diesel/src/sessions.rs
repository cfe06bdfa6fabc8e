//! [`DieselSessionStore`]: sign-in sessions in `oidc_server_sessions`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::Database;
use oidc_server::{EndedSession, ServerSideSessionStore, SessionFilter, StoredSession, async_trait};

use crate::backend::{StoreConnection as _, on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::oidc_server_sessions as sessions;
use crate::time::StoredTime;

/// A [`ServerSideSessionStore`] on SQLite or PostgreSQL, shared by every server instance on the
/// database: a session ended at one instance (or by an administration command) is ended at all.
///
/// Behaves like [`oidc_server::InMemorySessionStore`], except that times are kept to the
/// microsecond. The subject and the client ids are JSON in the row; recording a client locks the
/// row, so concurrent requests of one session lose no client. Ending a session that issued
/// tokens to clients marks the row `ended` (the back-channel logout outbox) in the same
/// statement; claims are conditional updates, so each ended session goes to one instance.
#[derive(Debug, Clone)]
pub struct DieselSessionStore {
    db: Database,
}

/// Ends the live sessions matching `$condition` (on the connection `$inner`) in one conditional
/// update, so of two writers ending a session one returns it: those with clients stay as the
/// outbox of their logout notifications, the others are deleted. Evaluates to the ended
/// sessions, oldest sign-in first.
macro_rules! end_where {
    ($inner:expr, $condition:expr) => {{
        let inner = $inner;
        let rows: Vec<SessionRow> =
            diesel::update(sessions::table.filter($condition).filter(sessions::ended.eq(false)))
                .set(sessions::ended.eq(true))
                .returning(SessionRow::as_returning())
                .get_results(inner)?;
        let mut ended = Vec::new();
        let mut without_clients = Vec::new();
        for row in rows {
            let session = StoredSession::try_from(row)?;
            if session.client_ids.is_empty() {
                without_clients.push(session.session_id.clone());
            }
            ended.push(session);
        }
        diesel::delete(sessions::table.filter(sessions::session_id.eq_any(&without_clients))).execute(inner)?;
        Ok(sorted(ended))
    }};
}

/// A row of `oidc_server_sessions`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, primary_key(session_id))]
struct SessionRow {
    session_id: String,
    subject_id: String,
    created: StoredTime,
    renewed: StoredTime,
    expires: StoredTime,
    persistent: bool,
    subject: String,
    client_ids: String,
}

impl TryFrom<StoredSession> for SessionRow {
    type Error = OperationalStoreError;

    fn try_from(session: StoredSession) -> Result<Self, OperationalStoreError> {
        Ok(Self {
            subject_id: session.subject_id().to_owned(),
            subject: to_json(&session.subject)?,
            client_ids: to_json(&session.client_ids)?,
            session_id: session.session_id,
            created: session.created.into(),
            renewed: session.renewed.into(),
            expires: session.expires.into(),
            persistent: session.persistent,
        })
    }
}

impl TryFrom<SessionRow> for StoredSession {
    type Error = OperationalStoreError;

    fn try_from(row: SessionRow) -> Result<Self, OperationalStoreError> {
        let subject = from_json(&row.subject)?;
        let mut session =
            StoredSession::new(row.session_id, subject, row.created.into(), row.expires.into(), row.persistent);
        session.renewed = row.renewed.into();
        session.client_ids = from_json(&row.client_ids)?;
        Ok(session)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, OperationalStoreError> {
    serde_json::to_string(value).map_err(|error| OperationalStoreError::InvalidData(error.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, OperationalStoreError> {
    serde_json::from_str(text).map_err(|error| OperationalStoreError::InvalidData(format!("session JSON: {error}")))
}

fn sessions_of(rows: Vec<SessionRow>, filter: &SessionFilter) -> Result<Vec<StoredSession>, OperationalStoreError> {
    let mut found = Vec::new();
    for row in rows {
        let session = StoredSession::try_from(row)?;
        if filter.matches(&session) {
            found.push(session);
        }
    }
    Ok(found)
}

impl DieselSessionStore {
    /// A store on `db`, whose schema [`run_migrations`](crate::run_migrations) has set up.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ServerSideSessionStore for DieselSessionStore {
    async fn create(&self, session: StoredSession) -> oidc_server::Result<()> {
        let row = SessionRow::try_from(session)?;
        run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                diesel::insert_into(sessions::table).values(&row).execute(inner)?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    }

    async fn get(&self, session_id: &str) -> oidc_server::Result<Option<StoredSession>> {
        let session_id = session_id.to_owned();
        let row = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(sessions::table
                .find(&session_id)
                .filter(sessions::ended.eq(false))
                .select(SessionRow::as_select())
                .first(inner)
                .optional()?))
        })
        .await?;
        Ok(row.map(StoredSession::try_from).transpose()?)
    }

    async fn renew(
        &self,
        session_id: &str,
        renewed: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> oidc_server::Result<bool> {
        let session_id = session_id.to_owned();
        let (renewed, expires) = (StoredTime::from(renewed), StoredTime::from(expires));
        let updated = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::update(
                sessions::table.find(&session_id).filter(sessions::ended.eq(false))
            )
            .set((sessions::renewed.eq(renewed), sessions::expires.eq(expires)))
            .execute(inner)?))
        })
        .await?;
        Ok(updated > 0)
    }

    async fn add_client(&self, session_id: &str, client_id: &str) -> oidc_server::Result<bool> {
        let (session_id, client_id) = (session_id.to_owned(), client_id.to_owned());
        let added = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| {
                // Takes the row's write lock first (PostgreSQL; SQLite's immediate transaction
                // already excludes other writers), so no concurrent update is lost.
                let locked = diesel::update(sessions::table.find(&session_id).filter(sessions::ended.eq(false)))
                    .set(sessions::renewed.eq(sessions::renewed))
                    .returning(sessions::client_ids)
                    .get_result::<String>(inner)
                    .optional()?;
                let Some(client_ids) = locked else { return Ok(false) };
                let mut client_ids: Vec<String> = from_json(&client_ids)?;
                if !client_ids.contains(&client_id) {
                    client_ids.push(client_id.clone());
                    diesel::update(sessions::table.find(&session_id))
                        .set(sessions::client_ids.eq(to_json(&client_ids)?))
                        .execute(inner)?;
                }
                Ok(true)
            }))
        })
        .await?;
        Ok(added)
    }

    async fn delete(&self, session_id: &str) -> oidc_server::Result<Option<StoredSession>> {
        let session_id = session_id.to_owned();
        let mut ended = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner
                .write_transaction(|inner| end_where!(inner, sessions::session_id.eq(&session_id))))
        })
        .await?;
        Ok(ended.pop())
    }

    async fn delete_all(&self, filter: &SessionFilter) -> oidc_server::Result<Vec<StoredSession>> {
        let filter = filter.clone();
        let ended = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| {
                let mut query =
                    sessions::table.select(SessionRow::as_select()).filter(sessions::ended.eq(false)).into_boxed();
                if let Some(subject_id) = &filter.subject_id {
                    query = query.filter(sessions::subject_id.eq(subject_id));
                }
                let ids: Vec<String> =
                    sessions_of(query.load(inner)?, &filter)?.into_iter().map(|session| session.session_id).collect();
                end_where!(inner, sessions::session_id.eq_any(&ids))
            }))
        })
        .await?;
        Ok(ended)
    }

    async fn list(&self, filter: &SessionFilter) -> oidc_server::Result<Vec<StoredSession>> {
        let filter = filter.clone();
        let found = run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                let mut query =
                    sessions::table.select(SessionRow::as_select()).filter(sessions::ended.eq(false)).into_boxed();
                if let Some(subject_id) = &filter.subject_id {
                    query = query.filter(sessions::subject_id.eq(subject_id));
                }
                sessions_of(query.load(inner)?, &filter)
            })
        })
        .await?;
        Ok(sorted(found))
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> oidc_server::Result<Vec<StoredSession>> {
        let now = StoredTime::from(now);
        Ok(run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner
                .write_transaction(|inner| end_where!(inner, sessions::expires.le(now))))
        })
        .await?)
    }

    async fn claim_ended(
        &self,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
        limit: usize,
    ) -> oidc_server::Result<Vec<EndedSession>> {
        let (now, until) = (StoredTime::from(now), StoredTime::from(claimed_until));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| {
                let claimable =
                    sessions::ended.eq(true).and(sessions::claimed_until.is_null().or(sessions::claimed_until.le(now)));
                let ids: Vec<String> =
                    sessions::table.select(sessions::session_id).filter(claimable).limit(limit).load(inner)?;
                // The condition again: of claimers racing for a row, one updates it (PostgreSQL
                // re-checks it after the row lock; SQLite's immediate transaction is alone).
                Ok(diesel::update(sessions::table.filter(sessions::session_id.eq_any(ids)).filter(claimable))
                    .set((sessions::claimed_until.eq(until), sessions::attempts.eq(sessions::attempts + 1)))
                    .returning((SessionRow::as_returning(), sessions::attempts))
                    .get_results::<(SessionRow, i32)>(inner)?)
            }))
        })
        .await?;
        let mut claimed = Vec::new();
        for (row, attempts) in rows {
            let session = StoredSession::try_from(row)?;
            claimed.push(EndedSession::new(session, u32::try_from(attempts).unwrap_or_default()));
        }
        claimed.sort_by_key(|ended| ended.session.created);
        Ok(claimed)
    }

    async fn finish_ended(&self, session_id: &str, undelivered_client_ids: &[String]) -> oidc_server::Result<()> {
        let session_id = session_id.to_owned();
        let undelivered = (!undelivered_client_ids.is_empty()).then(|| to_json(&undelivered_client_ids)).transpose()?;
        run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                let row = sessions::table.find(&session_id).filter(sessions::ended.eq(true));
                match &undelivered {
                    None => diesel::delete(row).execute(inner)?,
                    Some(client_ids) => diesel::update(row).set(sessions::client_ids.eq(client_ids)).execute(inner)?,
                };
                Ok(())
            })
        })
        .await?;
        Ok(())
    }
}

/// Oldest sign-in first, as the trait promises.
fn sorted(mut sessions: Vec<StoredSession>) -> Vec<StoredSession> {
    sessions.sort_by_key(|session| session.created);
    sessions
}

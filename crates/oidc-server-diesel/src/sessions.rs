//! [`DieselSessionStore`]: sign-in sessions in `oidc_server_sessions`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::Database;
use oidc_server::{ServerSideSessionStore, SessionFilter, StoredSession, async_trait};

use crate::backend::{StoreConnection as _, on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::oidc_server_sessions as sessions;
use crate::time::StoredTime;

/// A [`ServerSideSessionStore`] on SQLite or PostgreSQL, shared by every server instance on the
/// database: a session ended at one instance (or by an administration command) is ended at all.
///
/// Behaves like [`oidc_server::InMemorySessionStore`], except that times are kept to the
/// microsecond. The subject and the client ids are JSON in the row; recording a client locks the
/// row, so concurrent requests of one session lose no client.
#[derive(Debug, Clone)]
pub struct DieselSessionStore {
    db: Database,
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
            on_backend!(connection, |inner| Ok(diesel::update(sessions::table.find(&session_id))
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
                let locked = diesel::update(sessions::table.find(&session_id))
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
        let row = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::delete(sessions::table.find(&session_id))
                .returning(SessionRow::as_returning())
                .get_result(inner)
                .optional()?))
        })
        .await?;
        Ok(row.map(StoredSession::try_from).transpose()?)
    }

    async fn delete_all(&self, filter: &SessionFilter) -> oidc_server::Result<Vec<StoredSession>> {
        let filter = filter.clone();
        let deleted = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| {
                let mut query = sessions::table.select(SessionRow::as_select()).into_boxed();
                if let Some(subject_id) = &filter.subject_id {
                    query = query.filter(sessions::subject_id.eq(subject_id));
                }
                let matching = sessions_of(query.load(inner)?, &filter)?;
                let ids: Vec<&str> = matching.iter().map(|session| session.session_id.as_str()).collect();
                diesel::delete(sessions::table.filter(sessions::session_id.eq_any(&ids))).execute(inner)?;
                Ok(matching)
            }))
        })
        .await?;
        Ok(sorted(deleted))
    }

    async fn list(&self, filter: &SessionFilter) -> oidc_server::Result<Vec<StoredSession>> {
        let filter = filter.clone();
        let found = run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                let mut query = sessions::table.select(SessionRow::as_select()).into_boxed();
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
        let rows = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::delete(sessions::table.filter(sessions::expires.le(now)))
                .returning(SessionRow::as_returning())
                .get_results(inner)?))
        })
        .await?;
        let expired: Result<Vec<StoredSession>, OperationalStoreError> =
            rows.into_iter().map(StoredSession::try_from).collect();
        Ok(sorted(expired?))
    }
}

/// Oldest sign-in first, as the trait promises.
fn sorted(mut sessions: Vec<StoredSession>) -> Vec<StoredSession> {
    sessions.sort_by_key(|session| session.created);
    sessions
}

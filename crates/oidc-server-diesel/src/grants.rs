//! [`DieselPersistedGrantStore`]: refresh tokens in `oidc_persisted_grants`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::Database;
use oidc_server::{ConsumeOutcome, GrantFilter, PersistedGrant, PersistedGrantStore, async_trait};

use crate::backend::{StoreConnection as _, on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::{oidc_persisted_grants as grants, parse_name};
use crate::time::StoredTime;

/// A [`PersistedGrantStore`] on SQLite or PostgreSQL, for grants that survive restarts and are
/// shared by every server instance on the database.
///
/// Grants are keyed by [`PersistedGrant::key`] (the hash of the handle, never the handle) and
/// behave exactly like [`oidc_server::InMemoryPersistedGrantStore`]'s, except that times are
/// kept to the microsecond. [`consume`](PersistedGrantStore::consume) is atomic across
/// processes: of many concurrent consumers of one grant exactly one wins.
///
/// Expired grants stay until [`remove_expired`](Self::remove_expired) deletes them; call it
/// from a periodic task.
#[derive(Debug, Clone)]
pub struct DieselPersistedGrantStore {
    db: Database,
}

/// A row of `oidc_persisted_grants`.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = grants, primary_key(key), treat_none_as_null = true)]
struct GrantRow {
    key: String,
    grant_type: String,
    subject_id: Option<String>,
    session_id: Option<String>,
    client_id: String,
    family_id: String,
    creation_time: StoredTime,
    expiration: Option<StoredTime>,
    consumed_time: Option<StoredTime>,
    data: String,
}

impl From<PersistedGrant> for GrantRow {
    fn from(grant: PersistedGrant) -> Self {
        Self {
            key: grant.key,
            grant_type: grant.grant_type.as_str().to_owned(),
            subject_id: grant.subject_id,
            session_id: grant.session_id,
            client_id: grant.client_id,
            family_id: grant.family_id,
            creation_time: grant.creation_time.into(),
            expiration: grant.expiration.map(StoredTime::from),
            consumed_time: grant.consumed_time.map(StoredTime::from),
            data: grant.data,
        }
    }
}

impl TryFrom<GrantRow> for PersistedGrant {
    type Error = OperationalStoreError;

    fn try_from(row: GrantRow) -> Result<Self, OperationalStoreError> {
        Ok(PersistedGrant {
            grant_type: parse_name("grant type", &row.grant_type)?,
            key: row.key,
            subject_id: row.subject_id,
            session_id: row.session_id,
            client_id: row.client_id,
            family_id: row.family_id,
            creation_time: row.creation_time.into(),
            expiration: row.expiration.map(DateTime::from),
            consumed_time: row.consumed_time.map(DateTime::from),
            data: row.data,
        })
    }
}

/// [`ConsumeOutcome`] with rows.
enum Consumption {
    /// The row as it was before this consumption.
    Consumed(GrantRow),
    AlreadyConsumed(GrantRow),
    NotFound,
}

impl DieselPersistedGrantStore {
    /// A store on `db`, whose schema [`run_migrations`](crate::run_migrations) has set up.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Consumes the grant with `key` and, when this call consumed it, stores `successor`, in one
    /// transaction.
    async fn consume_then_store(
        &self,
        key: &str,
        consumed_time: DateTime<Utc>,
        successor: Option<PersistedGrant>,
    ) -> oidc_server::Result<ConsumeOutcome> {
        let successor = successor.map(GrantRow::from);
        let key = key.to_owned();
        let at = StoredTime::from(consumed_time);
        let consumption = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| loop {
                // Atomic on its own: of concurrent updates only one finds `consumed_time` null
                // (PostgreSQL re-checks the condition after waiting for the row lock; SQLite's
                // immediate transaction runs one writer at a time).
                let consumed = diesel::update(grants::table.find(&key).filter(grants::consumed_time.is_null()))
                    .set(grants::consumed_time.eq(at))
                    .returning(GrantRow::as_returning())
                    .get_result(inner)
                    .optional()?;
                if let Some(mut before) = consumed {
                    if let Some(row) = &successor {
                        diesel::insert_into(grants::table)
                            .values(row)
                            .on_conflict(grants::key)
                            .do_update()
                            .set(row)
                            .execute(inner)?;
                    }
                    before.consumed_time = None;
                    break Ok(Consumption::Consumed(before));
                }
                match grants::table.find(&key).select(GrantRow::as_select()).first(inner).optional()? {
                    None => break Ok(Consumption::NotFound),
                    Some(row) if row.consumed_time.is_some() => break Ok(Consumption::AlreadyConsumed(row)),
                    // PostgreSQL only: `store` replaced the grant with an unconsumed one between
                    // the two statements, so try again.
                    Some(_) => {}
                }
            }))
        })
        .await?;
        Ok(match consumption {
            Consumption::Consumed(row) => ConsumeOutcome::Consumed(row.try_into()?),
            Consumption::AlreadyConsumed(row) => ConsumeOutcome::AlreadyConsumed(row.try_into()?),
            Consumption::NotFound => ConsumeOutcome::NotFound,
        })
    }

    /// Deletes every grant whose expiration is at or before `now` (such grants are no longer
    /// accepted); returns how many. Consumed grants are kept until then, so that a replayed
    /// refresh token is still recognised as a replay.
    pub async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, OperationalStoreError> {
        let now = StoredTime::from(now);
        let removed = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(
                diesel::delete(grants::table.filter(grants::expiration.le(now))).execute(inner)?
            ))
        })
        .await?;
        Ok(count(removed))
    }
}

/// A row count as the store traits report it.
fn count(rows: usize) -> u64 {
    u64::try_from(rows).unwrap_or(u64::MAX)
}

/// The criteria of `filter` this store applies; an error when it has others (added to
/// [`GrantFilter`] later), which would otherwise be ignored and widen the deletion.
fn known_criteria(filter: &GrantFilter) -> Result<GrantFilter, OperationalStoreError> {
    let mut known = GrantFilter::default();
    known.subject_id.clone_from(&filter.subject_id);
    known.client_id.clone_from(&filter.client_id);
    known.session_id.clone_from(&filter.session_id);
    known.family_id.clone_from(&filter.family_id);
    known.grant_type = filter.grant_type;
    if known == *filter { Ok(known) } else { Err(OperationalStoreError::UnsupportedFilter(format!("{filter:?}"))) }
}

/// A boxed select or delete on the grants table, narrowed to `filter`'s criteria.
macro_rules! filtered {
    ($query:expr, $filter:expr) => {{
        let mut query = $query;
        if let Some(subject_id) = &$filter.subject_id {
            query = query.filter(grants::subject_id.eq(subject_id));
        }
        if let Some(client_id) = &$filter.client_id {
            query = query.filter(grants::client_id.eq(client_id));
        }
        if let Some(session_id) = &$filter.session_id {
            query = query.filter(grants::session_id.eq(session_id));
        }
        if let Some(family_id) = &$filter.family_id {
            query = query.filter(grants::family_id.eq(family_id));
        }
        if let Some(grant_type) = $filter.grant_type {
            query = query.filter(grants::grant_type.eq(grant_type.as_str()));
        }
        query
    }};
}

#[async_trait]
impl PersistedGrantStore for DieselPersistedGrantStore {
    async fn store(&self, grant: PersistedGrant) -> oidc_server::Result<()> {
        let row = GrantRow::from(grant);
        run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                diesel::insert_into(grants::table)
                    .values(&row)
                    .on_conflict(grants::key)
                    .do_update()
                    .set(&row)
                    .execute(inner)?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> oidc_server::Result<Option<PersistedGrant>> {
        let key = key.to_owned();
        let row = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(grants::table
                .find(&key)
                .select(GrantRow::as_select())
                .first(inner)
                .optional()?))
        })
        .await?;
        Ok(row.map(PersistedGrant::try_from).transpose()?)
    }

    async fn consume(&self, key: &str, consumed_time: DateTime<Utc>) -> oidc_server::Result<ConsumeOutcome> {
        self.consume_then_store(key, consumed_time, None).await
    }

    async fn consume_and_store(
        &self,
        key: &str,
        consumed_time: DateTime<Utc>,
        successor: PersistedGrant,
    ) -> oidc_server::Result<ConsumeOutcome> {
        self.consume_then_store(key, consumed_time, Some(successor)).await
    }

    async fn remove(&self, key: &str) -> oidc_server::Result<()> {
        let key = key.to_owned();
        run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                diesel::delete(grants::table.find(&key)).execute(inner)?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    }

    async fn get_all(&self, filter: &GrantFilter) -> oidc_server::Result<Vec<PersistedGrant>> {
        filter.ensure_not_empty()?;
        let filter = known_criteria(filter)?;
        let rows = run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                let select = grants::table.select(GrantRow::as_select()).into_boxed();
                Ok(filtered!(select, filter).load(inner)?)
            })
        })
        .await?;
        Ok(rows.into_iter().map(PersistedGrant::try_from).collect::<Result<_, _>>()?)
    }

    async fn remove_all(&self, filter: &GrantFilter) -> oidc_server::Result<u64> {
        filter.ensure_not_empty()?;
        let filter = known_criteria(filter)?;
        let removed = run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                let delete = diesel::delete(grants::table).into_boxed();
                Ok(filtered!(delete, filter).execute(inner)?)
            })
        })
        .await?;
        Ok(count(removed))
    }
}

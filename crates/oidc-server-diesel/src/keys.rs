//! [`DieselSigningKeyStore`]: signing keys in `oidc_signing_keys`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::Database;
use oidc_server::{SigningKeyStore, StoredSigningKey, async_trait};

use crate::backend::{StoreConnection as _, on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::{oidc_signing_keys as keys, parse_name};
use crate::time::StoredTime;

/// A [`SigningKeyStore`] on SQLite or PostgreSQL: every server instance on the database signs
/// with the same keys, and they survive restarts.
///
/// Behaves exactly like [`oidc_server::InMemorySigningKeyStore`], except that creation times are
/// kept to the microsecond. [`add_key_if_none_newer`](SigningKeyStore::add_key_if_none_newer)
/// checks and inserts in one transaction that excludes other key writers, so instances that
/// start (or rotate) together agree on one key. Private keys are stored as the server hands them
/// over: encrypted when it has a key-encryption secret.
#[derive(Debug, Clone)]
pub struct DieselSigningKeyStore {
    db: Database,
}

/// A row of `oidc_signing_keys`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = keys)]
struct KeyRow {
    key_id: String,
    algorithm: String,
    created: StoredTime,
    data_protected: bool,
    data: String,
}

impl From<StoredSigningKey> for KeyRow {
    fn from(key: StoredSigningKey) -> Self {
        Self {
            key_id: key.key_id,
            algorithm: key.algorithm.as_str().to_owned(),
            created: key.created.into(),
            data_protected: key.data_protected,
            data: key.data,
        }
    }
}

impl TryFrom<KeyRow> for StoredSigningKey {
    type Error = OperationalStoreError;

    fn try_from(row: KeyRow) -> Result<Self, OperationalStoreError> {
        Ok(StoredSigningKey {
            algorithm: parse_name("signing algorithm", &row.algorithm)?,
            key_id: row.key_id,
            created: row.created.into(),
            data_protected: row.data_protected,
            data: row.data,
        })
    }
}

impl DieselSigningKeyStore {
    /// A store on `db`, whose schema [`run_migrations`](crate::run_migrations) has set up.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SigningKeyStore for DieselSigningKeyStore {
    async fn load_keys(&self) -> oidc_server::Result<Vec<StoredSigningKey>> {
        let rows = run(&self.db, |connection| {
            on_backend!(connection, |inner| Ok(keys::table
                .select(KeyRow::as_select())
                .order((keys::created, keys::key_id))
                .load(inner)?))
        })
        .await?;
        Ok(rows.into_iter().map(StoredSigningKey::try_from).collect::<Result<_, _>>()?)
    }

    async fn add_key_if_none_newer(
        &self,
        key: StoredSigningKey,
        newer_than: DateTime<Utc>,
    ) -> oidc_server::Result<bool> {
        let row = KeyRow::from(key);
        let newer_than = StoredTime::from(newer_than);
        let added = run(&self.db, move |connection| {
            on_backend!(connection, |inner| inner.write_transaction(|inner| {
                inner.lock_signing_keys()?;
                let newer = keys::table.filter(keys::algorithm.eq(&row.algorithm)).filter(keys::created.gt(newer_than));
                if diesel::select(diesel::dsl::exists(newer)).get_result(inner)? {
                    return Ok(false);
                }
                diesel::insert_into(keys::table).values(&row).execute(inner)?;
                Ok(true)
            }))
        })
        .await?;
        Ok(added)
    }

    async fn delete_key(&self, key_id: &str) -> oidc_server::Result<()> {
        let key_id = key_id.to_owned();
        run(&self.db, move |connection| {
            on_backend!(connection, |inner| {
                diesel::delete(keys::table.find(&key_id)).execute(inner)?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    }
}

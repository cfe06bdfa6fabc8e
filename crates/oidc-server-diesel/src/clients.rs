//! [`DieselClientDocuments`]: client definitions in `oidc_clients`, so that a host can add,
//! change and remove clients at run time, and every instance on the database sees them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::Database;

use crate::backend::{on_backend, run};
use crate::error::OperationalStoreError;
use crate::schema::oidc_clients as clients;
use crate::time::StoredTime;

/// One client's stored definition.
///
/// The document's format is the host's: this crate keeps it as text and never reads it, so a
/// host validates a definition before storing it and again when it loads it (a document written
/// by an older or newer host may no longer pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClientDocument {
    /// The client id, unique.
    pub client_id: String,
    /// The client's definition, in the host's format (JSON, say).
    pub document: String,
    /// When it was created or last replaced.
    pub updated: DateTime<Utc>,
}

/// Client definitions on SQLite or PostgreSQL, shared by every instance on the database.
///
/// Changes are single statements: [`insert`](Self::insert) never overwrites, and
/// [`replace`](Self::replace) only replaces the document it was given, so two administrators
/// editing one client cannot silently undo each other's change.
#[derive(Debug, Clone)]
pub struct DieselClientDocuments {
    db: Database,
}

/// A row of `oidc_clients`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = clients, primary_key(client_id))]
struct ClientRow {
    client_id: String,
    document: String,
    updated: StoredTime,
}

impl From<StoredClientDocument> for ClientRow {
    fn from(stored: StoredClientDocument) -> Self {
        Self { client_id: stored.client_id, document: stored.document, updated: stored.updated.into() }
    }
}

impl From<ClientRow> for StoredClientDocument {
    fn from(row: ClientRow) -> Self {
        Self { client_id: row.client_id, document: row.document, updated: row.updated.into() }
    }
}

impl DieselClientDocuments {
    /// The client definitions on `db`, whose schema [`run_migrations`](crate::run_migrations)
    /// has set up.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Every stored client, by client id.
    pub async fn list(&self) -> Result<Vec<StoredClientDocument>, OperationalStoreError> {
        let rows = run(&self.db, |connection| {
            on_backend!(connection, |inner| Ok(clients::table
                .select(ClientRow::as_select())
                .order(clients::client_id)
                .load(inner)?))
        })
        .await?;
        Ok(rows.into_iter().map(StoredClientDocument::from).collect())
    }

    /// The client with `client_id`, if stored.
    pub async fn get(&self, client_id: &str) -> Result<Option<StoredClientDocument>, OperationalStoreError> {
        let client_id = client_id.to_owned();
        let row = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(clients::table
                .find(&client_id)
                .select(ClientRow::as_select())
                .first(inner)
                .optional()?))
        })
        .await?;
        Ok(row.map(StoredClientDocument::from))
    }

    /// Stores a new client; `false` (and nothing changed) when its id is taken.
    pub async fn insert(&self, stored: StoredClientDocument) -> Result<bool, OperationalStoreError> {
        let row = ClientRow::from(stored);
        let inserted = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::insert_into(clients::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(inner)?))
        })
        .await?;
        Ok(inserted == 1)
    }

    /// Replaces the document of `client_id` with `document` if it is still `expected`; `false`
    /// (and nothing changed) when the client is gone or its document changed meanwhile.
    pub async fn replace(
        &self,
        client_id: &str,
        expected: &str,
        document: String,
        updated: DateTime<Utc>,
    ) -> Result<bool, OperationalStoreError> {
        let (client_id, expected, updated) = (client_id.to_owned(), expected.to_owned(), StoredTime::from(updated));
        let replaced = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::update(
                clients::table.find(&client_id).filter(clients::document.eq(&expected))
            )
            .set((clients::document.eq(&document), clients::updated.eq(updated)))
            .execute(inner)?))
        })
        .await?;
        Ok(replaced == 1)
    }

    /// Removes the client with `client_id`; whether there was one.
    pub async fn delete(&self, client_id: &str) -> Result<bool, OperationalStoreError> {
        let client_id = client_id.to_owned();
        let deleted = run(&self.db, move |connection| {
            on_backend!(connection, |inner| Ok(diesel::delete(clients::table.find(&client_id)).execute(inner)?))
        })
        .await?;
        Ok(deleted == 1)
    }
}

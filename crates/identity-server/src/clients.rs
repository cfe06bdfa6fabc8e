//! The clients the server knows: the configuration file's, and those that `identity-server
//! clients …` keeps in the database, which every instance sees within `[client_store]
//! cache_lifetime`, without a restart.
//!
//! The file wins: a stored client with the id of a file client is ignored. A stored client that
//! no longer passes the file's rules is skipped with an error naming it, so that one bad row
//! never stops the others or the instance. When the database cannot be read, the clients read
//! last keep serving, tried again one cache lifetime later; at the first attempt that finds the
//! last read more than [`STALE_LIFETIMES`] cache lifetimes old they are no longer served (fail
//! closed: a client deleted meanwhile must not go on working), until the database answers again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use oidc_server::{Client, ClientStore};
use oidc_server_diesel::DieselClientDocuments;

use crate::config::client_from_document;
use crate::error::{Failure, Result};

/// How many cache lifetimes the stored clients read last keep serving while the database cannot
/// be read.
const STALE_LIFETIMES: u32 = 3;

/// The clients of the file, and the database's as read at one moment.
#[derive(Debug)]
pub(crate) struct ClientSnapshot {
    /// The stored clients that load, without those the file overrides, with the document each
    /// was read from (an unchanged document is not checked again).
    stored: HashMap<String, (String, Client)>,
    /// The stored clients that were skipped, with their document and why: each reported once,
    /// and not checked again while its document stays the same.
    skipped: BTreeMap<String, (String, String)>,
    /// When the database was last tried; `None` before the first read.
    read_at: Option<Instant>,
    /// When it was last read.
    read_ok_at: Option<Instant>,
}

impl ClientSnapshot {
    fn is_fresh(&self, lifetime: Duration) -> bool {
        self.read_at.is_some_and(|read_at| read_at.elapsed() < lifetime)
    }
}

/// The file's clients and the database's, behind [`ClientStore`].
#[derive(Debug)]
pub(crate) struct ClientCatalog {
    file: HashMap<String, Client>,
    database: Option<DieselClientDocuments>,
    cache_lifetime: Duration,
    current: RwLock<Arc<ClientSnapshot>>,
    reading: tokio::sync::Mutex<()>,
}

impl ClientCatalog {
    /// The clients of `file`, plus the database's when `database` is given, read now: a
    /// database that cannot be read stops the start rather than serving without its clients.
    pub(crate) async fn open(
        file: Vec<Client>,
        database: Option<DieselClientDocuments>,
        cache_lifetime: Duration,
    ) -> Result<Self> {
        let mut by_id = HashMap::new();
        for client in file {
            let client_id = client.client_id.clone();
            if by_id.insert(client_id.clone(), client).is_some() {
                return Err(Failure::new(format!("client id `{client_id}` is configured twice")));
            }
        }
        let empty =
            ClientSnapshot { stored: HashMap::new(), skipped: BTreeMap::new(), read_at: None, read_ok_at: None };
        let catalog = Self {
            file: by_id,
            database,
            cache_lifetime,
            current: RwLock::new(Arc::new(empty)),
            reading: tokio::sync::Mutex::new(()),
        };
        if let Some(database) = &catalog.database {
            let read = catalog.read(database, &catalog.current()).await?;
            *catalog.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(read);
        }
        Ok(catalog)
    }

    /// `derive` applied to every client (the file's, then the stored ones that load), from
    /// `cache` unless the stored clients were read again since it was filled.
    pub(crate) async fn derive<T: Clone>(
        &self,
        cache: &Mutex<Option<(Arc<ClientSnapshot>, T)>>,
        derive: impl FnOnce(&[&Client]) -> T,
    ) -> T {
        let snapshot = self.snapshot().await;
        let mut cached = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((of, value)) = cached.as_ref()
            && Arc::ptr_eq(of, &snapshot)
        {
            return value.clone();
        }
        let value = {
            let clients: Vec<&Client> = self.every_client(&snapshot).collect();
            derive(&clients)
        };
        *cached = Some((snapshot, value.clone()));
        value
    }

    /// The file's and the loaded stored clients of `snapshot`.
    fn every_client<'a>(&'a self, snapshot: &'a ClientSnapshot) -> impl Iterator<Item = &'a Client> {
        self.file.values().chain(snapshot.stored.values().map(|(_, client)| client))
    }

    /// The clients as of at most one cache lifetime ago, reading the database again if that
    /// has passed (one reader at a time; the others wait for its result).
    async fn snapshot(&self) -> Arc<ClientSnapshot> {
        let Some(database) = &self.database else { return self.current() };
        let current = self.current();
        if current.is_fresh(self.cache_lifetime) {
            return current;
        }
        let _reading = self.reading.lock().await;
        let current = self.current();
        if current.is_fresh(self.cache_lifetime) {
            return current;
        }
        let next = match self.read(database, &current).await {
            Ok(read) => Arc::new(read),
            Err(error) => {
                let fresh_enough =
                    current.read_ok_at.is_some_and(|read| read.elapsed() < self.cache_lifetime * STALE_LIFETIMES);
                let stored = if fresh_enough {
                    tracing::warn!(%error, "cannot read the stored clients; serving those read before");
                    current.stored.clone()
                } else {
                    tracing::error!(%error, "cannot read the stored clients for too long; serving the file's only");
                    HashMap::new()
                };
                Arc::new(ClientSnapshot {
                    stored,
                    skipped: current.skipped.clone(),
                    read_at: Some(Instant::now()),
                    read_ok_at: current.read_ok_at,
                })
            }
        };
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&next);
        next
    }

    fn current(&self) -> Arc<ClientSnapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reads and checks every stored client; a document unchanged since `previous` keeps its
    /// outcome, so it is neither checked nor reported again.
    async fn read(&self, database: &DieselClientDocuments, previous: &ClientSnapshot) -> Result<ClientSnapshot> {
        let documents =
            database.list().await.map_err(|error| Failure::context("cannot read the stored clients", error))?;
        let mut stored = HashMap::new();
        let mut skipped = BTreeMap::new();
        for row in documents {
            let loaded_before = previous.stored.get(&row.client_id).filter(|(document, _)| *document == row.document);
            let skipped_before = previous.skipped.get(&row.client_id).filter(|(document, _)| *document == row.document);
            let loaded = if self.file.contains_key(&row.client_id) {
                Err("the configuration file defines a client with this id, which wins".to_owned())
            } else if let Some((_, client)) = loaded_before {
                Ok(client.clone())
            } else if let Some((_, reason)) = skipped_before {
                Err(reason.clone())
            } else {
                client_from_document(&row.client_id, &row.document).map_err(|error| error.to_string())
            };
            match loaded {
                Ok(client) => {
                    stored.insert(row.client_id, (row.document, client));
                }
                Err(reason) => {
                    if skipped_before.is_none_or(|(_, before)| *before != reason) {
                        tracing::error!(client_id = %row.client_id, %reason, "skipping a stored client");
                    }
                    skipped.insert(row.client_id, (row.document, reason));
                }
            }
        }
        let now = Instant::now();
        Ok(ClientSnapshot { stored, skipped, read_at: Some(now), read_ok_at: Some(now) })
    }
}

#[async_trait]
impl ClientStore for ClientCatalog {
    async fn find_client_by_id(&self, client_id: &str) -> oidc_server::Result<Option<Client>> {
        if let Some(client) = self.file.get(client_id) {
            return Ok(Some(client.clone()));
        }
        Ok(self.snapshot().await.stored.get(client_id).map(|(_, client)| client.clone()))
    }

    async fn is_registered_redirect_target(&self, url: &str) -> oidc_server::Result<bool> {
        let snapshot = self.snapshot().await;
        Ok(self.every_client(&snapshot).any(|client| client.enabled && client.is_redirect_target(url)))
    }

    async fn is_allowed_cors_origin(&self, origin: &str) -> oidc_server::Result<bool> {
        let snapshot = self.snapshot().await;
        Ok(self
            .every_client(&snapshot)
            .any(|client| client.enabled && client.allowed_cors_origins.iter().any(|allowed| allowed == origin)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use identity_diesel::DatabaseUrl;
    use oidc_server_diesel::StoredClientDocument;
    use test_support::{Backend, TestDatabase};

    use super::*;

    const LIFETIME: Duration = Duration::from_millis(300);

    async fn stored_client(db: &identity_diesel::Database, client_id: &str) {
        let document = format!(r#"{{"client_id":"{client_id}","secrets":["s"],"grant_types":["client_credentials"]}}"#);
        let stored =
            StoredClientDocument { client_id: client_id.to_owned(), document, updated: test_support::clock::start() };
        assert!(crate::database::client_documents(db).insert(stored).await.expect("stored"));
    }

    #[tokio::test]
    async fn the_file_wins_and_stored_clients_stop_serving_when_unreadable_for_long() {
        let database = TestDatabase::create(Backend::Sqlite).await;
        let url = DatabaseUrl::parse(database.url()).expect("a URL");
        let db = crate::database::open_migrated(&url, Duration::from_secs(2)).await.expect("migrated");
        stored_client(&db, "stored").await;
        stored_client(&db, "both").await;
        let mut file_client = Client::new("both");
        file_client.client_name = Some("from the file".into());
        let documents = Some(crate::database::client_documents(&db));
        let catalog = ClientCatalog::open(vec![file_client], documents, LIFETIME).await.expect("opens");
        let found = |client_id: &'static str| {
            let catalog = &catalog;
            async move { catalog.find_client_by_id(client_id).await.expect("lookup") }
        };
        assert!(found("stored").await.is_some());
        assert_eq!(found("both").await.and_then(|client| client.client_name).as_deref(), Some("from the file"));

        // The table goes with the operational migrations: every read fails from now on.
        oidc_server_diesel::revert_all_migrations(&db).await.expect("reverted");
        tokio::time::sleep(LIFETIME + Duration::from_millis(30)).await;
        assert!(found("stored").await.is_some(), "served from the last read for a while");
        tokio::time::sleep(LIFETIME * (STALE_LIFETIMES + 1)).await;
        assert!(found("stored").await.is_none(), "no longer served once the last read is too old");
        assert!(found("both").await.is_some(), "the file's clients stay");
    }
}

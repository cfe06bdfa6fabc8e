//! Where clients come from.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::client::Client;

/// Looks up clients by id.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with `client_id`, enabled or not; `None` when unknown.
    async fn find_client_by_id(&self, client_id: &str) -> Result<Option<Client>>;
}

/// Clients held in memory, as configured at start-up.
#[derive(Debug, Default, Clone)]
pub struct InMemoryClientStore {
    clients: HashMap<String, Client>,
}

impl InMemoryClientStore {
    /// A store of `clients`; fails on a duplicate client id.
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Result<Self> {
        let mut by_id = HashMap::new();
        for client in clients {
            let client_id = client.client_id.clone();
            if by_id.insert(client_id.clone(), client).is_some() {
                return Err(Error::Configuration(format!("client id `{client_id}` is configured twice")));
            }
        }
        Ok(Self { clients: by_id })
    }
}

#[async_trait]
impl ClientStore for InMemoryClientStore {
    async fn find_client_by_id(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(self.clients.get(client_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_clients_and_rejects_duplicates() {
        let store = InMemoryClientStore::new([Client::new("a"), Client::new("b")]).expect("valid");
        assert!(store.find_client_by_id("a").await.expect("lookup").is_some());
        assert!(store.find_client_by_id("c").await.expect("lookup").is_none());
        assert!(InMemoryClientStore::new([Client::new("a"), Client::new("a")]).is_err());
    }
}

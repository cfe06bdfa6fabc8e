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

    /// Whether `url` is a redirect target of an enabled client (see
    /// [`Client::is_redirect_target`]), for [`crate::OidcServer::is_valid_return_url`]. The
    /// default answers `false`, so with a store that does not implement it hosts accept only
    /// local authorize URLs as return URLs.
    async fn is_registered_redirect_target(&self, url: &str) -> Result<bool> {
        let _ = url;
        Ok(false)
    }

    /// Whether an enabled client lists `origin` in [`Client::allowed_cors_origins`], for the
    /// endpoints' CORS answers. The default answers `false`: no cross-origin access.
    async fn is_allowed_cors_origin(&self, origin: &str) -> Result<bool> {
        let _ = origin;
        Ok(false)
    }
}

/// Clients held in memory, as configured at start-up.
#[derive(Debug, Default, Clone)]
pub struct InMemoryClientStore {
    clients: HashMap<String, Client>,
}

impl InMemoryClientStore {
    /// A store of `clients`; fails on a duplicate client id or a redirect URI with a fragment.
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Result<Self> {
        let mut by_id = HashMap::new();
        for client in clients {
            let client_id = client.client_id.clone();
            if client.redirect_uris.iter().chain(&client.post_logout_redirect_uris).any(|uri| uri.contains('#')) {
                return Err(Error::Configuration(format!(
                    "client `{client_id}` has a redirect URI with a fragment (RFC 6749 §3.1.2)"
                )));
            }
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

    async fn is_registered_redirect_target(&self, url: &str) -> Result<bool> {
        Ok(self.clients.values().any(|client| client.enabled && client.is_redirect_target(url)))
    }

    async fn is_allowed_cors_origin(&self, origin: &str) -> Result<bool> {
        Ok(self
            .clients
            .values()
            .any(|client| client.enabled && client.allowed_cors_origins.iter().any(|o| o == origin)))
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
        assert!(InMemoryClientStore::new([Client::new("f").with_redirect_uris(["https://a/cb#x"])]).is_err());
    }

    #[tokio::test]
    async fn redirect_targets_are_those_of_enabled_clients() {
        let mut disabled = Client::new("d").with_redirect_uris(["https://disabled/cb"]);
        disabled.enabled = false;
        let store =
            InMemoryClientStore::new([Client::new("a").with_redirect_uris(["https://a/cb"]), disabled]).expect("valid");
        assert!(store.is_registered_redirect_target("https://a/cb?code=x").await.expect("lookup"));
        assert!(!store.is_registered_redirect_target("https://disabled/cb").await.expect("lookup"));
        assert!(!store.is_registered_redirect_target("https://evil/cb").await.expect("lookup"));
    }
}

//! Assembling the server: the [`OidcServer`] facade, its builder, and the router the host mounts. This is
//! the high floor of the crate: it imports the endpoints to build the router, so nothing below imports it
//! back except to add methods to [`OidcServer`].

mod cookies;
mod interaction;
mod sessions;

pub use sessions::SignedOut;

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rand::RngCore as _;
use time_source::{Clock, SystemClock};

use crate::crypto::{DataProtector, MINIMUM_SECRET_LENGTH};
use crate::endpoints;
use crate::error::{Error, Result};
use crate::events::EventSink;
use crate::keys::manager::KeyManager;
use crate::keys::protection::KeyProtector;
use crate::model::client::Client;
use crate::model::resources::{ApiResource, ApiScope, IdentityResource, Resources};
use crate::services::password::ResourceOwnerPasswordValidator;
use crate::services::profile::{DefaultProfileService, ProfileService};
use crate::session::{SessionSettings, SessionValidator};
use crate::state::{ServerOptions, ServerState};
use crate::stores::clients::{ClientStore, InMemoryClientStore};
use crate::stores::grants::{InMemoryPersistedGrantStore, PersistedGrantStore};
use crate::stores::keys::{InMemorySigningKeyStore, SigningKeyStore};
use crate::stores::resources::{InMemoryResourceStore, ResourceStore};
use crate::stores::sessions::{InMemorySessionStore, ServerSideSessionStore};
use crate::tokens::id_token::{IdTokenRequest, issue_id_token};

/// An OAuth 2.0 / OpenID Connect token server. Cheap to clone; mount [`OidcServer::router`] in
/// the host application.
#[derive(Debug, Clone)]
pub struct OidcServer {
    state: Arc<ServerState>,
}

impl OidcServer {
    /// A builder for a server whose issuer identifier is `issuer` (an `http(s)` URL without
    /// query or fragment; include the path the router is mounted under, if any).
    pub fn builder(issuer: impl Into<String>) -> ServerBuilder {
        ServerBuilder::new(issuer.into())
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// The current time of the server's clock: what a login page stamps a sign-in with, so that
    /// the page and the sessions it creates agree on the time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.clock.now()
    }

    /// Whether the server can issue tokens now: a usable signing key is loaded (from the key
    /// store, which this reads when its cached ring is due). For readiness probes.
    pub async fn check_signing_key(&self) -> Result<()> {
        self.state().keys.signing_key().await.map(|_| ())
    }

    pub(crate) fn state(&self) -> &ServerState {
        &self.state
    }

    /// The router with every endpoint, to be merged into (or nested in) the host's router.
    pub fn router(&self) -> Router {
        let router = endpoints::routes()
            .layer(DefaultBodyLimit::max(self.state.options.max_request_body_bytes))
            .with_state(Arc::clone(&self.state));
        endpoints::with_cors(router, &self.state)
    }

    /// Signs an id token with the current signing key; `at_hash` and `c_hash` are computed for
    /// that key's algorithm.
    pub async fn issue_id_token(&self, request: &IdTokenRequest<'_>) -> Result<String> {
        issue_id_token(&self.state, request).await
    }
}

/// Configures and builds an [`OidcServer`].
///
/// Clients and resources are kept in memory unless a store is given. Without a profile service
/// the [`DefaultProfileService`] is used; without a password validator the password grant is
/// off.
pub struct ServerBuilder {
    issuer: String,
    options: ServerOptions,
    clients: Vec<Client>,
    resources: Resources,
    client_store: Option<Arc<dyn ClientStore>>,
    resource_store: Option<Arc<dyn ResourceStore>>,
    grant_store: Option<Arc<dyn PersistedGrantStore>>,
    session_store: Option<Arc<dyn ServerSideSessionStore>>,
    signing_key_store: Option<Arc<dyn SigningKeyStore>>,
    profile_service: Option<Arc<dyn ProfileService>>,
    password_validator: Option<Arc<dyn ResourceOwnerPasswordValidator>>,
    clock: Option<Arc<dyn Clock>>,
    key_encryption_secret: Option<Vec<u8>>,
    session_secret: Option<Vec<u8>>,
    session_validator: Option<Arc<dyn SessionValidator>>,
    events: Option<Arc<dyn EventSink>>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("issuer", &self.issuer)
            .field("options", &self.options)
            .field("clients", &self.clients)
            .field("resources", &self.resources)
            .field("key_encryption_secret", &self.key_encryption_secret.as_ref().map(|_| "[redacted]"))
            .field("session_secret", &self.session_secret.as_ref().map(|_| "[redacted]"))
            .field("session_validator", &self.session_validator.is_some())
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// The path part of a validated issuer: what follows the authority.
fn issuer_path(issuer: &str) -> &str {
    let authority_and_path = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
    authority_and_path.find('/').map_or("", |start| &authority_and_path[start..])
}

/// The session secret, or a random one (with a warning) when none is configured.
fn session_protector(secret: Option<&[u8]>) -> Result<DataProtector> {
    match secret {
        Some(secret) => DataProtector::new(secret),
        None => {
            tracing::warn!(
                "no session secret configured (ServerBuilder::session_secret): a random one is used, so sign-in \
                 sessions and logout ids do not survive a restart and are not shared between instances"
            );
            let mut random = [0_u8; MINIMUM_SECRET_LENGTH];
            rand::rng().fill_bytes(&mut random);
            DataProtector::new(&random)
        }
    }
}

fn validate_issuer(issuer: &str) -> Result<()> {
    let rest = issuer.strip_prefix("https://").or_else(|| issuer.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| {
        !rest.is_empty() && !rest.starts_with('/') && !rest.ends_with('/') && !rest.contains(['?', '#', ' '])
    });
    if valid {
        Ok(())
    } else {
        Err(Error::Configuration(format!(
            "the issuer `{issuer}` must be an http(s) URL without a trailing slash, query or fragment"
        )))
    }
}

impl ServerBuilder {
    fn new(issuer: String) -> Self {
        Self {
            issuer,
            options: ServerOptions::default(),
            clients: Vec::new(),
            resources: Resources::default(),
            client_store: None,
            resource_store: None,
            grant_store: None,
            session_store: None,
            signing_key_store: None,
            profile_service: None,
            password_validator: None,
            clock: None,
            key_encryption_secret: None,
            session_secret: None,
            session_validator: None,
            events: None,
        }
    }

    /// Replaces the options.
    #[must_use]
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// Adds in-memory clients.
    #[must_use]
    pub fn clients(mut self, clients: impl IntoIterator<Item = Client>) -> Self {
        self.clients.extend(clients);
        self
    }

    /// Adds in-memory identity resources.
    #[must_use]
    pub fn identity_resources(mut self, resources: impl IntoIterator<Item = IdentityResource>) -> Self {
        self.resources.identity_resources.extend(resources);
        self
    }

    /// Adds in-memory API scopes.
    #[must_use]
    pub fn api_scopes(mut self, scopes: impl IntoIterator<Item = ApiScope>) -> Self {
        self.resources.api_scopes.extend(scopes);
        self
    }

    /// Adds in-memory API resources.
    #[must_use]
    pub fn api_resources(mut self, resources: impl IntoIterator<Item = ApiResource>) -> Self {
        self.resources.api_resources.extend(resources);
        self
    }

    /// Reports the server's events (token issuance and refusals) to `sink`, for metrics and an
    /// audit log.
    #[must_use]
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// Uses `store` for clients instead of the in-memory list.
    #[must_use]
    pub fn client_store(mut self, store: Arc<dyn ClientStore>) -> Self {
        self.client_store = Some(store);
        self
    }

    /// Uses `store` for resources instead of the in-memory lists.
    #[must_use]
    pub fn resource_store(mut self, store: Arc<dyn ResourceStore>) -> Self {
        self.resource_store = Some(store);
        self
    }

    /// Uses `store` for refresh tokens (default: in memory).
    #[must_use]
    pub fn persisted_grant_store(mut self, store: Arc<dyn PersistedGrantStore>) -> Self {
        self.grant_store = Some(store);
        self
    }

    /// Uses `store` for sign-in sessions (default: in memory, so sessions end on restart and are
    /// not shared between instances).
    #[must_use]
    pub fn session_store(mut self, store: Arc<dyn ServerSideSessionStore>) -> Self {
        self.session_store = Some(store);
        self
    }

    /// Uses `store` for signing keys (default: in memory, so keys change on every start).
    #[must_use]
    pub fn signing_key_store(mut self, store: Arc<dyn SigningKeyStore>) -> Self {
        self.signing_key_store = Some(store);
        self
    }

    /// Uses `service` for user claims and the active check.
    #[must_use]
    pub fn profile_service(mut self, service: Arc<dyn ProfileService>) -> Self {
        self.profile_service = Some(service);
        self
    }

    /// Enables the password grant (for clients that allow it) with `validator`.
    #[must_use]
    pub fn password_validator(mut self, validator: Arc<dyn ResourceOwnerPasswordValidator>) -> Self {
        self.password_validator = Some(validator);
        self
    }

    /// Uses `clock` wherever the server reads the time.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Encrypts private signing keys at rest with a key derived from `secret` (at least 32 bytes
    /// of high-entropy key material). Every instance sharing a key store needs the same secret.
    #[must_use]
    pub fn key_encryption_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.key_encryption_secret = Some(secret.into());
        self
    }

    /// Seals sign-in session cookies and logout ids with a key derived from `secret` (at least
    /// 32 bytes of high-entropy key material). Every instance behind one host name needs the same
    /// secret; without one, a random secret is generated at start-up (with a warning), so
    /// sessions end at every restart.
    #[must_use]
    pub fn session_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.session_secret = Some(secret.into());
        self
    }

    /// Re-checks sign-in sessions with `validator` on every request that reads them.
    #[must_use]
    pub fn session_validator(mut self, validator: Arc<dyn SessionValidator>) -> Self {
        self.session_validator = Some(validator);
        self
    }

    /// Checks the configuration, loads (or, on the first start, creates) the signing keys and
    /// returns the server.
    pub async fn build(self) -> Result<OidcServer> {
        validate_issuer(&self.issuer)?;
        self.options.key_management.validate()?;
        self.options.validate_page_urls()?;
        let session = SessionSettings::new(
            self.options.session.clone(),
            self.issuer.starts_with("https://"),
            self.session_validator,
        )?;
        let data_protector = session_protector(self.session_secret.as_deref())?;
        let clients: Arc<dyn ClientStore> = match self.client_store {
            Some(_) if !self.clients.is_empty() => {
                return Err(Error::Configuration(
                    "configure clients either in memory or through a client store, not both".into(),
                ));
            }
            Some(store) => store,
            None => Arc::new(InMemoryClientStore::new(self.clients)?),
        };
        let resources: Arc<dyn ResourceStore> = match self.resource_store {
            Some(_) if self.resources != Resources::default() => {
                return Err(Error::Configuration(
                    "configure resources either in memory or through a resource store, not both".into(),
                ));
            }
            Some(store) => store,
            None => Arc::new(InMemoryResourceStore::new(self.resources)?),
        };
        let protector = self.key_encryption_secret.as_deref().map(KeyProtector::new).transpose()?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let key_store = self.signing_key_store.unwrap_or_else(|| Arc::new(InMemorySigningKeyStore::new()));
        let keys =
            KeyManager::start(key_store, protector, self.options.key_management.clone(), Arc::clone(&clock)).await?;
        let state = ServerState {
            issuer_path: issuer_path(&self.issuer).to_owned(),
            issuer: self.issuer,
            options: self.options,
            clock,
            clients,
            resources,
            grants: self.grant_store.unwrap_or_else(|| Arc::new(InMemoryPersistedGrantStore::new())),
            sessions: self.session_store.unwrap_or_else(|| Arc::new(InMemorySessionStore::new())),
            http: outbound_http_client()?,
            keys,
            profile: self.profile_service.unwrap_or_else(|| Arc::new(DefaultProfileService)),
            password_validator: self.password_validator,
            protector: data_protector,
            session,
            events: self.events,
        };
        Ok(OidcServer { state: Arc::new(state) })
    }
}

/// The one outbound HTTP client: TLS through rustls, no redirects (a notification goes where the
/// client registered it, nowhere else), and timeouts, so a slow receiver cannot hold deliveries.
fn outbound_http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|error| Error::Configuration(format!("cannot build the outbound HTTP client: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_plain_http_urls() {
        assert!(validate_issuer("https://id.example.com").is_ok());
        assert!(validate_issuer("http://127.0.0.1:8080/identity").is_ok());
        for invalid in [
            "id.example.com",
            "https://",
            "https://id.example.com/",
            "https://id.example.com?x=1",
            "https://id.example.com#f",
            "ftp://id.example.com",
        ] {
            assert!(validate_issuer(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn issuer_paths_are_what_follows_the_authority() {
        assert_eq!(issuer_path("https://id.example.com"), "");
        assert_eq!(issuer_path("http://127.0.0.1:8080/identity"), "/identity");
        assert_eq!(issuer_path("https://id.example.com/a/b"), "/a/b");
    }

    #[tokio::test]
    async fn clients_come_from_memory_or_a_store_but_not_both() {
        let result = OidcServer::builder("https://id.example.com")
            .clients([Client::new("a")])
            .client_store(Arc::new(InMemoryClientStore::default()))
            .build()
            .await;
        assert!(matches!(result, Err(Error::Configuration(_))));
    }
}

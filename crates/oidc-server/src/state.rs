//! The server's options and the state every endpoint shares: the low floor of the crate, which the
//! endpoints, token services and sessions import, and which imports none of them back.

use std::fmt;
use std::sync::Arc;

use time_source::Clock;

use crate::claims::Subject;
use crate::crypto::DataProtector;
use crate::error::{Error, Result};
use crate::events::{EventSink, ServerEvent};
use crate::keys::KeyManagementOptions;
use crate::keys::manager::KeyManager;
use crate::model::client::{Client, GrantType};
use crate::services::password::ResourceOwnerPasswordValidator;
use crate::services::profile::{IsActiveCaller, IsActiveContext, ProfileService};
use crate::session::{SessionOptions, SessionSettings};
use crate::stores::clients::ClientStore;
use crate::stores::grants::PersistedGrantStore;
use crate::stores::resources::ResourceStore;
use crate::stores::sessions::ServerSideSessionStore;

/// Limits and tunables of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Largest accepted request body in bytes; larger requests get 413. Default 32 KiB.
    pub max_request_body_bytes: usize,
    /// Longest accepted `username` of the password grant. Default 100, as IdentityServer.
    pub max_user_name_length: usize,
    /// Longest accepted `password` of the password grant. Default 100, as IdentityServer.
    pub max_password_length: usize,
    /// Signing-key rotation.
    pub key_management: KeyManagementOptions,
    /// The sign-in session cookie.
    pub session: SessionOptions,
    /// The host's login page. The authorize endpoint sends users who must sign in there with a
    /// `returnUrl` parameter: the authorize URL (relative) to go back to once signed in. A path
    /// (`/…`) or an absolute http(s) URL. Default `/account/login`.
    pub login_url: String,
    /// The host's consent page, sent a `returnUrl` parameter like the login page. Default
    /// `/consent`.
    pub consent_url: String,
    /// The host's registration page, if it has one: an authorize request with `prompt=create`
    /// (Initiating User Registration via OpenID Connect 1.0) goes there first, with a `returnUrl`
    /// like the login page's, and discovery lists `create` among the prompt values. Without it,
    /// `prompt=create` is refused with `invalid_request`. Default none.
    pub create_account_url: Option<String>,
    /// The host's logout page, which asks the user to confirm; sent a `logoutId` parameter (see
    /// [`OidcServer::logout_context`](crate::OidcServer::logout_context)). Default `/account/logout`.
    pub logout_url: String,
    /// The host's page shown after the end-session endpoint signed the user out when there is no
    /// post-logout redirect; sent a `logoutId` parameter. Default `/account/logout/loggedout`.
    pub logged_out_url: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_request_body_bytes: 32 * 1024,
            max_user_name_length: 100,
            max_password_length: 100,
            key_management: KeyManagementOptions::default(),
            session: SessionOptions::default(),
            login_url: "/account/login".to_owned(),
            consent_url: "/consent".to_owned(),
            create_account_url: None,
            logout_url: "/account/logout".to_owned(),
            logged_out_url: "/account/logout/loggedout".to_owned(),
        }
    }
}

impl ServerOptions {
    /// Checks the host's page URLs: a local path or an absolute http(s) URL, without fragment.
    pub(crate) fn validate_page_urls(&self) -> Result<()> {
        let pages = [
            ("login_url", Some(&self.login_url)),
            ("consent_url", Some(&self.consent_url)),
            ("create_account_url", self.create_account_url.as_ref()),
            ("logout_url", Some(&self.logout_url)),
            ("logged_out_url", Some(&self.logged_out_url)),
        ];
        for (name, url) in pages.into_iter().filter_map(|(name, url)| Some((name, url?))) {
            let local = url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\");
            let absolute = url.starts_with("https://") || url.starts_with("http://");
            if !(local || absolute) || url.contains(['#', ' ', '\n', '\r']) {
                return Err(Error::Configuration(format!(
                    "{name} `{url}` must be a path starting with `/` or an absolute http(s) URL, without fragment"
                )));
            }
        }
        Ok(())
    }
}

/// Everything the endpoints share.
pub(crate) struct ServerState {
    pub(crate) issuer: String,
    /// The path part of the issuer (empty, or `/…` without trailing slash): where the router is
    /// mounted, for the server's own relative URLs.
    pub(crate) issuer_path: String,
    pub(crate) options: ServerOptions,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) clients: Arc<dyn ClientStore>,
    pub(crate) resources: Arc<dyn ResourceStore>,
    pub(crate) grants: Arc<dyn PersistedGrantStore>,
    /// Sign-in sessions.
    pub(crate) sessions: Arc<dyn ServerSideSessionStore>,
    /// The outbound HTTP client (back-channel logout): no redirects, bounded timeouts.
    pub(crate) http: reqwest::Client,
    pub(crate) keys: KeyManager,
    pub(crate) profile: Arc<dyn ProfileService>,
    pub(crate) password_validator: Option<Arc<dyn ResourceOwnerPasswordValidator>>,
    /// Seals session cookies and logout ids.
    pub(crate) protector: DataProtector,
    pub(crate) session: SessionSettings,
    /// Where the server's events go, if anywhere.
    pub(crate) events: Option<Arc<dyn EventSink>>,
}

impl ServerState {
    /// Reports `event` to the host's sink, if it gave one.
    pub(crate) fn record(&self, event: &ServerEvent<'_>) {
        if let Some(events) = &self.events {
            events.record(event);
        }
    }

    /// The grant types the server can serve; the password grant only with a validator.
    pub(crate) fn supports_grant_type(&self, grant_type: GrantType) -> bool {
        match grant_type {
            GrantType::Password => self.password_validator.is_some(),
            GrantType::AuthorizationCode | GrantType::ClientCredentials | GrantType::RefreshToken => true,
        }
    }

    /// The client with `client_id`, if it exists and is enabled.
    pub(crate) async fn enabled_client(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(self.clients.find_client_by_id(client_id).await?.filter(|client| client.enabled))
    }

    /// Asks the profile service whether `subject` may still get tokens or answers.
    pub(crate) async fn is_user_active(
        &self,
        subject: &Subject,
        client: &Client,
        caller: IsActiveCaller,
    ) -> Result<bool> {
        let mut context = IsActiveContext::new(subject, client, caller);
        self.profile.is_active(&mut context).await?;
        Ok(context.is_active)
    }

    /// An absolute URL of an endpoint path.
    pub(crate) fn endpoint_url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The URL of an endpoint path relative to the host (from the root, without scheme and host).
    pub(crate) fn local_endpoint_url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer_path)
    }
}

impl fmt::Debug for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerState")
            .field("issuer", &self.issuer)
            .field("options", &self.options)
            .field("clock", &self.clock)
            .field("keys", &self.keys)
            .field("password_grant", &self.password_validator.is_some())
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_page_urls_must_be_local_paths_or_absolute() {
        assert!(ServerOptions::default().validate_page_urls().is_ok());
        for invalid in ["account/login", "//evil.example/login", "/\\evil.example", "/login#x", "javascript:x"] {
            let options = ServerOptions { login_url: invalid.to_owned(), ..ServerOptions::default() };
            assert!(options.validate_page_urls().is_err(), "{invalid}");
        }
        let absolute =
            ServerOptions { consent_url: "https://ui.example.com/consent".to_owned(), ..ServerOptions::default() };
        assert!(absolute.validate_page_urls().is_ok());
    }
}

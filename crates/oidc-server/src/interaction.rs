//! The host's side of the interactive flow: what its login, consent and logout pages ask the
//! server, as IdentityServer's `IIdentityServerInteractionService` answers it.
//!
//! The login and consent pages get a `returnUrl` that points back at the authorize endpoint;
//! [`OidcServer::authorization_context`](crate::OidcServer::authorization_context) reads the request out of it. The logout page gets a
//! sealed `logoutId`; [`OidcServer::logout_context`](crate::OidcServer::logout_context) reads it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::client::OFFLINE_ACCESS_SCOPE;
use crate::model::resources::{RequestedResources, ScopeDisplay};
use crate::protocol::authorize_request::AuthorizeRequest;
use crate::protocol::browser::append_query;
use crate::session::UserSession;
use crate::state::ServerState;
use crate::stores::sessions::StoredSession;
use crate::tokens::expiry;

/// The parameter that carries the logout id to the host's logout and logged-out pages.
pub(crate) const LOGOUT_ID_PARAMETER: &str = "logoutId";

/// What users read for `offline_access` (IdentityServer's wording).
pub(crate) const OFFLINE_ACCESS_DISPLAY_NAME: &str = "Offline Access";

/// How long a logout id can be read: enough for the user to confirm.
const LOGOUT_ID_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// What a requested scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeKind {
    /// An identity resource (user claims), such as `openid` or `profile`.
    Identity,
    /// An API scope.
    Api,
    /// `offline_access`: a refresh token.
    OfflineAccess,
}

/// A scope of an authorization request, as the consent page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestedScope {
    /// The scope value.
    pub name: String,
    /// A name for users (the scope value when none is configured).
    pub display_name: String,
    /// A longer explanation.
    pub description: Option<String>,
    /// Whether the user cannot deselect it (`openid`).
    pub required: bool,
    /// What the scope grants.
    pub kind: ScopeKind,
}

impl RequestedScope {
    fn new(name: &str, kind: ScopeKind, display: &ScopeDisplay) -> Self {
        Self {
            name: name.to_owned(),
            display_name: display.display_name.clone().unwrap_or_else(|| name.to_owned()),
            description: display.description.clone(),
            required: display.required,
            kind,
        }
    }

    /// The requested scopes in request order, with their display information.
    fn list(resources: &RequestedResources) -> Vec<Self> {
        let offline_access = ScopeDisplay::new(OFFLINE_ACCESS_DISPLAY_NAME)
            .with_description("Access to your applications and resources, even when you are offline");
        let granted = resources.resources();
        resources
            .scope_values()
            .iter()
            .filter_map(|name| {
                if name == OFFLINE_ACCESS_SCOPE {
                    return Some(Self::new(name, ScopeKind::OfflineAccess, &offline_access));
                }
                let identity = granted.identity_resources.iter().find(|resource| &resource.name == name);
                let api = granted.api_scopes.iter().find(|scope| &scope.name == name);
                identity
                    .map(|resource| Self::new(name, ScopeKind::Identity, &resource.display))
                    .or_else(|| api.map(|scope| Self::new(name, ScopeKind::Api, &scope.display)))
            })
            .collect()
    }
}

/// A validated authorization request, read from a return URL for the login and consent pages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationContext {
    /// The client.
    pub client_id: String,
    /// The client's display name, if configured.
    pub client_name: Option<String>,
    /// The client's logo, if configured.
    pub logo_uri: Option<String>,
    /// Where the client gets the answer.
    pub redirect_uri: String,
    /// The requested scopes, validated for the client, in request order.
    pub scopes: Vec<RequestedScope>,
    /// The `login_hint` (a user name to prefill).
    pub login_hint: Option<String>,
    /// Whether the consent page may offer to remember the consent.
    pub allow_remember_consent: bool,
    /// Whether only a sign-in with more than one factor (`amr` with `mfa`) satisfies the client
    /// ([`crate::Client::require_two_factor`]): the login page must not let a remembered browser
    /// skip the second factor, and must have a user without one enrol first.
    pub require_two_factor: bool,
}

impl AuthorizationContext {
    pub(crate) fn new(request: &AuthorizeRequest) -> Self {
        Self {
            client_id: request.client.client_id.clone(),
            client_name: request.client.client_name.clone(),
            logo_uri: request.client.logo_uri.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: RequestedScope::list(&request.resources),
            login_hint: request.login_hint.clone(),
            allow_remember_consent: request.client.allow_remember_consent,
            require_two_factor: request.client.require_two_factor,
        }
    }
}

/// What the end-session endpoint handed to the host's logout page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutContext {
    /// The client the user is logging out of, when the request named one.
    pub client_id: Option<String>,
    /// That client's display name, if configured.
    pub client_name: Option<String>,
    /// Where to send the user afterwards: registered for the client, so safe to follow.
    pub post_logout_redirect_uri: Option<String>,
    /// The client's `state`, to hand back with the redirect.
    pub state: Option<String>,
    /// Whether the user should confirm: `false` when a valid `id_token_hint` showed that the
    /// client asked for this user's logout. Use [`Self::signout_prompt_needed`], which also
    /// checks that the browser's session is that user's.
    pub show_signout_prompt: bool,
    /// The user the `id_token_hint` named, if any.
    pub subject_id: Option<String>,
    /// The front-channel logout URLs of the clients the ended session got tokens from (with
    /// `iss` and `sid` for clients that require them): the logged-out page loads each in an
    /// invisible iframe, and must allow their origins as frames. Empty until the session ended
    /// (see [`crate::OidcServer::sign_out`]).
    pub front_channel_logout_urls: Vec<String>,
}

impl LogoutContext {
    /// Whether the logout page must ask before signing out the browser's `session`: when the
    /// end-session request asked for a prompt, and whenever the session is not that of the user
    /// the `id_token_hint` named. A logout id is a bearer value (anyone can get one for their
    /// own id token), so without this check it would sign any other user out with a plain GET.
    pub fn signout_prompt_needed(&self, session: &UserSession) -> bool {
        self.show_signout_prompt || self.subject_id.as_deref() != Some(session.subject.subject_id.as_str())
    }

    /// The post-logout redirect URI with `state` added: where to send the user once signed out.
    pub fn post_logout_redirect_url(&self) -> Option<String> {
        post_logout_redirect_url(self.post_logout_redirect_uri.as_deref(), self.state.as_deref())
    }
}

fn post_logout_redirect_url(uri: Option<&str>, state: Option<&str>) -> Option<String> {
    uri.map(|uri| append_query(uri, state.map(|state| ("state", state))))
}

/// The sealed content of a logout id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogoutMessage {
    pub(crate) client_id: Option<String>,
    pub(crate) post_logout_redirect_uri: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) show_signout_prompt: bool,
    /// The subject of the `id_token_hint`, to which a logout without prompt is bound.
    pub(crate) subject_id: Option<String>,
    pub(crate) expires_at: DateTime<Utc>,
    /// The session that ended, once it has (for front-channel logout).
    #[serde(default)]
    pub(crate) session_id: Option<String>,
    /// The clients that session got tokens from.
    #[serde(default)]
    pub(crate) client_ids: Vec<String>,
}

impl LogoutMessage {
    /// A message readable for the next hour; `post_logout_redirect_uri` must be validated.
    pub(crate) fn new(
        state: &ServerState,
        client_id: Option<String>,
        post_logout_redirect_uri: Option<String>,
        logout_state: Option<String>,
        show_signout_prompt: bool,
        subject_id: Option<String>,
    ) -> Result<Self> {
        Ok(Self {
            client_id,
            post_logout_redirect_uri,
            state: logout_state,
            show_signout_prompt,
            subject_id,
            expires_at: expiry(state.clock.now(), LOGOUT_ID_LIFETIME)?,
            session_id: None,
            client_ids: Vec::new(),
        })
    }

    /// A message for a logout that no end-session request started (the user's own logout).
    pub(crate) fn for_own_logout(state: &ServerState) -> Result<Self> {
        Self::new(state, None, None, None, true, None)
    }

    /// Records the session that ended, whose clients the logged-out page notifies. A session of
    /// another user than the `id_token_hint` named counts as a prompted logout (the logout page
    /// asked), so the page does not send its browser on to that client by itself.
    pub(crate) fn with_ended_session(mut self, ended: &StoredSession) -> Self {
        if self.subject_id.as_deref() != Some(ended.subject_id()) {
            self.show_signout_prompt = true;
        }
        self.session_id = Some(ended.session_id.clone());
        self.client_ids.clone_from(&ended.client_ids);
        self
    }

    /// The front-channel logout URLs of the ended session's clients that have one (enabled
    /// clients only), with `iss` and `sid` where the client requires them.
    pub(crate) async fn front_channel_logout_urls(&self, state: &ServerState) -> Result<Vec<String>> {
        let mut urls = Vec::new();
        for client_id in &self.client_ids {
            let Some(client) = state.enabled_client(client_id).await? else {
                continue;
            };
            let Some(uri) = &client.frontchannel_logout_uri else {
                continue;
            };
            urls.push(match (&self.session_id, client.frontchannel_logout_session_required) {
                (Some(session_id), true) => {
                    append_query(uri, [("iss", state.issuer.as_str()), ("sid", session_id.as_str())])
                }
                _ => uri.clone(),
            });
        }
        Ok(urls)
    }

    pub(crate) fn post_logout_redirect_url(&self) -> Option<String> {
        post_logout_redirect_url(self.post_logout_redirect_uri.as_deref(), self.state.as_deref())
    }
}

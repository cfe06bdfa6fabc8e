//! The host's side of the interactive pages: the authorization and logout contexts a login,
//! consent or logout page reads, and the answers it gives (the mechanics live in
//! [`crate::interaction`]).

use crate::crypto::Purpose;
use crate::error::{Error, Result};
use crate::interaction::{AuthorizationContext, LogoutContext, LogoutMessage};
use crate::protocol::authorize_request::{
    AuthorizeError, AuthorizeRequest, authorize_params_from_return_url, validate_authorize_request,
};
use crate::protocol::error::ErrorCode;
use crate::server::OidcServer;
use crate::services::consent;
use crate::services::user_grants::{UserGrant, user_grants};
use crate::state::ServerState;
use crate::stores::grants::GrantFilter;

impl OidcServer {
    /// The validated authorization request a return URL points at; `None` when it is not a URL
    /// of this server's authorize endpoint or the request is invalid.
    async fn authorize_request(&self, return_url: &str) -> Result<Option<AuthorizeRequest>> {
        let state = self.state();
        let Some(params) = authorize_params_from_return_url(state, return_url) else {
            return Ok(None);
        };
        match validate_authorize_request(state, params).await {
            Ok(request) => Ok(Some(request)),
            Err(AuthorizeError::Failed(error)) => Err(error),
            Err(AuthorizeError::Fatal(..) | AuthorizeError::Redirect(_)) => Ok(None),
        }
    }

    /// The authorization request behind a login or consent page's `returnUrl` (relative, as the
    /// server sends it, or absolute): the client, the requested scopes with their display names,
    /// the redirect URI and the `login_hint`. `None` for any URL that is not a valid request to
    /// this server's authorize endpoint.
    pub async fn authorization_context(&self, return_url: &str) -> Result<Option<AuthorizationContext>> {
        Ok(self.authorize_request(return_url).await?.map(|request| AuthorizationContext::new(&request)))
    }

    /// Records the consent page's answer: `subject_id` allows `client_id` the `scopes` (the
    /// requested ones the user kept). The next authorize request of that user and client goes
    /// through once with those scopes, even without `remember`; with `remember` (and
    /// [`crate::Client::allow_remember_consent`]) the consent also covers later requests for the
    /// same or fewer scopes until [`crate::Client::consent_lifetime`] ends. Without `remember`, a
    /// consent remembered earlier is forgotten, as in IdentityServer.
    ///
    /// Fails with [`Error::Interaction`] for an unknown or disabled client.
    pub async fn grant_consent<S: Into<String>>(
        &self,
        subject_id: &str,
        client_id: &str,
        scopes: impl IntoIterator<Item = S>,
        remember: bool,
    ) -> Result<()> {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        let state = self.state();
        let client = state
            .enabled_client(client_id)
            .await?
            .ok_or_else(|| Error::Interaction(format!("consent for the unknown or disabled client `{client_id}`")))?;
        consent::grant_consent(state, subject_id, &client, &scopes, remember).await?;
        tracing::info!(client_id, subject_id, remember, "consent granted");
        Ok(())
    }

    /// What `subject_id` has given clients and still holds, one entry per client: remembered
    /// consents and valid refresh tokens, with the scopes named for users (IdentityServer's
    /// `GetAllUserGrantsAsync`), for a page listing the user's applications.
    pub async fn user_grants(&self, subject_id: &str) -> Result<Vec<UserGrant>> {
        user_grants(self.state(), subject_id).await
    }

    /// Takes back everything `subject_id` gave `client_id` (IdentityServer's
    /// `RevokeUserConsentAsync`): the remembered consent, refresh tokens and pending codes; the
    /// next authorize request asks for consent again. Returns how many grants ended.
    pub async fn revoke_user_grants(&self, subject_id: &str, client_id: &str) -> Result<u64> {
        let removed = self.state().grants.remove_all(&GrantFilter::subject_and_client(subject_id, client_id)).await?;
        tracing::info!(client_id, subject_id, removed, "the user's grants to a client were revoked");
        Ok(removed)
    }

    /// The URL that tells the client the user refused (`error=access_denied`, with the request's
    /// `state` and `iss`): where the login or consent page sends the browser when the user
    /// cancels. `None` when `return_url` is not a valid authorization request.
    pub async fn deny_authorization(&self, return_url: &str) -> Result<Option<String>> {
        Ok(self.authorize_request(return_url).await?.map(|request| {
            tracing::info!(client_id = %request.client.client_id, "authorization denied by the user");
            request.error(ErrorCode::AccessDenied, "the user denied the request").url(self.issuer())
        }))
    }

    /// Whether a host page may redirect the browser to `url`: a valid request to this server's
    /// authorize endpoint, or a redirect URI registered for an enabled client (see
    /// [`crate::ClientStore::is_registered_redirect_target`]). Use it against open redirects;
    /// store failures count as invalid and are logged.
    pub async fn is_valid_return_url(&self, url: &str) -> bool {
        let result = match self.authorize_request(url).await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => self.state().clients.is_registered_redirect_target(url).await,
            Err(error) => Err(error),
        };
        result.unwrap_or_else(|error| {
            tracing::error!(error = %error, "return URL could not be checked");
            false
        })
    }

    /// What the end-session endpoint handed to the logout page as `logoutId` (or
    /// [`Self::sign_out`] to the logged-out page): the validated post-logout redirect URI, the
    /// client and its `state`, and once the session ended, its clients' front-channel logout
    /// URLs. `None` for an id that was not issued by a server with this session secret, or is
    /// more than an hour old.
    pub async fn logout_context(&self, logout_id: &str) -> Result<Option<LogoutContext>> {
        let state = self.state();
        let Some(message) = read_logout_id(state, logout_id) else {
            return Ok(None);
        };
        let client_name = match &message.client_id {
            Some(client_id) => state.enabled_client(client_id).await?.and_then(|client| client.client_name),
            None => None,
        };
        Ok(Some(LogoutContext {
            front_channel_logout_urls: message.front_channel_logout_urls(state).await?,
            client_id: message.client_id,
            client_name,
            post_logout_redirect_uri: message.post_logout_redirect_uri,
            state: message.state,
            show_signout_prompt: message.show_signout_prompt,
            subject_id: message.subject_id,
        }))
    }
}

/// The message sealed in a logout id, unless the id is not this server's or has expired.
pub(super) fn read_logout_id(state: &ServerState, logout_id: &str) -> Option<LogoutMessage> {
    let message = state.protector.unprotect::<LogoutMessage>(Purpose::Logout, logout_id)?;
    (state.clock.now() < message.expires_at).then_some(message)
}

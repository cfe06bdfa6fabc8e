//! Validation of authorization requests (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core
//! §3.1.2.1), shared by the authorize endpoint and the host's interaction API, which reads the
//! same request back from a return URL.
//!
//! Until the client and its redirect URI are validated, an error can only be shown to the user
//! ([`AuthorizeError::Fatal`]): redirecting to an unvalidated URI would make the server an open
//! redirector. After that, errors go back to the client ([`AuthorizeError::Redirect`]).

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::browser::{append_query, error_page, redirect, server_error_page};
use super::error::ErrorCode;
use super::form::FormParams;
use super::pkce;
use super::scopes::{parse_scope_parameter, validate_scopes};
use crate::crypto::Purpose;
use crate::error::{Error, Result};
use crate::model::client::{Client, GrantType};
use crate::model::resources::RequestedResources;
use crate::protocol::paths::AUTHORIZE_PATH;
use crate::state::ServerState;

/// Longest accepted `nonce`, as IdentityServer's input length restrictions.
const MAX_NONCE_LENGTH: usize = 300;
/// Longest accepted `login_hint`, as IdentityServer's input length restrictions.
const MAX_LOGIN_HINT_LENGTH: usize = 100;

const PROMPT: &str = "prompt";
const MAX_AGE: &str = "max_age";
/// The parameter that stands for a `prompt=login` already sent to the login page (see
/// [`AuthorizeRequest::return_url`]); not an OpenID Connect parameter.
const LOGIN_PROMPT_MARKER: &str = "login_prompted";

/// The `prompt` values of a request (OpenID Connect Core §3.1.2.1, and `create` from Initiating
/// User Registration via OpenID Connect 1.0); `select_account` is not supported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// Show no page: fail with `login_required` or `consent_required` instead.
    pub(crate) none: bool,
    /// Sign the user in again, even with a session.
    pub(crate) login: bool,
    /// Ask for consent again, even when it is remembered.
    pub(crate) consent: bool,
    /// Show the host's registration page first (only when it has one).
    pub(crate) create: bool,
}

impl Prompt {
    fn parse(value: Option<&str>) -> Result<Self, &'static str> {
        let mut prompt = Self::default();
        for mode in value.unwrap_or_default().split(' ').filter(|mode| !mode.is_empty()) {
            match mode {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "create" => prompt.create = true,
                _ => return Err("a prompt value is not supported"),
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.create) {
            return Err("prompt=none cannot be combined with other prompt values");
        }
        Ok(prompt)
    }
}

/// An error to send back to the client's (validated) redirect URI.
#[derive(Debug)]
pub(crate) struct ErrorRedirect {
    redirect_uri: String,
    state: Option<String>,
    code: ErrorCode,
    description: Option<Cow<'static, str>>,
}

impl ErrorRedirect {
    /// The redirect URI with `error`, `error_description`, `state` and `iss` (RFC 9207).
    pub(crate) fn url(&self, issuer: &str) -> String {
        let mut params = vec![("error", self.code.as_str())];
        params.extend(self.description.as_deref().map(|description| ("error_description", description)));
        params.extend(self.state.as_deref().map(|state| ("state", state)));
        params.push(("iss", issuer));
        append_query(&self.redirect_uri, params)
    }

    pub(crate) fn response(&self, issuer: &str) -> Response {
        tracing::info!(error = self.code.as_str(), "authorization request answered with an error");
        redirect(&self.url(issuer))
    }
}

/// Why an authorization request cannot go on.
#[derive(Debug)]
pub(crate) enum AuthorizeError {
    /// Before the client and redirect URI were validated: shown to the user, never redirected.
    Fatal(ErrorCode, &'static str),
    /// Sent back to the client.
    Redirect(ErrorRedirect),
    /// The server failed.
    Failed(Error),
}

impl From<Error> for AuthorizeError {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl AuthorizeError {
    pub(crate) fn response(&self, issuer: &str) -> Response {
        match self {
            Self::Fatal(code, description) => {
                tracing::info!(error = code.as_str(), description, "authorization request refused");
                error_page(StatusCode::BAD_REQUEST, *code, description)
            }
            Self::Redirect(redirect) => redirect.response(issuer),
            Self::Failed(error) => server_error_page(error),
        }
    }
}

/// A validated authorization request. Not `Debug`: it holds the raw parameters.
pub(crate) struct AuthorizeRequest {
    pub(crate) client: Client,
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) resources: RequestedResources,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) prompt: Prompt,
    pub(crate) max_age: Option<TimeDelta>,
    pub(crate) login_hint: Option<String>,
    /// Only a sign-in at or after this instant satisfies the request: the time of the original
    /// request that asked for `prompt=login` (or `max_age=0`), carried by a sealed marker in the
    /// login page's return URL.
    pub(crate) authenticated_since: Option<DateTime<Utc>>,
    /// The parameters as received, to rebuild the request as a return URL.
    params: FormParams,
}

impl AuthorizeRequest {
    /// An error for the client, keeping the request's `state`.
    pub(crate) fn error(&self, code: ErrorCode, description: impl Into<Cow<'static, str>>) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            code,
            description: Some(description.into()),
        }
    }

    /// The request as a URL relative to the host, for the login, registration and consent pages
    /// to return to. `prompt=login` and `max_age=0` are replaced by a sealed marker holding the
    /// time of this request, or the user would be sent to log in again and again; the marker is
    /// satisfied only by a sign-in after it, so reloading the return URL does not skip the new
    /// login. `prompt=create` is dropped: the registration page was shown.
    pub(crate) fn return_url(&self, state: &ServerState) -> Result<String> {
        let prompt_without_login = self.params.get(PROMPT).map(|prompt| {
            prompt.split(' ').filter(|mode| !matches!(*mode, "login" | "create")).collect::<Vec<_>>().join(" ")
        });
        let marker = self
            .prompt
            .login
            .then(|| {
                state.protector.protect(Purpose::LoginPrompt, &LoginPromptMarker { requested_at: state.clock.now() })
            })
            .transpose()?;
        let params = self
            .params
            .sorted()
            .into_iter()
            .filter_map(|(name, value)| match name {
                PROMPT => {
                    prompt_without_login.as_deref().filter(|prompt| !prompt.is_empty()).map(|prompt| (name, prompt))
                }
                MAX_AGE if value == "0" => None,
                LOGIN_PROMPT_MARKER if marker.is_some() => None,
                _ => Some((name, value)),
            })
            .chain(marker.as_deref().map(|marker| (LOGIN_PROMPT_MARKER, marker)));
        Ok(append_query(&state.local_endpoint_url(AUTHORIZE_PATH), params))
    }
}

/// The parameters of a return URL that points at this server's authorize endpoint, given
/// relative to the host or absolute; `None` for any other URL.
pub(crate) fn authorize_params_from_return_url(state: &ServerState, return_url: &str) -> Option<FormParams> {
    let path_and_query = return_url
        .strip_prefix(state.issuer.as_str())
        .or_else(|| return_url.strip_prefix(state.issuer_path.as_str()))?;
    let query = path_and_query.strip_prefix(AUTHORIZE_PATH)?.strip_prefix('?')?;
    if query.contains('#') {
        return None;
    }
    FormParams::try_parse(query.as_bytes()).ok()
}

/// The client and redirect URI of a request, or the reason to show an error page.
async fn client_and_redirect_uri(state: &ServerState, params: &FormParams) -> Result<(Client, String), AuthorizeError> {
    let fatal = |description| AuthorizeError::Fatal(ErrorCode::InvalidRequest, description);
    let client_id = params.get("client_id").ok_or_else(|| fatal("the client_id parameter is required"))?;
    let Some(client) = state.enabled_client(client_id).await? else {
        tracing::info!(client_id, "authorization request for an unknown or disabled client");
        return Err(AuthorizeError::Fatal(ErrorCode::InvalidClient, "the client is unknown or disabled"));
    };
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| fatal("the redirect_uri parameter is required"))?;
    if !client.redirect_uris.iter().any(|registered| registered == redirect_uri) {
        tracing::info!(client_id, "authorization request with an unregistered redirect_uri");
        return Err(fatal("the redirect_uri is not registered for this client"));
    }
    let redirect_uri = redirect_uri.to_owned();
    Ok((client, redirect_uri))
}

/// Validates an authorization request for the code flow.
pub(crate) async fn validate_authorize_request(
    state: &ServerState,
    params: FormParams,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let (client, redirect_uri) = client_and_redirect_uri(state, &params).await?;
    let request_state = params.get("state").map(str::to_owned);
    let fail = |code: ErrorCode, description: Cow<'static, str>| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            state: request_state.clone(),
            code,
            description: Some(description),
        })
    };
    let invalid = |description: &'static str| fail(ErrorCode::InvalidRequest, description.into());

    if params.get("request").is_some() {
        return Err(fail(ErrorCode::RequestNotSupported, "request objects are not supported".into()));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(ErrorCode::RequestUriNotSupported, "request objects are not supported".into()));
    }
    match params.get("response_type") {
        None => return Err(invalid("the response_type parameter is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(ErrorCode::UnsupportedResponseType, "only the code response type is supported".into()));
        }
    }
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(invalid("only the query response mode is supported"));
    }
    if !client.allows_grant_type(GrantType::AuthorizationCode) {
        return Err(fail(ErrorCode::UnauthorizedClient, "the client may not use the authorization code flow".into()));
    }

    let scope =
        params.get("scope").ok_or_else(|| fail(ErrorCode::InvalidScope, "the scope parameter is required".into()))?;
    let resources = validate_scopes(
        state.resources.as_ref(),
        &client,
        Some(parse_scope_parameter(scope)),
        GrantType::AuthorizationCode,
    )
    .await
    .map_err(|error| fail(error.code(), error.description().cloned().unwrap_or_default()))?;
    if !resources.is_openid() && !resources.resources().identity_resources.is_empty() {
        return Err(fail(ErrorCode::InvalidScope, "identity scopes need the openid scope".into()));
    }

    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (None, None) if client.require_pkce => return Err(invalid("a PKCE code_challenge is required")),
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
        // RFC 7636 §4.3: a missing method means `plain`, which is not supported.
        (Some(_), method) if method != Some(pkce::S256) => {
            return Err(invalid("only the S256 code_challenge_method is supported"));
        }
        (Some(challenge), _) if !pkce::is_valid_challenge(challenge) => {
            return Err(invalid("the code_challenge is malformed"));
        }
        (Some(challenge), _) => Some(challenge.to_owned()),
    };

    let nonce = params.get("nonce");
    if nonce.is_some_and(|nonce| nonce.len() > MAX_NONCE_LENGTH) {
        return Err(invalid("the nonce is too long"));
    }
    let mut prompt = Prompt::parse(params.get(PROMPT)).map_err(invalid)?;
    if prompt.create && state.options.create_account_url.is_none() {
        return Err(invalid("prompt=create is not supported: this server has no registration page"));
    }
    let max_age = match params.get(MAX_AGE) {
        None => None,
        Some(value) => {
            let seconds = value.parse::<u32>().map_err(|_| invalid("max_age must be a non-negative integer"))?;
            Some(TimeDelta::seconds(i64::from(seconds)))
        }
    };
    // As IdentityServer: max_age=0 asks for a fresh login, like prompt=login.
    if max_age == Some(TimeDelta::zero()) {
        prompt.login = true;
    }
    let authenticated_since = match params.get(LOGIN_PROMPT_MARKER) {
        None => None,
        Some(sealed) => match state.protector.unprotect::<LoginPromptMarker>(Purpose::LoginPrompt, sealed) {
            Some(marker) => Some(marker.requested_at),
            None => return Err(invalid("the login prompt marker is not valid")),
        },
    };
    let login_hint = params.get("login_hint");
    if login_hint.is_some_and(|hint| hint.len() > MAX_LOGIN_HINT_LENGTH) {
        return Err(invalid("the login_hint is too long"));
    }

    Ok(AuthorizeRequest {
        nonce: nonce.map(str::to_owned),
        login_hint: login_hint.map(str::to_owned),
        client,
        redirect_uri,
        state: request_state,
        resources,
        code_challenge,
        prompt,
        max_age,
        authenticated_since,
        params,
    })
}

/// The sealed content of [`LOGIN_PROMPT_MARKER`].
#[derive(Serialize, Deserialize)]
struct LoginPromptMarker {
    requested_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values_are_parsed_and_none_stands_alone() {
        assert_eq!(Prompt::parse(None), Ok(Prompt::default()));
        let both = Prompt::parse(Some("login consent")).expect("valid");
        assert!(both.login && both.consent && !both.none);
        assert!(Prompt::parse(Some("none")).is_ok_and(|prompt| prompt.none));
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("select_account")).is_err());
        assert!(Prompt::parse(Some("create")).is_ok_and(|prompt| prompt.create && !prompt.login));
        assert!(Prompt::parse(Some("none create")).is_err());
    }

    #[test]
    fn error_redirects_carry_state_and_issuer() {
        let error = ErrorRedirect {
            redirect_uri: "https://app/cb".into(),
            state: Some("s 1".into()),
            code: ErrorCode::LoginRequired,
            description: Some("sign in".into()),
        };
        assert_eq!(
            error.url("https://id"),
            "https://app/cb?error=login_required&error_description=sign+in&state=s+1&iss=https%3A%2F%2Fid"
        );
    }
}

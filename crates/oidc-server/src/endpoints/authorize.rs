//! The authorize endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2): the authorization-code
//! flow with PKCE, answered in the query of the client's redirect URI.
//!
//! A valid request meets the sign-in session: without one (or with `prompt=login`, a `max_age`
//! exceeded, an inactive user, or a one-factor sign-in for a client that requires two) the
//! browser goes to the host's login page; when the client
//! needs consent that is not yet given it goes to the host's consent page; with `prompt=create`
//! it goes to the host's registration page first. Every page gets a `returnUrl` back to this
//! endpoint. Otherwise a one-time code is issued.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use super::SharedState;
use crate::claims::{Subject, authentication_methods};
use crate::error::{Error, Result};
use crate::protocol::authorize_request::{AuthorizeRequest, validate_authorize_request};
use crate::protocol::browser::{append_query, error_page, log_failure, redirect};
use crate::protocol::error::ErrorCode;
use crate::protocol::form::FormParams;
use crate::services::consent::{ConsentDecision, check_consent};
use crate::services::profile::IsActiveCaller;
use crate::session::{UserSession, current_session};
use crate::state::ServerState;
use crate::tokens::authorization_code::{AuthorizationCodePayload, issue_authorization_code};

/// The parameter that carries the URL back to the authorize endpoint to the login and consent
/// pages.
const RETURN_URL_PARAMETER: &str = "returnUrl";

pub(super) async fn authorize(
    State(state): State<SharedState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = match FormParams::from_browser_request(&method, &headers, &uri, &body) {
        Ok(params) => params,
        Err(description) => return error_page(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, description),
    };
    let request = match validate_authorize_request(&state, params).await {
        Ok(request) => request,
        Err(error) => return error.response(&state.issuer),
    };
    let current = match current_session(&state, &headers).await {
        Ok(current) => current,
        Err(error) => return server_error(&state, &request, &error),
    };
    let mut response = match respond(&state, &request, current.session.as_ref()).await {
        Ok(response) => response,
        Err(error) => server_error(&state, &request, &error),
    };
    current.append_set_cookie(response.headers_mut());
    response
}

/// A failure inside the server, reported to the client as `server_error`, or as
/// `temporarily_unavailable` when retrying shortly may succeed.
fn server_error(state: &ServerState, request: &AuthorizeRequest, error: &Error) -> Response {
    if let Error::Unavailable(reason) = error {
        tracing::warn!(%reason, "authorize request refused: the server is temporarily unavailable");
        let description = "the server is busy; retry shortly";
        return request.error(ErrorCode::TemporarilyUnavailable, description).response(&state.issuer);
    }
    log_failure(error);
    request.error(ErrorCode::ServerError, "the server failed to handle the request").response(&state.issuer)
}

/// The host page at `page_url`, told how to come back.
fn interaction_redirect(state: &ServerState, request: &AuthorizeRequest, page_url: &str) -> Result<Response> {
    Ok(redirect(&append_query(page_url, [(RETURN_URL_PARAMETER, request.return_url(state)?.as_str())])))
}

async fn respond(state: &ServerState, request: &AuthorizeRequest, session: Option<&UserSession>) -> Result<Response> {
    if request.prompt.create
        && let Some(create_account_url) = &state.options.create_account_url
    {
        return interaction_redirect(state, request, create_account_url);
    }
    let (Some(subject), Some(session)) = (signed_in_subject(state, request, session).await?, session) else {
        return sign_in_needed(state, request);
    };
    let client = &request.client;
    let requested = request.resources.scope_values();
    let decision = if client.require_consent || request.prompt.consent {
        check_consent(state, &subject.subject_id, client, requested, request.prompt.consent).await?
    } else {
        ConsentDecision::Granted(requested.to_vec())
    };
    let scopes = match decision {
        ConsentDecision::Granted(scopes) => scopes,
        ConsentDecision::Required if request.prompt.none => {
            return Ok(request.error(ErrorCode::ConsentRequired, "the user must consent").response(&state.issuer));
        }
        ConsentDecision::Required => return interaction_redirect(state, request, &state.options.consent_url),
        ConsentDecision::Denied => {
            return Ok(request.error(ErrorCode::AccessDenied, "the user denied the request").response(&state.issuer));
        }
    };
    let payload = AuthorizationCodePayload {
        subject,
        redirect_uri: request.redirect_uri.clone(),
        scopes,
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
    };
    // The client is recorded before it gets a code, so that it hears of the session's end; a
    // session ended meanwhile (logout at another tab or instance) issues nothing.
    if !state.sessions.add_client(&session.session_id, &client.client_id).await? {
        return sign_in_needed(state, request);
    }
    let code = issue_authorization_code(state, client, &payload).await?;
    tracing::info!(client_id = %client.client_id, "authorization code issued");
    let mut params = vec![("code", code.as_str())];
    params.extend(request.state.as_deref().map(|value| ("state", value)));
    params.push(("iss", state.issuer.as_str()));
    Ok(redirect(&append_query(&request.redirect_uri, params)))
}

/// The answer when nobody (or nobody acceptable) is signed in: `login_required` for
/// `prompt=none`, else the login page.
fn sign_in_needed(state: &ServerState, request: &AuthorizeRequest) -> Result<Response> {
    if request.prompt.none {
        return Ok(request.error(ErrorCode::LoginRequired, "the user must sign in").response(&state.issuer));
    }
    interaction_redirect(state, request, &state.options.login_url)
}

/// The session's user, unless the request wants a new login or the user may no longer sign in.
async fn signed_in_subject(
    state: &ServerState,
    request: &AuthorizeRequest,
    session: Option<&UserSession>,
) -> Result<Option<Subject>> {
    let Some(session) = session else {
        return Ok(None);
    };
    if request.prompt.login {
        return Ok(None);
    }
    let subject = &session.subject;
    if request.authenticated_since.is_some_and(|since| subject.authentication_time < since) {
        tracing::debug!("the request asked for a sign-in after it, and the session is older");
        return Ok(None);
    }
    if let Some(max_age) = request.max_age
        && state.clock.now() - subject.authentication_time > max_age
    {
        tracing::debug!("the session is older than max_age");
        return Ok(None);
    }
    if request.client.require_two_factor && !subject.has_authentication_method(authentication_methods::MULTIPLE_FACTORS)
    {
        tracing::debug!("the client requires two-factor and the session signed in with one factor");
        return Ok(None);
    }
    if !state.is_user_active(subject, &request.client, IsActiveCaller::AuthorizeEndpoint).await? {
        tracing::info!(subject_id = %subject.subject_id, "inactive user must sign in again");
        return Ok(None);
    }
    Ok(Some(subject.clone()))
}

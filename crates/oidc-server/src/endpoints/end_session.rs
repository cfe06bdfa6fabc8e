//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0).
//!
//! With a valid `id_token_hint` for the signed-in user (or when nobody is signed in) the session
//! ends at once and the browser goes to the validated `post_logout_redirect_uri` (with `state`)
//! or to the host's logged-out page; to the logged-out page also when a client of the session
//! has a front-channel logout URI, since that page's iframes tell it (the page then sends the
//! browser on to the `post_logout_redirect_uri` by itself). Otherwise the host's logout page asks the user to confirm;
//! it gets a sealed `logoutId` that [`crate::OidcServer::logout_context`] reads back.
//!
//! A `post_logout_redirect_uri` is followed only when it is registered for the client named by
//! the hint (or by `client_id`); anything else is ignored, so the endpoint cannot be used as an
//! open redirector.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;

use super::SharedState;
use crate::crypto::Purpose;
use crate::error::Error;
use crate::interaction::{LOGOUT_ID_PARAMETER, LogoutMessage};
use crate::protocol::browser::{append_query, error_page, redirect, server_error_page};
use crate::protocol::error::ErrorCode;
use crate::protocol::form::FormParams;
use crate::session::current_session;
use crate::state::ServerState;
use crate::tokens::id_token::validate_id_token_hint;

/// Why the request cannot be served.
enum EndSessionError {
    Invalid(&'static str),
    Failed(Error),
}

impl From<Error> for EndSessionError {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

pub(super) async fn end_session(
    State(state): State<SharedState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let result = match FormParams::from_browser_request(&method, &headers, &uri, &body) {
        Ok(params) => respond(&state, &headers, &params).await,
        Err(description) => Err(EndSessionError::Invalid(description)),
    };
    match result {
        Ok(response) => response,
        Err(EndSessionError::Invalid(description)) => {
            tracing::info!(description, "end-session request refused");
            error_page(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, description)
        }
        Err(EndSessionError::Failed(error)) => server_error_page(&error),
    }
}

async fn respond(state: &ServerState, headers: &HeaderMap, params: &FormParams) -> Result<Response, EndSessionError> {
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => Some(
            validate_id_token_hint(state, token)
                .await?
                .ok_or(EndSessionError::Invalid("the id_token_hint is invalid"))?,
        ),
    };
    let client_id = match (hint.as_ref().map(|hint| hint.client_id.as_str()), params.get("client_id")) {
        (Some(from_hint), Some(parameter)) if from_hint != parameter => {
            return Err(EndSessionError::Invalid("the client_id does not match the id_token_hint"));
        }
        (from_hint, parameter) => from_hint.or(parameter),
    };
    let client = match client_id {
        Some(client_id) => state.enabled_client(client_id).await?,
        None => None,
    };
    let post_logout_redirect_uri = match (params.get("post_logout_redirect_uri"), &client) {
        (Some(uri), Some(client)) if client.post_logout_redirect_uris.iter().any(|registered| registered == uri) => {
            Some(uri.to_owned())
        }
        (Some(_), _) => {
            tracing::info!(client_id, "unregistered post_logout_redirect_uri ignored");
            None
        }
        (None, _) => None,
    };
    let logout_state = post_logout_redirect_uri.as_ref().and(params.get("state")).map(str::to_owned);

    let current = current_session(state, headers).await?;
    let signs_out_now = hint.as_ref().is_some_and(|hint| {
        current.session.as_ref().is_none_or(|session| session.subject.subject_id == hint.subject_id)
    });
    let message = LogoutMessage::new(
        state,
        client.map(|client| client.client_id),
        post_logout_redirect_uri,
        logout_state,
        !signs_out_now,
        hint.as_ref().map(|hint| hint.subject_id.clone()),
    )?;
    if signs_out_now {
        // Everything that can fail comes before the session ends, so a failure leaves the user
        // signed in rather than half signed out.
        let stored = match &current.session {
            Some(session) => state.sessions.get(&session.session_id).await?,
            None => None,
        };
        let message = match &stored {
            Some(stored) => message.with_ended_session(stored),
            None => message,
        };
        // Clients to tell through the browser need the logged-out page's iframes first; that
        // page then goes on to the client by itself.
        let front_channel = !message.front_channel_logout_urls(state).await?.is_empty();
        let location = match message.post_logout_redirect_url() {
            Some(url) if !front_channel => url,
            _ => logout_page_url(state, &state.options.logged_out_url, &message)?,
        };
        if let Some(stored) = &stored {
            state.sessions.delete(&stored.session_id).await?;
        }
        let mut response = redirect(&location);
        response.headers_mut().append(header::SET_COOKIE, state.session.clear_cookie());
        tracing::info!(client_id = ?message.client_id, "user signed out at the end-session endpoint");
        return Ok(response);
    }
    let mut response = redirect(&logout_page_url(state, &state.options.logout_url, &message)?);
    current.append_set_cookie(response.headers_mut());
    Ok(response)
}

fn logout_page_url(state: &ServerState, page_url: &str, message: &LogoutMessage) -> Result<String, Error> {
    let logout_id = state.protector.protect(Purpose::Logout, message)?;
    Ok(append_query(page_url, [(LOGOUT_ID_PARAMETER, logout_id.as_str())]))
}

//! The logout pages (the template's `Account/Logout` and `Account/Logout/LoggedOut`): a
//! confirmation unless the end-session endpoint showed that the client asked for this user's
//! logout, then the signed-out page with a link back to the client's validated post-logout
//! redirect URI (with its `state`), when there is one.
//!
//! The signed-out page loads the front-channel logout URL of every client the session got
//! tokens from in an invisible iframe (OpenID Connect Front-Channel Logout 1.0); its content
//! security policy allows exactly those URLs' origins as frames. When the client asked for the
//! logout without a prompt, the page goes on to its post-logout redirect URI by itself (a
//! `meta` refresh, since the pages run no script) a moment later, once the iframes have loaded.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use oidc_server::LogoutContext;

use super::html::render;
use super::{LOGOUT_ID, PageResult, Pages, Params, internal_error, see_other, undecodable, with_cookies, with_param};

/// The signed-out page's path (the token server's default `logged_out_url`).
const LOGGED_OUT_PATH: &str = "/account/logout/loggedout";

/// "Would you like to log out?"
#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    title: &'a str,
    csrf: String,
    logout_id: Option<&'a str>,
}

/// How long the signed-out page waits before going on to the client by itself, so that the
/// front-channel iframes load first.
const AUTOMATIC_REDIRECT_SECONDS: u32 = 2;

/// "You are now logged out", with the way back to the client.
#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutPage<'a> {
    title: &'a str,
    post_logout_redirect_url: Option<String>,
    client_name: Option<&'a str>,
    /// The clients' front-channel logout URLs, each loaded in an iframe.
    front_channel_urls: &'a [String],
    /// The `meta` refresh that goes on to `post_logout_redirect_url` by itself
    /// (`seconds;url=…`), when the client asked for the logout.
    refresh: Option<String>,
}

/// What the end-session endpoint handed over, if the logout id is valid.
async fn context(pages: &Pages, logout_id: Option<&str>) -> Result<Option<LogoutContext>, Response> {
    match logout_id {
        Some(logout_id) if !logout_id.is_empty() => {
            pages.server().logout_context(logout_id).await.map_err(internal_error)
        }
        _ => Ok(None),
    }
}

/// Ends the request's session (for every copy of its cookie), deletes the cookie and goes to the
/// signed-out page, with a logout id that carries the end-session request's and the ended
/// session's clients.
async fn sign_out(pages: &Pages, headers: &HeaderMap, logout_id: Option<&str>) -> PageResult {
    let logout_id = logout_id.filter(|logout_id| !logout_id.is_empty());
    let signed_out = pages.server().sign_out(headers, logout_id).await.map_err(internal_error)?;
    let target = match &signed_out.logout_id {
        Some(logout_id) => with_param(LOGGED_OUT_PATH, LOGOUT_ID, logout_id),
        None => LOGGED_OUT_PATH.to_owned(),
    };
    Ok(with_cookies(see_other(&target), [signed_out.set_cookie]))
}

/// `GET /account/logout?logoutId=…`: the confirmation, or straight to signing out for a visitor
/// without a session or when no prompt is needed.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    let logout_id = query.get(LOGOUT_ID);
    let current = pages.session(&headers).await?;
    let Some(session) = &current.session else {
        return sign_out(&pages, &headers, logout_id).await;
    };
    // Without a prompt only the user the client named is signed out: a logout id alone (which
    // anyone can get for their own id token) never signs someone else out.
    let prompt = context(&pages, logout_id).await?.is_none_or(|context| context.signout_prompt_needed(session));
    if !prompt {
        return sign_out(&pages, &headers, logout_id).await;
    }
    let page = pages.form_page(&headers, |csrf| LogoutPage { title: "Logout", csrf, logout_id });
    Ok(with_cookies(page, current.set_cookie))
}

/// `POST /account/logout`: signs out.
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    sign_out(&pages, &headers, form.get(LOGOUT_ID)).await
}

/// `GET /account/logout/loggedout?logoutId=…`: "You are now logged out", with the way back to
/// the client and the front-channel iframes.
pub(super) async fn logged_out(State(pages): State<Pages>, RawQuery(query): RawQuery) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    let context = context(&pages, query.get(LOGOUT_ID)).await?;
    let front_channel_urls = context.as_ref().map_or(&[][..], |context| &context.front_channel_logout_urls);
    let post_logout_redirect_url = context.as_ref().and_then(LogoutContext::post_logout_redirect_url);
    let asked_by_client = context.as_ref().is_some_and(|context| !context.show_signout_prompt);
    let page = LoggedOutPage {
        title: "Logout",
        refresh: post_logout_redirect_url
            .as_ref()
            .filter(|_| asked_by_client)
            .map(|url| format!("{AUTOMATIC_REDIRECT_SECONDS};url={url}")),
        post_logout_redirect_url,
        client_name: context
            .as_ref()
            .and_then(|context| context.client_name.as_deref().or(context.client_id.as_deref())),
        front_channel_urls,
    };
    let mut response = render(StatusCode::OK, &page);
    if !front_channel_urls.is_empty() {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, pages.policy_with_frames(front_channel_urls).await);
    }
    Ok(response)
}

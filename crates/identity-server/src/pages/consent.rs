//! The consent page (the template's `Consent`): the scopes a client asks for, grouped as
//! personal information (identity resources) and application access (API scopes and offline
//! access), each a checkbox; required ones are checked and cannot be unticked. "Yes" records the
//! kept scopes (remembered on request, when the client allows it) and returns to the authorize
//! endpoint; "No" tells the client `access_denied`. A visitor without a session signs in first.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use oidc_server::{AuthorizationContext, RequestedScope, ScopeKind, UserSession};

use super::html::ClientDisplay;
use super::login::login_redirect;
use super::{PageResult, Pages, RETURN_URL, bad_request, internal_error, query_return_url, with_cookies};

/// The message when "Yes" was pressed with nothing ticked, as the template words it.
const NOTHING_PICKED: &str = "You must pick at least one permission";

/// A titled group of scopes.
struct ScopeGroup<'a> {
    title: &'static str,
    scopes: Vec<&'a RequestedScope>,
}

/// The consent form: the scopes as checkboxes, grouped. A required scope's checkbox is disabled
/// (and so not sent), so it also travels as a hidden field.
#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    title: &'a str,
    csrf: String,
    return_url: &'a str,
    client: Option<ClientDisplay>,
    groups: Vec<ScopeGroup<'a>>,
    allow_remember: bool,
    error: Option<&'a str>,
}

/// The consent page for `context`.
fn consent_page<'a>(
    context: &'a AuthorizationContext,
    return_url: &'a str,
    error: Option<&'a str>,
    csrf: String,
) -> ConsentPage<'a> {
    let group = |title, belongs: fn(ScopeKind) -> bool| ScopeGroup {
        title,
        scopes: context.scopes.iter().filter(|scope| belongs(scope.kind)).collect(),
    };
    let groups = [
        group("Personal Information", |kind| kind == ScopeKind::Identity),
        group("Application Access", |kind| kind != ScopeKind::Identity),
    ];
    ConsentPage {
        title: "Consent",
        csrf,
        return_url,
        client: Some(ClientDisplay::of(context)),
        groups: groups.into_iter().filter(|group| !group.scopes.is_empty()).collect(),
        allow_remember: context.allow_remember_consent,
        error,
    }
}

/// The session and the authorization request of a consent page, or the response that ends it:
/// the login page without a session, a 400 page for a return URL that is no valid request.
async fn prerequisites(
    pages: &Pages,
    headers: &HeaderMap,
    return_url: &str,
) -> Result<(UserSession, Option<HeaderValue>, AuthorizationContext), Response> {
    let current = pages.session(headers).await?;
    let Some(session) = current.session else {
        return Err(with_cookies(login_redirect(return_url), current.set_cookie));
    };
    let Some(context) = pages.authorization_context(return_url).await? else {
        return Err(with_cookies(bad_request("There is no valid request to consent to."), current.set_cookie));
    };
    Ok((session, current.set_cookie, context))
}

/// `GET /consent?returnUrl=…`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    let return_url = &query_return_url(query)?;
    let (_, renewed, context) = prerequisites(&pages, &headers, return_url).await?;
    let page = pages.form_page(&headers, |csrf| consent_page(&context, return_url, None, csrf));
    Ok(with_cookies(page, renewed))
}

/// `POST /consent`: "yes" with the ticked scopes, or "no".
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    let (session, renewed, context) = prerequisites(&pages, &headers, return_url).await?;
    let response = match form.get("button") {
        Some("yes") => {
            let scopes: Vec<&str> = context
                .scopes
                .iter()
                .filter(|scope| scope.required || form.all("scope").any(|picked| picked == scope.name))
                .map(|scope| scope.name.as_str())
                .collect();
            if scopes.is_empty() {
                pages.form_page(&headers, |csrf| consent_page(&context, return_url, Some(NOTHING_PICKED), csrf))
            } else {
                let remember = context.allow_remember_consent && form.get("rememberConsent") == Some("true");
                let subject_id = &session.subject.subject_id;
                pages
                    .server()
                    .grant_consent(subject_id, &context.client_id, scopes, remember)
                    .await
                    .map_err(internal_error)?;
                pages.return_to(return_url).await
            }
        }
        Some("no") => pages.deny(return_url).await?,
        _ => bad_request("Invalid selection."),
    };
    Ok(with_cookies(response, renewed))
}

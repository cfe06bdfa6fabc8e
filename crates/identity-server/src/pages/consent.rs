//! The consent page (the template's `Consent`): the scopes a client asks for, grouped as
//! personal information (identity resources) and application access (API scopes and offline
//! access), each a checkbox; required ones are checked and cannot be unticked. "Yes" records the
//! kept scopes (remembered on request, when the client allows it) and returns to the authorize
//! endpoint; "No" tells the client `access_denied`. A visitor without a session signs in first.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use oidc_server::{AuthorizationContext, RequestedScope, ScopeKind, UserSession};

use super::html::{button, error_paragraph, escape, form_start, hidden};
use super::login::login_redirect;
use super::{PageResult, Pages, Params, RETURN_URL, bad_request, internal_error, refused, undecodable, with_cookies};

/// The message when "Yes" was pressed with nothing ticked, as the template words it.
const NOTHING_PICKED: &str = "You must pick at least one permission";

/// One checkbox.
fn scope_item(scope: &RequestedScope) -> String {
    let name = escape(&scope.name);
    let description = scope
        .description
        .as_deref()
        .map(|description| format!("<br><small>{}</small>", escape(description)))
        .unwrap_or_default();
    // A disabled checkbox is not sent, so a required scope also travels as a hidden field.
    let (disabled, carried) =
        if scope.required { (" disabled", hidden("scope", &scope.name)) } else { ("", String::new()) };
    format!(
        "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{name}\" checked{disabled}> {display}{required}</label>{description}</li>\n{carried}",
        display = escape(&scope.display_name),
        required = if scope.required { " <em>(required)</em>" } else { "" },
    )
}

/// A titled list of the scopes that `belongs` picks, or nothing when there are none.
fn scope_group(title: &str, scopes: &[RequestedScope], belongs: impl Fn(ScopeKind) -> bool) -> String {
    let items: String = scopes.iter().filter(|scope| belongs(scope.kind)).map(scope_item).collect();
    if items.is_empty() { String::new() } else { format!("<h2>{}</h2>\n<ul>\n{items}</ul>\n", escape(title)) }
}

fn render(context: &AuthorizationContext, return_url: &str, error: Option<&str>, csrf_token: &str) -> String {
    let client = context.client_name.as_deref().unwrap_or(&context.client_id);
    let remember = if context.allow_remember_consent {
        "<p><label><input type=\"checkbox\" name=\"rememberConsent\" value=\"true\" checked> Remember my decision</label></p>\n"
    } else {
        ""
    };
    format!(
        "<p><strong>{client}</strong> is requesting your permission.</p>\n{error}{form}{return_url}{identity}{api}{remember}\
         <p>{yes}{no}</p>\n</form>",
        client = escape(client),
        error = error_paragraph(error),
        form = form_start("/consent", csrf_token),
        return_url = hidden(RETURN_URL, return_url),
        identity = scope_group("Personal Information", &context.scopes, |kind| kind == ScopeKind::Identity),
        api = scope_group("Application Access", &context.scopes, |kind| kind != ScopeKind::Identity),
        yes = button("yes", "Yes, Allow"),
        no = button("no", "No, Do Not Allow"),
    )
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
    let query = Params::query(query).ok_or_else(undecodable)?;
    let return_url = query.get(RETURN_URL).unwrap_or_default();
    let (_, renewed, context) = prerequisites(&pages, &headers, return_url).await?;
    let page = pages.form_page(&headers, "Consent", |token| render(&context, return_url, None, token));
    Ok(with_cookies(page, renewed))
}

/// `POST /consent`: "yes" with the ticked scopes, or "no".
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = Params::parse(&body).ok_or_else(undecodable)?;
    pages.check_csrf(&headers, &form).map_err(refused)?;
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
                pages.form_page(&headers, "Consent", |token| render(&context, return_url, Some(NOTHING_PICKED), token))
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

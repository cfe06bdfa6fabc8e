//! The login page (the template's `Account/Login`): user name, password and "remember me",
//! checked by `SignInManager::password_sign_in` with lockout on failure. Every failure (unknown
//! user, wrong password, locked out, not allowed) shows the same message; an unknown user name
//! costs a dummy password verification like a known one. "Cancel" tells the client
//! `access_denied`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use identity_core::SignInResult;
use identity_oidc::password_session_subject;

use super::html::{button, error_paragraph, escape, form_start, hidden};
use super::{
    LOGIN_PATH, PageResult, Pages, Params, RETURN_URL, internal_error, refused, see_other, undecodable, with_cookies,
};

/// The message of every failed sign-in, as the template words it.
const INVALID_CREDENTIALS: &str = "Invalid username or password";

/// What the form shows.
struct LoginForm<'a> {
    return_url: &'a str,
    user_name: &'a str,
    client_name: Option<&'a str>,
    error: Option<&'a str>,
}

impl LoginForm<'_> {
    fn render(&self, csrf_token: &str) -> String {
        let client = self
            .client_name
            .map(|name| format!("<p>Sign in to continue to <strong>{}</strong>.</p>\n", escape(name)))
            .unwrap_or_default();
        format!(
            "{client}{error}{form}{return_url}\
             <p><label for=\"username\">Username</label><br>\
             <input id=\"username\" name=\"username\" value=\"{user_name}\" autocomplete=\"username\" required autofocus></p>\n\
             <p><label for=\"password\">Password</label><br>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\n\
             <p><label><input type=\"checkbox\" name=\"rememberLogin\" value=\"true\"> Remember my login</label></p>\n\
             <p>{login}{cancel}</p>\n</form>",
            error = error_paragraph(self.error),
            form = form_start(LOGIN_PATH, csrf_token),
            return_url = hidden(RETURN_URL, self.return_url),
            user_name = escape(self.user_name),
            login = button("login", "Login"),
            cancel = button("cancel", "Cancel"),
        )
    }
}

/// The form for `return_url`: the user name as typed, or else the request's `login_hint`.
async fn form_page(
    pages: &Pages,
    headers: &HeaderMap,
    return_url: &str,
    user_name: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let context = pages.authorization_context(return_url).await?;
    let form = LoginForm {
        return_url,
        user_name: user_name
            .or_else(|| context.as_ref().and_then(|context| context.login_hint.as_deref()))
            .unwrap_or_default(),
        client_name: context.as_ref().map(|context| context.client_name.as_deref().unwrap_or(&context.client_id)),
        error,
    };
    Ok(pages.form_page(headers, "Login", |token| form.render(token)))
}

/// `GET /account/login?returnUrl=…`: the form, the user name prefilled from the request's
/// `login_hint`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    form_page(&pages, &headers, query.get(RETURN_URL).unwrap_or_default(), None, None).await
}

/// `POST /account/login`: signs in and goes back to the return URL, or shows the one message.
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = Params::parse(&body).ok_or_else(undecodable)?;
    pages.check_csrf(&headers, &form).map_err(refused)?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    if form.get("button") == Some("cancel") {
        return pages.deny(return_url).await;
    }
    let user_name = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let remember = form.get("rememberLogin") == Some("true");
    let (result, user) =
        // No browser is remembered for two-factor yet, and there is no two-factor step: a user to
        // whom two-factor applies gets the generic failure, as Duende's template answers.
        pages.inner.sign_in.password_sign_in(user_name, password, true, false).await.map_err(internal_error)?;
    match (result, user) {
        (SignInResult::Success, Some(user)) => {
            let users = pages.users();
            let subject = password_session_subject(users, &user, pages.server().now()).await.map_err(internal_error)?;
            let session = pages.server().sign_in(subject, remember).await.map_err(internal_error)?;
            Ok(with_cookies(pages.return_to(return_url).await, [session.set_cookie]))
        }
        (result, _) => {
            tracing::info!(?user_name, %result, "login failed");
            form_page(&pages, &headers, return_url, Some(user_name), Some(INVALID_CREDENTIALS)).await
        }
    }
}

/// The login page for a user who must sign in before going on to `return_url`.
pub(super) fn login_redirect(return_url: &str) -> axum::response::Response {
    see_other(&super::with_param(LOGIN_PATH, RETURN_URL, return_url))
}

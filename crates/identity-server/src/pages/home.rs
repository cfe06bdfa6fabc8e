//! The home page (who is signed in, links to discovery and logout) and the plain error page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::html::{escape, message, page};
use super::{PageResult, Pages, with_cookies};

/// `GET /`.
pub(super) async fn home(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let current = pages.session(&headers).await?;
    let user = match &current.session {
        Some(session) => pages.user_name(session).await?,
        None => None,
    };
    let status = match user {
        Some(user_name) => format!(
            "<p>Signed in as <strong>{}</strong>. <a href=\"/account/manage/sessions\">Your sessions</a> \
             <a href=\"/account/logout\">Log out</a></p>\n",
            escape(&user_name)
        ),
        None => "<p>Not signed in.</p>\n".to_owned(),
    };
    let body = format!(
        "<p>An OpenID Connect token server with ASP.NET Core Identity users.</p>\n{status}\
         <p><a href=\"/.well-known/openid-configuration\">Discovery document</a></p>"
    );
    Ok(with_cookies(page(StatusCode::OK, "Welcome", &body), current.set_cookie))
}

/// `GET /error`.
pub(super) async fn error() -> axum::response::Response {
    message(StatusCode::OK, "Error", "Sorry, there was an error.")
}

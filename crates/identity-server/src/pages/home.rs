//! The home page (who is signed in, links to discovery and logout) and the plain error page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::html::{message, render};
use super::{PageResult, Pages, with_cookies};

/// The home page.
#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    title: &'static str,
    user_name: Option<String>,
}

/// `GET /`.
pub(super) async fn home(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let current = pages.session(&headers).await?;
    let user_name = match &current.session {
        Some(session) => pages.user_name(session).await?,
        None => None,
    };
    let page = render(StatusCode::OK, &HomePage { title: "Welcome", user_name });
    Ok(with_cookies(page, current.set_cookie))
}

/// `GET /error`.
pub(super) async fn error() -> axum::response::Response {
    message(StatusCode::OK, "Error", "Sorry, there was an error.")
}

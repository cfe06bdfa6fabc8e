//! The pages' HTML: askama templates (`templates/` in this crate, compiled in and checked at
//! build time, every interpolated value HTML-escaped), one layout and one stylesheet
//! (`/css/site.css`, [`super::assets`]). No JavaScript and no inline styles: the content security
//! policy forbids both.
//!
//! Every page template extends `layout.html`, which reads the page's `title`; pages with a form
//! carry the CSRF token as `csrf` (see [`super::Pages::form_page`]), and pages that can show an
//! error carry it as `error`, rendered by `alert.html` as the form's `role="alert"` summary.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oidc_server::AuthorizationContext;

/// `template` rendered as an HTML response with `status`; a template that fails to render (it
/// cannot, short of a formatting error) gives a plain 500.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(document) => {
            let content_type = HeaderValue::from_static("text/html; charset=utf-8");
            (status, [(header::CONTENT_TYPE, content_type)], document).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "Sorry, there was an error.").into_response()
        }
    }
}

/// A page with one paragraph of text.
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: &'a str,
}

/// A page with one paragraph of text (escaped by the template).
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(status, &MessagePage { title, text })
}

/// An instant as the pages show it (`2026-12-05 07:25 UTC`).
pub(crate) fn display_time(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The client a login or consent page is for, as `client.html` shows it.
#[derive(Debug)]
pub(crate) struct ClientDisplay {
    /// Its display name, or its id when it has none.
    pub(crate) name: String,
    /// Its logo, an absolute https URL (or http on loopback) checked when the client was loaded.
    pub(crate) logo_uri: Option<String>,
}

impl ClientDisplay {
    /// The client of an authorization request.
    pub(crate) fn of(context: &AuthorizationContext) -> Self {
        Self {
            name: context.client_name.clone().unwrap_or_else(|| context.client_id.clone()),
            logo_uri: context.logo_uri.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interpolated_value_is_escaped() {
        let page = MessagePage { title: "<script>", text: r#"<a href="x">'&'</a>"# }.render().expect("renders");
        assert!(page.contains("<title>&#60;script&#62; - identity-server</title>"), "{page}");
        assert!(page.contains("<p>&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;</p>"), "{page}");
        assert!(page.contains(r#"<link rel="stylesheet" href="/css/site.css">"#));
    }
}

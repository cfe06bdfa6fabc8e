//! The pages' HTML: one layout, HTML escaping for every interpolated value, and the pieces the
//! forms share (the CSRF field, hidden fields, buttons). No template engine: each page is a
//! `format!` of escaped values into fixed markup, with no JavaScript and no inline styles (the
//! content security policy forbids both).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::csrf::CSRF_FIELD;

/// `text` with the five HTML-significant characters replaced by entities: safe in element
/// content and in double- or single-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A complete page: `title` (escaped here) as the heading, `body` (already HTML) below it.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let title = escape(title);
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - identity-server</title>\n</head>\n<body>\n<header><a href=\"/\">identity-server</a></header>\n\
         <main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    );
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    (status, [(header::CONTENT_TYPE, content_type)], document).into_response()
}

/// A page with one paragraph of text (escaped here).
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(text)))
}

/// The start of a POST form to `action`, with the CSRF token as its first field.
pub(crate) fn form_start(action: &str, csrf_token: &str) -> String {
    format!("<form method=\"post\" action=\"{}\">\n{}", escape(action), hidden(CSRF_FIELD, csrf_token))
}

/// A hidden field.
pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", escape(name), escape(value))
}

/// A submit button that posts `button=value`.
pub(crate) fn button(value: &str, label: &str) -> String {
    format!("<button type=\"submit\" name=\"button\" value=\"{}\">{}</button>\n", escape(value), escape(label))
}

/// An error message shown above a form, if any.
pub(crate) fn error_paragraph(error: Option<&str>) -> String {
    error.map(|error| format!("<p role=\"alert\"><strong>{}</strong></p>\n", escape(error))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_significant_character_is_escaped() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("alice é"), "alice é");
    }

    #[test]
    fn fields_escape_names_and_values() {
        assert_eq!(
            hidden("returnUrl", "/x?a=1&b=\"2\""),
            "<input type=\"hidden\" name=\"returnUrl\" value=\"/x?a=1&amp;b=&quot;2&quot;\">\n"
        );
    }
}

//! Responses to browsers at the authorize and end-session endpoints: redirects, and the plain
//! error page shown when the server cannot safely redirect.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ErrorCode, RETRY_AFTER_SECONDS};
use crate::error::Error;

/// `url` with `params` added to its query (after any query it has, before any fragment), each
/// form-url-encoded.
pub(crate) fn append_query<'a>(url: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let (without_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(params);
    let query = serializer.finish();
    let mut result = without_fragment.to_owned();
    if !query.is_empty() {
        result.push(if without_fragment.contains('?') { '&' } else { '?' });
        result.push_str(&query);
    }
    if let Some(fragment) = fragment {
        result.push('#');
        result.push_str(fragment);
    }
    result
}

/// A `302 Found` to `location` that caches must not store.
pub(crate) fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response(),
        Err(_) => {
            tracing::error!("a redirect location is not a valid header value");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::ServerError, "the redirect failed")
        }
    }
}

/// A plain-text error page. Only the server's own fixed descriptions are shown, never request
/// data, so nothing a request carries is reflected into the page.
pub(crate) fn error_page(status: StatusCode, code: ErrorCode, description: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        format!("{}: {description}\n", code.as_str()),
    )
        .into_response()
}

/// Logs a failure inside the server; the browser only learns that the server failed.
pub(crate) fn log_failure(error: &Error) {
    tracing::error!(error = %error, source = ?std::error::Error::source(error), "browser request failed");
}

/// The 500 page for a failure inside the server (503 when it is temporarily unavailable); the
/// cause goes to the log only.
pub(crate) fn server_error_page(error: &Error) -> Response {
    if let Error::Unavailable(reason) = error {
        tracing::warn!(%reason, "browser request refused: the server is temporarily unavailable");
        let mut page = error_page(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::TemporarilyUnavailable, "retry shortly");
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        return page;
    }
    log_failure(error);
    error_page(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::ServerError, "the server failed to handle the request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_appended_to_any_query_and_before_the_fragment() {
        assert_eq!(
            append_query("https://a/cb", [("code", "x y"), ("state", "s&t")]),
            "https://a/cb?code=x+y&state=s%26t"
        );
        assert_eq!(append_query("https://a/cb?x=1", [("code", "c")]), "https://a/cb?x=1&code=c");
        assert_eq!(append_query("/login#top", [("returnUrl", "/a?b=c")]), "/login?returnUrl=%2Fa%3Fb%3Dc#top");
        assert_eq!(append_query("https://a/cb", []), "https://a/cb");
    }

    #[test]
    fn redirects_are_302_and_not_cacheable() {
        let response = redirect("https://a/cb?code=c");
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[header::LOCATION], "https://a/cb?code=c");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(redirect("bad\nlocation").status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}

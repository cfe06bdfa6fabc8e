//! JSON responses with the caching headers token-endpoint-style responses need.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON response that caches must not store (RFC 6749 §5.1: `Cache-Control: no-store` and
/// `Pragma: no-cache`), for anything carrying tokens, token metadata or errors.
pub(crate) fn no_store_json(status: StatusCode, body: &impl Serialize) -> Response {
    let mut response = json(status, body);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "could not serialise a response body");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

//! One access-log line per request (target `access`, level `info`): method, path without the
//! query string (which can carry codes and tokens), status, duration and a request id. The id is
//! the client's `x-request-id` when it sends a plausible one (1 to 64 letters, digits, `.`, `_`
//! or `-`), else a new random one; it is returned as `x-request-id` and is a field of every log
//! line written while the request is served, so one request's lines can be found together.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// The header that carries the request id both ways.
const REQUEST_ID: &str = "x-request-id";
/// The longest request id taken from a client.
const MAX_REQUEST_ID_LENGTH: usize = 64;

/// The client's request id when it is safe to log and echo, else a new one.
fn request_id(request: &Request) -> String {
    let offered = request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok());
    let plausible = |id: &&str| {
        (1..=MAX_REQUEST_ID_LENGTH).contains(&id.len())
            && id.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-'))
    };
    offered.filter(plausible).map_or_else(|| format!("{:032x}", rand::random::<u128>()), str::to_owned)
}

/// Logs the request once it is answered, inside a span that carries its id.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(target: "access", %method, %path, status, duration_ms, "request"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(id: &str) -> Request {
        let value = HeaderValue::from_bytes(id.as_bytes()).expect("a header value");
        Request::builder().header(REQUEST_ID, value).body(axum::body::Body::empty()).expect("a request")
    }

    #[test]
    fn plausible_client_ids_are_kept_and_others_replaced() {
        assert_eq!(request_id(&with_id("abc-123_x.y")), "abc-123_x.y");
        for hostile in ["", "a b", "id;drop", "<script>", &"a".repeat(65), "ünïcode"] {
            let id = request_id(&with_id(hostile));
            assert_ne!(id, hostile);
            assert_eq!(id.len(), 32, "a fresh id: {id}");
        }
        let fresh = request_id(&Request::new(axum::body::Body::empty()));
        assert_eq!(fresh.len(), 32);
        assert_ne!(fresh, request_id(&Request::new(axum::body::Body::empty())), "ids differ");
    }
}

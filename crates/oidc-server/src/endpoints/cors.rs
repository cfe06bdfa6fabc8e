//! CORS for browser clients (a single-page application using the code flow with PKCE): the
//! discovery, JWKS, token, userinfo and revocation endpoints answer cross-origin requests from
//! exactly the origins an enabled client lists in `allowed_cors_origins` (IdentityServer's
//! `AllowedCorsOrigins`). A preflight (`OPTIONS` with `Access-Control-Request-Method`) gets
//! `204` with the methods and headers those endpoints take; every answer to such an origin
//! carries `Access-Control-Allow-Origin` with it. Any other origin gets no CORS headers, so the
//! browser keeps the answer from its page. Credentials (cookies) are never allowed cross-origin:
//! these endpoints authenticate with headers and form fields.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::SharedState;
use crate::protocol::paths::{DISCOVERY_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH, USERINFO_PATH};

/// The endpoints a browser client calls from script.
const CORS_PATHS: [&str; 5] = [DISCOVERY_PATH, JWKS_PATH, TOKEN_PATH, USERINFO_PATH, REVOCATION_PATH];
/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Answers preflights and adds the CORS headers for allowed origins on [`CORS_PATHS`].
pub(super) async fn cors(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let (Some(origin), true) = (origin, CORS_PATHS.contains(&request.uri().path())) else {
        return next.run(request).await;
    };
    let allowed = match origin.to_str() {
        Ok(origin) => state.clients.is_allowed_cors_origin(origin).await.unwrap_or_else(|error| {
            tracing::error!(%error, "the allowed CORS origins could not be read; the origin is refused");
            false
        }),
        Err(_) => false,
    };
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    // The answer depends on the origin: caches must not give one origin's answer to another.
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            headers
                .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type"));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
        }
    } else {
        tracing::debug!("cross-origin request from an origin no client allows");
    }
    response
}

//! CORS for browser clients: preflights and answers on the discovery, JWKS, token, userinfo and
//! revocation endpoints carry `Access-Control-Allow-Origin` for exactly the origins a client
//! allows; other origins and other endpoints get no CORS headers.

use crate::support::{NO_PASSWORD_APP, SPA_ORIGIN, TestServer, form};

/// Sends `method path` from `origin`, as a preflight when `preflight`; returns the status and the
/// `Access-Control-Allow-*` headers that came back.
async fn cross_origin(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    origin: &str,
    preflight: bool,
) -> (u16, Option<String>, Option<String>, Option<String>) {
    let mut request = server.http.request(method, server.url(path)).header("origin", origin);
    if preflight {
        request = request.header("access-control-request-method", "POST");
    } else if path == "/connect/token" {
        let body = form(&[("grant_type", "client_credentials"), ("scope", "orders.read")]);
        request = request
            .basic_auth(NO_PASSWORD_APP.0, Some(NO_PASSWORD_APP.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
    }
    let response = request.send().await.expect("answered");
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().expect("ascii").to_owned());
    let allow_origin = header("access-control-allow-origin");
    let allow_methods = header("access-control-allow-methods");
    let vary = header("vary");
    (response.status().as_u16(), allow_origin, allow_methods, vary)
}

#[tokio::test]
async fn only_the_origins_clients_allow_get_cors_answers() {
    let server = TestServer::start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks",
        "/connect/token",
        "/connect/userinfo",
        "/connect/revocation",
    ] {
        let (status, origin, methods, vary) =
            cross_origin(&server, reqwest::Method::OPTIONS, path, SPA_ORIGIN, true).await;
        assert_eq!(status, 204, "{path}");
        assert_eq!(origin.as_deref(), Some(SPA_ORIGIN), "{path}");
        assert_eq!(methods.as_deref(), Some("GET, POST"), "{path}");
        assert_eq!(vary.as_deref(), Some("Origin"), "{path}");
        let (_, origin, methods, _) =
            cross_origin(&server, reqwest::Method::OPTIONS, path, "https://evil.example", true).await;
        assert_eq!((origin, methods), (None, None), "{path}: a foreign origin gets nothing");
    }
    let (status, origin, _, _) =
        cross_origin(&server, reqwest::Method::GET, "/.well-known/openid-configuration", SPA_ORIGIN, false).await;
    assert_eq!((status, origin.as_deref()), (200, Some(SPA_ORIGIN)));
    let (status, origin, _, _) =
        cross_origin(&server, reqwest::Method::POST, "/connect/token", SPA_ORIGIN, false).await;
    assert_eq!((status, origin.as_deref()), (200, Some(SPA_ORIGIN)));
    let (_, origin, _, _) =
        cross_origin(&server, reqwest::Method::GET, "/.well-known/jwks", "https://spa.example.com.evil.example", false)
            .await;
    assert_eq!(origin, None, "the origin must match exactly");
    // The interactive endpoints are for the browser itself, never for script on another origin.
    let (_, origin, _, _) = cross_origin(&server, reqwest::Method::GET, "/connect/authorize", SPA_ORIGIN, false).await;
    assert_eq!(origin, None);
}

//! The HTTP side of tests: [`TestClient`] for a server on a base URL (the in-process router
//! or the real binary), [`Response`] read completely with the checks tests repeat, and the
//! helpers for forms, query strings and JWT payloads.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::secrets;

/// A client for the server at `base` that never follows redirects (tests look at them), with
/// a cookie store when made by [`with_cookies`](Self::with_cookies).
#[derive(Debug, Clone)]
pub struct TestClient {
    base: String,
    http: reqwest::Client,
}

impl TestClient {
    /// A client without cookies.
    pub fn new(base: impl Into<String>) -> Self {
        Self::build(base.into(), reqwest::Client::builder())
    }

    /// A client that keeps cookies, as a browser does.
    pub fn with_cookies(base: impl Into<String>) -> Self {
        Self::build(base.into(), reqwest::Client::builder().cookie_store(true))
    }

    fn build(base: String, builder: reqwest::ClientBuilder) -> Self {
        let http = builder.redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
        Self { base, http }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying `reqwest` client, for client libraries such as `openidconnect`.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// GETs `path_or_url` (a path on the server, or an absolute URL), with a bearer token when
    /// given.
    pub async fn get(&self, path_or_url: &str, bearer: Option<&str>) -> Response {
        let mut request = self.http.get(self.absolute(path_or_url));
        if let Some(token) = bearer {
            secrets::remember(token);
            request = request.bearer_auth(token);
        }
        Response::read(request.send().await.expect("the request is sent")).await
    }

    /// POSTs `pairs` as a form, with HTTP Basic client authentication when given.
    pub async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, pairs: &[(&str, &str)]) -> Response {
        self.post_encoded(path, basic, form(pairs)).await
    }

    /// POSTs an already encoded form body (for malformed bodies).
    pub async fn post_encoded(&self, path: &str, basic: Option<(&str, &str)>, body: String) -> Response {
        remember_form_body(&body);
        let mut request =
            self.http.post(self.absolute(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some((client_id, secret)) = basic {
            secrets::remember(secret);
            request = request.basic_auth(client_id, Some(secret));
        }
        Response::read(request.send().await.expect("the request is sent")).await
    }

    fn absolute(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        }
    }
}

/// A response read completely.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// Reads `response` to the end.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("the body is read");
        secrets::remember_response(&headers, &body);
        Self { status, headers, body }
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `Location` of a 302 or 303.
    pub fn redirect_location(&self) -> Option<&str> {
        [302, 303].contains(&self.status).then(|| self.header("location")).flatten()
    }

    /// The `Location` of a redirect, which this response must be.
    pub fn location(&self) -> &str {
        self.redirect_location().unwrap_or_else(|| panic!("not a redirect: {} {}", self.status, self.body))
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers.get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()).collect()
    }

    /// Asserts an RFC 6749 §5.2 error response with `status` and `error`.
    pub fn assert_oauth_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.json()["error"], error, "{}", self.body);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("content-type"), Some("application/json"));
    }

    /// Asserts a 400 whose JSON body has `error`.
    pub fn assert_error(&self, error: &str) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert_eq!(self.json()["error"], error, "{}", self.body);
    }

    /// Asserts a 400 `invalid_grant` with IdentityServer's one description for every password
    /// failure.
    pub fn assert_invalid_credentials(&self) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert_eq!(
            self.json(),
            serde_json::json!({"error": "invalid_grant", "error_description": "invalid_username_or_password"})
        );
    }

    /// Asserts a 200 JSON response (such as a token response) and returns it.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }
}

/// `application/x-www-form-urlencoded` for `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    for (name, value) in pairs {
        secrets::remember_field(name, value);
    }
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Remembers the secret fields of an encoded form body (which may be malformed on purpose).
pub fn remember_form_body(body: &str) {
    for (name, value) in form_urlencoded::parse(body.as_bytes()) {
        secrets::remember_field(&name, &value);
    }
}

/// The parameters of a URL's query (or of a relative URL such as a `returnUrl`).
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The value of one query parameter of `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_params(url).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

/// The payload of a JWT, read without checking the signature (tests that care verify it).
pub fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("a JSON payload")
}

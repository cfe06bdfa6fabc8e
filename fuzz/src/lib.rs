//! What the fuzz targets share: the password they verify against, the guard that keeps stored
//! hashes whose cost is slow *by design* away from the hashers, and an in-process token server.
//!
//! The guard mirrors the verifier: an ASP.NET Identity V3 header may ask for up to `i32::MAX`
//! PBKDF2 iterations and an Argon2 PHC string for any number of passes (as in .NET and the argon2
//! crate), which would make libFuzzer report a slow input rather than a bug. Within the guard's
//! limits, every input must verify quickly.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use chrono::DateTime;
use oidc_server::{ApiScope, Client, GrantType, ManualClock, OidcServer, ServerOptions, SigningAlgorithm};
use serde_json::Value;
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

/// The password every stored hash is verified against.
pub const PASSWORD: &str = "my password";
/// The most PBKDF2 iterations a V3 header may ask for here.
pub const MAX_ITERATIONS: u32 = 2_000;
/// The most Argon2 passes a PHC string may ask for here.
pub const MAX_PASSES: u64 = 16;
/// The Argon2 verification memory limit (KiB) of the hashers under test.
pub const MEMORY_LIMIT_KIB: u32 = 64;

/// .NET's base64 as the verifier reads it: the unused bits of the last character are ignored.
const DOTNET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

/// Whether verifying `stored` is quick: no V3 header asking for more than [`MAX_ITERATIONS`], no
/// `t=` asking for more than [`MAX_PASSES`].
pub fn cheap_to_verify(stored: &str) -> bool {
    let compact: Vec<u8> = stored.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    let iterations = DOTNET_BASE64.decode(compact).ok().and_then(|bytes| {
        let field = bytes.get(5..9).filter(|_| bytes.first() == Some(&1))?;
        Some(u32::from_be_bytes(field.try_into().ok()?))
    });
    let passes = stored.match_indices("t=").map(|(at, _)| {
        let digits = stored[at + 2..].bytes().take_while(u8::is_ascii_digit);
        digits.fold(0_u64, |n, digit| n.saturating_mul(10).saturating_add(u64::from(digit - b'0')))
    });
    iterations.is_none_or(|count| count <= MAX_ITERATIONS) && passes.max().unwrap_or(0) <= MAX_PASSES
}

pub const ISSUER: &str = "https://id.example";
pub const TOKEN: &str = "/connect/token";
pub const INTROSPECTION: &str = "/connect/introspect";
pub const REVOCATION: &str = "/connect/revocation";
pub const USERINFO: &str = "/connect/userinfo";
/// The one client: confidential, client credentials for the `api` scope.
pub const CLIENT: (&str, &str) = ("rs", "rs secret");

/// A token server on a fixed clock with an Ed25519 key, called through its router, and a genuine
/// access token of [`CLIENT`].
pub struct Server {
    runtime: Runtime,
    router: Router,
    genuine_token: String,
}

impl Server {
    /// The process's server, started on first use.
    pub fn get() -> &'static Self {
        static SERVER: LazyLock<Server> = LazyLock::new(Server::start);
        &SERVER
    }

    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let mut options = ServerOptions::default();
        options.key_management.signing_algorithms = vec![SigningAlgorithm::EdDsa];
        let clock = ManualClock::new(DateTime::from_timestamp(1_736_942_400, 0).expect("a valid instant"));
        let client = Client::new(CLIENT.0)
            .with_secret(CLIENT.1)
            .with_grant_types([GrantType::ClientCredentials])
            .with_scopes(["api"]);
        let builder = OidcServer::builder(ISSUER)
            .options(options)
            .clients([client])
            .api_scopes([ApiScope::new("api")])
            .clock(Arc::new(clock));
        let server = runtime.block_on(builder.build()).expect("the server builds");
        let mut this = Self { runtime, router: server.router(), genuine_token: String::new() };
        let grant = form(&[("grant_type", "client_credentials")]);
        let (status, body) = this.post_form(TOKEN, Some(basic(CLIENT.0, CLIENT.1)), grant);
        assert_eq!(status, StatusCode::OK, "{body}");
        this.genuine_token = body["access_token"].as_str().expect("an access token").to_owned();
        this
    }

    /// A valid access token of [`CLIENT`].
    pub fn genuine_token(&self) -> &str {
        &self.genuine_token
    }

    /// Sends a request through the router; the status and the body as JSON (`null` if it is not).
    pub fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.expect("the router never fails");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a readable body");
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        })
    }

    /// POSTs a form body to `path`, with an `Authorization` header if given.
    pub fn post_form(&self, path: &str, authorization: Option<HeaderValue>, body: Vec<u8>) -> (StatusCode, Value) {
        let mut request =
            Request::builder().method(Method::POST).uri(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        self.send(request.body(Body::from(body)).expect("a valid request"))
    }

    /// Introspects `token` as [`CLIENT`].
    pub fn introspect(&self, token: &str) -> (StatusCode, Value) {
        self.post_form(INTROSPECTION, Some(basic(CLIENT.0, CLIENT.1)), form(&[("token", token)]))
    }

    /// GETs the userinfo endpoint with an `Authorization` header; the status.
    pub fn userinfo(&self, authorization: HeaderValue) -> StatusCode {
        let request = Request::builder().uri(USERINFO).header(AUTHORIZATION, authorization).body(Body::empty());
        self.send(request.expect("a valid request")).0
    }
}

/// A `client_secret_basic` header (RFC 6749 §2.3.1).
pub fn basic(client_id: &str, secret: &str) -> HeaderValue {
    let encode = |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
    HeaderValue::from_str(&format!("Basic {credentials}")).expect("base64 is a valid header value")
}

/// An `application/x-www-form-urlencoded` body.
pub fn form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

/// Whether an introspection answer says "not active".
pub fn inactive(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::OK && *body == serde_json::json!({ "active": false })
}

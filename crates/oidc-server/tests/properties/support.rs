//! The server the properties talk to: built per test on a fixed clock with Ed25519 keys, called in
//! process through its router, with a client store that knows the clients a property registers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oidc_server::{ApiScope, Client, ClientStore, GrantType, OidcServer, ServerOptions, SigningAlgorithm};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use test_support::clock::manual_clock;
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

pub(crate) const ISSUER: &str = "https://id.example";
pub(crate) const TOKEN: &str = "/connect/token";
pub(crate) const INTROSPECTION: &str = "/connect/introspect";
pub(crate) const REVOCATION: &str = "/connect/revocation";
pub(crate) const USERINFO: &str = "/connect/userinfo";
/// The API scope every registered client may ask for.
pub(crate) const API_SCOPE: &str = "api";
/// A confidential client registered in every fixture: it gets tokens and introspects them.
pub(crate) const RESOURCE_SERVER: (&str, &str) = ("rs", "rs secret");

/// Client-credentials clients, by id, with their plain-text secrets.
#[derive(Default)]
pub(crate) struct RegisteredClients {
    secrets: Mutex<HashMap<String, String>>,
}

impl RegisteredClients {
    /// Registers (or re-registers) a client that may use the client-credentials grant for
    /// [`API_SCOPE`].
    pub(crate) fn register(&self, client_id: &str, secret: &str) {
        self.secrets.lock().expect("not poisoned").insert(client_id.to_owned(), secret.to_owned());
    }
}

#[oidc_server::async_trait]
impl ClientStore for RegisteredClients {
    async fn find_client_by_id(&self, client_id: &str) -> oidc_server::Result<Option<Client>> {
        let secret = self.secrets.lock().expect("not poisoned").get(client_id).cloned();
        Ok(secret.map(|secret| {
            Client::new(client_id)
                .with_secret(&secret)
                .with_grant_types([GrantType::ClientCredentials])
                .with_scopes([API_SCOPE])
        }))
    }
}

/// A token server on its own single-threaded runtime.
pub(crate) struct Fixture {
    runtime: Runtime,
    router: Router,
    pub(crate) clients: Arc<RegisteredClients>,
}

impl Fixture {
    /// Builds the server, with [`RESOURCE_SERVER`] registered.
    pub(crate) fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let clients = Arc::new(RegisteredClients::default());
        clients.register(RESOURCE_SERVER.0, RESOURCE_SERVER.1);
        let mut options = ServerOptions::default();
        // An Ed25519 key is made in microseconds, an RSA key in a good part of a second.
        options.key_management.signing_algorithms = vec![SigningAlgorithm::EdDsa];
        let builder = OidcServer::builder(ISSUER)
            .options(options)
            .client_store(clients.clone())
            .api_scopes([ApiScope::new(API_SCOPE)])
            .clock(Arc::new(manual_clock()));
        let server = runtime.block_on(builder.build()).expect("the server builds");
        Self { runtime, router: server.router(), clients }
    }

    /// Sends a request through the router; the status and the body as JSON (`null` if it is not).
    pub(crate) fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.expect("the router never fails");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a readable body");
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        })
    }

    /// POSTs a form body to `path`, with an `Authorization` header if given.
    pub(crate) fn post_form(
        &self,
        path: &str,
        authorization: Option<HeaderValue>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut request =
            Request::builder().method(Method::POST).uri(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        self.send(request.body(Body::from(body)).expect("a valid request"))
    }

    /// GETs the userinfo endpoint with an `Authorization` header; the status.
    pub(crate) fn userinfo(&self, authorization: HeaderValue) -> StatusCode {
        let request = Request::builder().uri(USERINFO).header(AUTHORIZATION, authorization).body(Body::empty());
        self.send(request.expect("a valid request")).0
    }

    /// An access token of a registered client (client-credentials grant).
    pub(crate) fn access_token(&self, (client_id, secret): (&str, &str)) -> String {
        let grant = form(&[("grant_type", "client_credentials")]);
        let (status, body) = self.post_form(TOKEN, Some(basic(client_id, secret)), grant);
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("an access token").to_owned()
    }

    /// Introspects `token` as [`RESOURCE_SERVER`].
    pub(crate) fn introspect(&self, token: &str) -> (StatusCode, Value) {
        let (client_id, secret) = RESOURCE_SERVER;
        self.post_form(INTROSPECTION, Some(basic(client_id, secret)), form(&[("token", token)]))
    }
}

/// A `client_secret_basic` header: id and secret form-urlencoded (RFC 6749 §2.3.1), joined by a
/// colon, in padded base64.
pub(crate) fn basic(client_id: &str, secret: &str) -> HeaderValue {
    let encode = |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
    HeaderValue::from_str(&format!("Basic {credentials}")).expect("base64 is a valid header value")
}

/// An `application/x-www-form-urlencoded` body.
pub(crate) fn form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

/// The JSON of a JWT's `index`th part (0 header, 1 payload); `null` if it has none.
pub(crate) fn jwt_part(token: &str, index: usize) -> Value {
    let decoded = token.split('.').nth(index).and_then(|part| URL_SAFE_NO_PAD.decode(part).ok());
    decoded.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or(Value::Null)
}

/// Whether an introspection answer says "not active".
pub(crate) fn inactive(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::OK && *body == serde_json::json!({ "active": false })
}

/// Runs a property over `cases` values of `strategy`, for properties that need a [`Fixture`]
/// built once rather than per case; panics with the smallest failing value.
pub(crate) fn check<S: Strategy>(cases: u32, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = Config { failure_persistence: None, ..Config::with_cases(cases) };
    if let Err(failure) = TestRunner::new(config).run(&strategy, property) {
        panic!("{failure}");
    }
}

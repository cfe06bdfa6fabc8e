//! A running test server with in-memory users, and helpers to talk to it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::TimeDelta;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IntrospectionUrl, TokenUrl};
use oidc_server::{
    ApiResource, ApiScope, Client, Clock as _, GrantType, IdentityResource, InMemoryPersistedGrantStore,
    IsActiveContext, ManualClock, OidcServer, ProfileDataRequestContext, ProfileService, RefreshTokenUsage,
    ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator, ServerBuilder, SessionValidator, Subject,
    SystemClock, TokenClaim, UserSession,
};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{IssuerUrl, RedirectUrl};
use serde_json::Value;
pub(crate) use test_support::http::Response as RawResponse;
pub(crate) use test_support::http::{form, jwt_payload, query_param, query_params};

pub(crate) const ALICE_PASSWORD: &str = "alice's password";

/// A user of the in-memory user store.
struct TestUser {
    user_name: &'static str,
    password: &'static str,
    subject_id: &'static str,
    claims: Vec<TokenClaim>,
}

/// Users in memory: the profile service and password validator the host would write.
pub(crate) struct TestUsers {
    users: Vec<TestUser>,
    inactive: Mutex<HashSet<String>>,
    /// Calls of `is_active` and of `get_profile_data` on their own.
    separate_calls: AtomicUsize,
    /// Calls of `get_profile_data_if_active` (both questions at once).
    combined_calls: AtomicUsize,
}

impl TestUsers {
    fn new() -> Self {
        Self {
            users: vec![
                TestUser {
                    user_name: "alice",
                    password: ALICE_PASSWORD,
                    subject_id: "1",
                    claims: vec![
                        TokenClaim::new("name", "Alice Smith"),
                        TokenClaim::new("given_name", "Alice"),
                        TokenClaim::new("email", "alice@example.com"),
                        TokenClaim::new("email_verified", true),
                        TokenClaim::new("role", "admin"),
                        TokenClaim::new("role", "user"),
                    ],
                },
                TestUser {
                    user_name: "bob",
                    password: "bob's password",
                    subject_id: "2",
                    claims: vec![TokenClaim::new("name", "Bob")],
                },
            ],
            inactive: Mutex::new(HashSet::new()),
            separate_calls: AtomicUsize::new(0),
            combined_calls: AtomicUsize::new(0),
        }
    }

    /// How often the server asked the profile service so far: (separate, combined) calls.
    pub(crate) fn profile_calls(&self) -> (usize, usize) {
        (self.separate_calls.load(Ordering::SeqCst), self.combined_calls.load(Ordering::SeqCst))
    }

    fn profile_claims(&self, context: &mut ProfileDataRequestContext<'_>) {
        if let Some(user) = self.users.iter().find(|user| user.subject_id == context.subject.subject_id) {
            context.add_requested_claims(user.claims.clone());
        }
    }

    fn active(&self, context: &mut IsActiveContext<'_>) {
        context.is_active = !self.inactive.lock().expect("not poisoned").contains(&context.subject.subject_id);
    }

    /// Marks a user inactive (as if disabled or deleted).
    pub(crate) fn deactivate(&self, subject_id: &str) {
        self.inactive.lock().expect("not poisoned").insert(subject_id.to_owned());
    }
}

#[oidc_server::async_trait]
impl ProfileService for TestUsers {
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> oidc_server::Result<()> {
        self.separate_calls.fetch_add(1, Ordering::SeqCst);
        self.profile_claims(context);
        Ok(())
    }

    async fn is_active(&self, context: &mut IsActiveContext<'_>) -> oidc_server::Result<()> {
        self.separate_calls.fetch_add(1, Ordering::SeqCst);
        self.active(context);
        Ok(())
    }

    /// Both answers from one "read", as a store-backed service would give them.
    async fn get_profile_data_if_active(
        &self,
        active: &mut IsActiveContext<'_>,
        profile: &mut ProfileDataRequestContext<'_>,
    ) -> oidc_server::Result<()> {
        self.combined_calls.fetch_add(1, Ordering::SeqCst);
        self.active(active);
        if active.is_active {
            self.profile_claims(profile);
        }
        Ok(())
    }
}

#[oidc_server::async_trait]
impl ResourceOwnerPasswordValidator for TestUsers {
    async fn validate(&self, context: &mut ResourceOwnerPasswordValidationContext<'_>) -> oidc_server::Result<()> {
        let user =
            self.users.iter().find(|user| user.user_name == context.user_name && user.password == context.password);
        if let Some(user) = user {
            context.succeed(user.subject_id, "pwd");
        }
        Ok(())
    }
}

/// Clients of the test server: (client id, secret).
pub(crate) const MACHINE: (&str, &str) = ("m2m", "m2m secret");
pub(crate) const APP: (&str, &str) = ("app", "app secret");
pub(crate) const REUSE_APP: (&str, &str) = ("reuse-app", "reuse secret");
pub(crate) const NO_PASSWORD_APP: (&str, &str) = ("no-password", "no-password secret");
/// A secret with characters that client_secret_basic must form-url-encode.
pub(crate) const ENCODED_APP: (&str, &str) = ("encoded:app", "s3cr3t+/:% ü");
/// Code-flow clients: PKCE required (the default), consent required, PKCE optional, and one
/// that wants user claims in id tokens. All share the redirect and post-logout URIs below.
pub(crate) const WEB: (&str, &str) = ("web", "web secret");
pub(crate) const CONSENT_WEB: (&str, &str) = ("consent-web", "consent secret");
pub(crate) const LEGACY_WEB: (&str, &str) = ("legacy-web", "legacy secret");
pub(crate) const CLAIMS_WEB: (&str, &str) = ("claims-web", "claims secret");
/// A code-flow client told of logouts through the browser (front-channel logout).
pub(crate) const FRONT_CHANNEL_WEB: (&str, &str) = ("front-channel-web", "front-channel secret");
pub(crate) const FRONT_CHANNEL_LOGOUT_URI: &str = "https://front.example.com/signout?tenant=1";
/// The origin of a single-page application allowed to call the endpoints from script.
pub(crate) const SPA_ORIGIN: &str = "https://spa.example.com";
/// A code-flow client whose users must sign in with two factors.
pub(crate) const TWO_FACTOR_WEB: (&str, &str) = ("two-factor-web", "two-factor secret");
pub(crate) const REDIRECT_URI: &str = "https://web.example.com/signin-oidc";
pub(crate) const POST_LOGOUT_URI: &str = "https://web.example.com/signed-out";

/// The PKCE pair of RFC 7636 Appendix B.
pub(crate) const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn code_flow_client((client_id, secret): (&str, &str), configure: impl FnOnce(&mut Client)) -> Client {
    let mut client = Client::new(client_id)
        .with_secret(secret)
        .with_grant_types([GrantType::AuthorizationCode])
        .with_redirect_uris([REDIRECT_URI])
        .with_post_logout_redirect_uris([POST_LOGOUT_URI])
        .with_scopes(["openid", "profile", "email", "orders.read"])
        .with_offline_access();
    client.client_name = Some(format!("{client_id} app"));
    configure(&mut client);
    client
}

fn clients() -> Vec<Client> {
    let app_scopes = ["openid", "profile", "email", "orders.read"];
    let mut reuse = Client::new(REUSE_APP.0)
        .with_secret(REUSE_APP.1)
        .with_grant_types([GrantType::Password])
        .with_scopes(app_scopes)
        .with_offline_access();
    reuse.refresh_token_usage = RefreshTokenUsage::ReUse;
    let mut short_lived = Client::new("short")
        .with_secret("short secret")
        .with_grant_types([GrantType::Password])
        .with_scopes(["openid", "offline_access"]);
    short_lived.refresh_token_lifetime = TimeDelta::minutes(10);
    vec![
        Client::new(MACHINE.0)
            .with_secret(MACHINE.1)
            .with_grant_types([GrantType::ClientCredentials])
            .with_scopes(["orders.read", "reports"]),
        Client::new(APP.0)
            .with_secret(APP.1)
            .with_grant_types([GrantType::Password])
            .with_scopes(app_scopes)
            .with_offline_access(),
        reuse,
        short_lived,
        Client::new(NO_PASSWORD_APP.0)
            .with_secret(NO_PASSWORD_APP.1)
            .with_grant_types([GrantType::ClientCredentials])
            .with_scopes(["orders.read"]),
        Client::new(ENCODED_APP.0)
            .with_secret(ENCODED_APP.1)
            .with_grant_types([GrantType::ClientCredentials])
            .with_scopes(["reports"]),
        code_flow_client(WEB, |_| {}),
        code_flow_client(CONSENT_WEB, |client| client.require_consent = true),
        code_flow_client(LEGACY_WEB, |client| client.require_pkce = false),
        code_flow_client(CLAIMS_WEB, |client| client.always_include_user_claims_in_id_token = true),
        code_flow_client(TWO_FACTOR_WEB, |client| {
            client.require_two_factor = true;
            client.allowed_grant_types.push(GrantType::Password);
        }),
        code_flow_client(("browser-app", "browser-app secret"), |client| {
            client.allowed_cors_origins = vec![SPA_ORIGIN.to_owned()];
        }),
        code_flow_client(FRONT_CHANNEL_WEB, |client| {
            client.frontchannel_logout_uri = Some(FRONT_CHANNEL_LOGOUT_URI.to_owned());
        }),
    ]
}

/// A session validator whose answer the test sets, counting its calls.
pub(crate) struct TestSessionValidator {
    valid: AtomicBool,
    calls: AtomicUsize,
}

impl TestSessionValidator {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { valid: AtomicBool::new(true), calls: AtomicUsize::new(0) })
    }

    /// From now on, sessions are (in)valid, as after a security-stamp change.
    pub(crate) fn set_valid(&self, valid: bool) {
        self.valid.store(valid, Ordering::SeqCst);
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[oidc_server::async_trait]
impl SessionValidator for TestSessionValidator {
    async fn validate_session(&self, session: &UserSession) -> oidc_server::Result<bool> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(session.subject.claims.contains(&TokenClaim::new("security_stamp", "stamp-1")));
        Ok(self.valid.load(Ordering::SeqCst))
    }
}

/// The host's login page of the tests: it "checks the password" of the user named by the `sub`
/// parameter (default `1`, alice), signs them in (persistently with `persistent=true`; with the
/// space-separated methods of `amr`, default `pwd`) and goes back to `returnUrl`, which must be a
/// valid return URL.
async fn test_login(State(server): State<OidcServer>, uri: Uri) -> Response {
    let params = query_params(&uri.to_string());
    let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let Some(return_url) = param("returnUrl") else {
        return (StatusCode::BAD_REQUEST, "returnUrl missing").into_response();
    };
    if !server.is_valid_return_url(&return_url).await {
        return (StatusCode::BAD_REQUEST, "invalid return URL").into_response();
    }
    let mut subject = Subject::new(param("sub").unwrap_or_else(|| "1".into()), "pwd", server.now())
        .with_claims([TokenClaim::new("security_stamp", "stamp-1")]);
    if let Some(methods) = param("amr") {
        subject.authentication_methods = methods.split(' ').map(str::to_owned).collect();
    }
    match server.sign_in(subject, param("persistent").as_deref() == Some("true")).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie.set_cookie)], Redirect::to(&return_url)).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// An `openidconnect` client built from discovery.
pub(crate) type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A browser: keeps cookies, follows no redirect by itself.
pub(crate) struct Browser {
    http: reqwest::Client,
    origin: String,
}

impl Browser {
    /// GETs `url`, absolute or relative to the server.
    pub(crate) async fn get(&self, url: &str) -> RawResponse {
        let absolute = if url.starts_with('/') { format!("{}{url}", self.origin) } else { url.to_owned() };
        RawResponse::read(self.http.get(absolute).send().await.expect("request sent")).await
    }

    /// GETs `url` and follows redirects while they stay on the server (through the login page,
    /// which signs alice in); returns the first response that does not.
    pub(crate) async fn follow(&self, url: &str) -> RawResponse {
        let mut response = self.get(url).await;
        for _ in 0..5 {
            let Some(location) = response.redirect_location() else {
                return response;
            };
            if !location.starts_with('/') && !location.starts_with(&self.origin) {
                return response;
            }
            let location = location.to_owned();
            response = self.get(&location).await;
        }
        panic!("too many redirects")
    }

    /// POSTs a form to a path of the server.
    pub(crate) async fn post_form(&self, path: &str, body: String) -> RawResponse {
        let request = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        RawResponse::read(request.send().await.expect("request sent")).await
    }

    /// Signs alice in through the test login page.
    pub(crate) async fn sign_in(&self) {
        self.sign_in_as("1").await;
    }

    /// Signs the user `subject_id` in through the test login page.
    pub(crate) async fn sign_in_as(&self, subject_id: &str) {
        let return_url = authorize_url(WEB.0, &[]);
        let response =
            self.get(&format!("/account/login?{}", form(&[("returnUrl", &return_url), ("sub", subject_id)]))).await;
        assert!(response.header("set-cookie").is_some(), "{}", response.body);
    }
}

/// A relative authorize URL for `client_id` with the test redirect URI, `openid profile`,
/// `state`, `nonce` and the RFC 7636 challenge; `overrides` replace or (with an empty value)
/// remove parameters, or add new ones.
pub(crate) fn authorize_url(client_id: &str, overrides: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile"),
        ("state", "state-1"),
        ("nonce", "nonce-1"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in overrides {
        params.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    format!("/connect/authorize?{}", form(&params))
}

/// A server listening on 127.0.0.1 with an ephemeral port.
pub(crate) struct TestServer {
    pub(crate) server: OidcServer,
    pub(crate) issuer: String,
    pub(crate) users: Arc<TestUsers>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) grants: Arc<InMemoryPersistedGrantStore>,
    pub(crate) http: reqwest::Client,
    server_task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server_task.abort();
    }
}

impl TestServer {
    /// The standard configuration, with the password grant enabled.
    pub(crate) async fn start() -> Self {
        Self::start_with(|builder, users| builder.password_validator(users)).await
    }

    /// The standard configuration adjusted by `configure`, which gets the test users.
    pub(crate) async fn start_with(configure: impl FnOnce(ServerBuilder, Arc<TestUsers>) -> ServerBuilder) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let users = Arc::new(TestUsers::new());
        // Started at the wall clock: the test's HTTP client checks cookie expiry against it.
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let grants = Arc::new(InMemoryPersistedGrantStore::new());
        let builder = OidcServer::builder(issuer.clone())
            .identity_resources(IdentityResource::standard())
            .api_scopes([ApiScope::new("orders.read").with_user_claims(["role"]), ApiScope::new("reports")])
            .api_resources([ApiResource::new("orders-api", ["orders.read"])])
            .clients(clients())
            .profile_service(users.clone())
            .persisted_grant_store(grants.clone())
            .clock(clock.clone());
        let server = configure(builder, users.clone()).build().await.expect("server builds");
        let login = axum::Router::new().route("/account/login", get(test_login)).with_state(server.clone());
        let router = server.router().merge(login);
        let server_task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serves");
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
        Self { server, issuer, users, clock, grants, http, server_task }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A new browser, without cookies.
    pub(crate) fn browser(&self) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Browser { http, origin: self.issuer.clone() }
    }

    /// An `openidconnect` client for `(id, secret)` from discovery, with the test redirect URI.
    pub(crate) async fn oidc_client(&self, (client_id, secret): (&str, &str)) -> DiscoveredClient {
        let issuer = IssuerUrl::new(self.issuer.clone()).expect("issuer");
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.expect("discovered");
        CoreClient::from_provider_metadata(
            metadata,
            openidconnect::ClientId::new(client_id.into()),
            Some(openidconnect::ClientSecret::new(secret.into())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("url"))
    }

    /// Runs the code flow in `browser` (signing alice in if needed) and returns the code; the
    /// authorization response must be a success.
    pub(crate) async fn authorization_code(
        &self,
        browser: &Browser,
        client_id: &str,
        overrides: &[(&str, &str)],
    ) -> String {
        let response = browser.follow(&authorize_url(client_id, overrides)).await;
        let location = response.redirect_location().expect("redirected to the client");
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(query_param(location, "iss").as_deref(), Some(self.issuer.as_str()));
        query_param(location, "code").unwrap_or_else(|| panic!("no code in {location}"))
    }

    /// Redeems `code` for `client` with the test redirect URI and `code_verifier` (if any).
    pub(crate) async fn redeem(&self, client: (&str, &str), code: &str, code_verifier: Option<&str>) -> RawResponse {
        let mut params = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT_URI)];
        params.extend(code_verifier.map(|verifier| ("code_verifier", verifier)));
        self.post_form("/connect/token", Some(client), &form(&params)).await
    }

    /// An `oauth2` client for `(id, secret)` with the token and introspection endpoints set; it
    /// authenticates with client_secret_basic unless told otherwise. (Its revocation support
    /// insists on HTTPS, so revocation is tested with raw requests.)
    pub(crate) fn oauth_client(
        &self,
        (client_id, secret): (&str, &str),
    ) -> BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet> {
        BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(secret.to_owned()))
            .set_token_uri(TokenUrl::new(self.url("/connect/token")).expect("url"))
            .set_introspection_url(IntrospectionUrl::new(self.url("/connect/introspect")).expect("url"))
    }

    /// POSTs a raw form body with optional Basic credentials (sent as given, unencoded).
    pub(crate) async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, body: &str) -> RawResponse {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        RawResponse::read(request.send().await.expect("request sent")).await
    }

    /// The published key set.
    pub(crate) async fn jwks(&self) -> JwkSet {
        let body = self
            .http
            .get(self.url("/.well-known/jwks"))
            .send()
            .await
            .expect("jwks fetched")
            .text()
            .await
            .expect("body");
        serde_json::from_str(&body).expect("a JWK set")
    }

    /// Verifies an access token's signature with the published keys and checks `typ`, `iss`
    /// and `aud`; returns its claims.
    pub(crate) async fn verify_access_token(&self, token: &str, audience: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).expect("a JWT");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let kid = header.kid.as_deref().expect("a kid");
        let jwks = self.jwks().await;
        let jwk = jwks.find(kid).expect("the signing key is published");
        let key = DecodingKey::from_jwk(jwk).expect("a public key");
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        jsonwebtoken::decode::<Value>(token, &key, &validation).expect("valid signature, issuer and audience").claims
    }
}

/// The checks of authorization responses that only these tests make.
pub(crate) trait AuthorizeChecks {
    /// Asserts a redirect to the test client's redirect URI with `error` and the request's state.
    fn assert_authorize_error(&self, error: &str);
    /// Asserts the plain error page shown instead of redirecting.
    fn assert_error_page(&self);
}

impl AuthorizeChecks for RawResponse {
    fn assert_authorize_error(&self, error: &str) {
        let location = self.location();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(query_param(location, "error").as_deref(), Some(error), "{location}");
        assert_eq!(query_param(location, "state").as_deref(), Some("state-1"), "{location}");
        assert!(query_param(location, "iss").is_some(), "{location}");
        assert!(query_param(location, "code").is_none(), "{location}");
    }

    fn assert_error_page(&self) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert!(self.header("location").is_none());
        assert_eq!(self.header("content-type"), Some("text/plain; charset=utf-8"));
    }
}

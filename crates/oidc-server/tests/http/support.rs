//! A running test server with in-memory users, and helpers to talk to it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, EndpointNotSet, EndpointSet, IntrospectionUrl, TokenUrl};
use oidc_server::{
    ApiResource, ApiScope, Claim, Client, GrantType, IdentityResource, InMemoryPersistedGrantStore, IsActiveContext,
    ManualClock, OidcServer, ProfileDataRequestContext, ProfileService, RefreshTokenUsage,
    ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator, ServerBuilder,
};
use serde_json::Value;

pub(crate) const ALICE_PASSWORD: &str = "alice's password";

/// A user of the in-memory user store.
struct TestUser {
    user_name: &'static str,
    password: &'static str,
    subject_id: &'static str,
    claims: Vec<Claim>,
}

/// Users in memory: the profile service and password validator the host would write.
pub(crate) struct TestUsers {
    users: Vec<TestUser>,
    inactive: Mutex<HashSet<String>>,
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
                        Claim::new("name", "Alice Smith"),
                        Claim::new("given_name", "Alice"),
                        Claim::new("email", "alice@example.com"),
                        Claim::new("email_verified", true),
                        Claim::new("role", "admin"),
                        Claim::new("role", "user"),
                    ],
                },
                TestUser {
                    user_name: "bob",
                    password: "bob's password",
                    subject_id: "2",
                    claims: vec![Claim::new("name", "Bob")],
                },
            ],
            inactive: Mutex::new(HashSet::new()),
        }
    }

    /// Marks a user inactive (as if disabled or deleted).
    pub(crate) fn deactivate(&self, subject_id: &str) {
        self.inactive.lock().expect("not poisoned").insert(subject_id.to_owned());
    }
}

#[oidc_server::async_trait]
impl ProfileService for TestUsers {
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> oidc_server::Result<()> {
        if let Some(user) = self.users.iter().find(|user| user.subject_id == context.subject.subject_id) {
            context.add_requested_claims(user.claims.clone());
        }
        Ok(())
    }

    async fn is_active(&self, context: &mut IsActiveContext<'_>) -> oidc_server::Result<()> {
        context.is_active = !self.inactive.lock().expect("not poisoned").contains(&context.subject.subject_id);
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
    ]
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
        let clock = Arc::new(ManualClock::new(Utc::now()));
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
        let router = server.router();
        let server_task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serves");
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
        Self { server, issuer, users, clock, grants, http, server_task }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
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

/// A response read completely.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl RawResponse {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts an RFC 6749 §5.2 error response.
    pub(crate) fn assert_oauth_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.json()["error"], error, "{}", self.body);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

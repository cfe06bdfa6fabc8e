//! A token server on the Diesel stores, served over real HTTP on 127.0.0.1, and the requests
//! the cases make to it.

use std::sync::Arc;

use diesel_any::Database;
use oidc_server::{
    ApiScope, Client, GrantType, OidcServer, ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator,
};
use oidc_server_diesel::{DieselPersistedGrantStore, DieselSigningKeyStore};
use serde_json::Value;

/// Every instance shares the issuer, as instances behind one load balancer do.
const ISSUER: &str = "https://id.example.test";
/// The one client: the password grant with refresh tokens.
const CLIENT: (&str, &str) = ("app", "app secret");
/// The one user.
const USER: (&str, &str) = ("alice", "alice's password");
/// Every instance needs the same secret to read the shared keys.
const KEY_ENCRYPTION_SECRET: &str = "a key-encryption secret of at least 32 bytes";

/// Accepts only [`USER`].
struct OneUser;

#[oidc_server::async_trait]
impl ResourceOwnerPasswordValidator for OneUser {
    async fn validate(&self, context: &mut ResourceOwnerPasswordValidationContext<'_>) -> oidc_server::Result<()> {
        if context.user_name == USER.0 && context.password == USER.1 {
            context.succeed("1", "pwd");
        }
        Ok(())
    }
}

/// The tokens of a successful token response.
#[derive(Debug)]
pub(crate) struct Tokens {
    /// The new refresh token.
    pub(crate) refresh_token: String,
}

/// A server instance listening on an ephemeral port; stops when dropped.
#[derive(Debug)]
pub(crate) struct TestServer {
    base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Builds a server whose grants and signing keys are in `db`, and serves it.
    pub(crate) async fn start(db: Database) -> Self {
        let server = OidcServer::builder(ISSUER)
            .api_scopes([ApiScope::new("api")])
            .clients([Client::new(CLIENT.0)
                .with_secret(CLIENT.1)
                .with_grant_types([GrantType::Password])
                .with_scopes(["api"])
                .with_offline_access()])
            .password_validator(Arc::new(OneUser))
            .persisted_grant_store(Arc::new(DieselPersistedGrantStore::new(db.clone())))
            .signing_key_store(Arc::new(DieselSigningKeyStore::new(db)))
            .key_encryption_secret(KEY_ENCRYPTION_SECRET)
            .build()
            .await
            .expect("the server builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let base_url = format!("http://{}", listener.local_addr().expect("an address"));
        let router = server.router();
        let task = tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
        Self { base_url, task }
    }

    /// Posts a token request with the client's credentials; the tokens, or the OAuth error code.
    async fn token_request(&self, http: &reqwest::Client, form: &[(&str, &str)]) -> Result<Tokens, String> {
        let response = http
            .post(format!("{}/connect/token", self.base_url))
            .basic_auth(CLIENT.0, Some(CLIENT.1))
            .form(form)
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.bytes().await.expect("a body")).expect("JSON");
        if !status.is_success() {
            return Err(body["error"].as_str().unwrap_or_default().to_owned());
        }
        assert!(body["access_token"].is_string(), "{body}");
        let refresh_token = body["refresh_token"].as_str().expect("a refresh token");
        Ok(Tokens { refresh_token: refresh_token.to_owned() })
    }

    /// The password grant for [`USER`] with `offline_access`.
    pub(crate) async fn password_grant(&self, http: &reqwest::Client) -> Tokens {
        let form =
            [("grant_type", "password"), ("username", USER.0), ("password", USER.1), ("scope", "api offline_access")];
        self.token_request(http, &form).await.expect("the password grant succeeds")
    }

    /// Redeems `refresh_token`; the new tokens, or the OAuth error code.
    pub(crate) async fn refresh(&self, http: &reqwest::Client, refresh_token: &str) -> Result<Tokens, String> {
        self.token_request(http, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    /// The key ids the server publishes, in order.
    pub(crate) async fn jwks_kids(&self, http: &reqwest::Client) -> Vec<String> {
        let response = http.get(format!("{}/.well-known/jwks", self.base_url)).send().await.expect("answers");
        let jwks: Value = serde_json::from_slice(&response.bytes().await.expect("a body")).expect("JSON");
        jwks["keys"]
            .as_array()
            .expect("a key list")
            .iter()
            .map(|key| key["kid"].as_str().expect("a kid").to_owned())
            .collect()
    }
}

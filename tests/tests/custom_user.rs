//! An application's view of the stack, in one process over real HTTP: a custom user type with a
//! "disabled" flag and a department, the in-memory store, a custom claims factory decorated by
//! the adapter, and the token server mounted in axum. The password grant, userinfo and refresh
//! are driven by the `openidconnect` client; the extension points must show in the tokens.

use async_trait::async_trait;
use identity_claims::{
    ClaimsIdentityOptions, ClaimsPrincipal, DefaultUserClaimsPrincipalFactory, UserClaimsPrincipalFactory,
};
use identity_core::memory::MemoryStore;
use identity_core::{Argon2Params, IdentityPasswordHasher, IdentityUser, RoleManager, UserManager};
use identity_oidc::{AspNetIdentity, ServerBuilderExt, UserActivity};
use oidc_server::{ApiScope, Client, GrantType, IdentityResource, OFFLINE_ACCESS_SCOPE, OidcServer};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, ResourceOwnerPassword, ResourceOwnerUsername, Scope,
};
use serde_json::Value;
use std::sync::Arc;

const CLIENT_ID: &str = "staff-portal";
const CLIENT_SECRET: &str = "portal secret";
const PASSWORD: &str = "Pass123$";

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Staff {
    disabled: bool,
    department: String,
}

#[derive(Debug)]
struct NotDisabled;

#[async_trait]
impl UserActivity<Staff> for NotDisabled {
    async fn is_user_active(&self, user: &IdentityUser<Staff>) -> identity_oidc::Result<bool> {
        Ok(!user.extra.disabled)
    }
}

struct DepartmentClaims {
    inner: DefaultUserClaimsPrincipalFactory<Staff>,
}

#[async_trait]
impl UserClaimsPrincipalFactory<Staff> for DepartmentClaims {
    async fn create(&self, user: &IdentityUser<Staff>) -> identity_claims::Result<ClaimsPrincipal> {
        let mut principal = self.inner.create(user).await?;
        if let Some(identity) = principal.identity_mut() {
            identity.add(identity_claims::Claim::new("department", &user.extra.department));
        }
        Ok(principal)
    }
}

struct Stack {
    issuer: String,
    users: Arc<UserManager<Staff>>,
}

async fn start_stack() -> Stack {
    let hasher = IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid parameters");
    let store = Arc::new(MemoryStore::<Staff>::new());
    let users = Arc::new(UserManager::builder(store.clone()).password_hasher(Arc::new(hasher)).build());
    let roles = Arc::new(RoleManager::new(store));
    let factory = DepartmentClaims {
        inner: DefaultUserClaimsPrincipalFactory::new(users.clone(), ClaimsIdentityOptions::oidc()),
    };
    let identity = AspNetIdentity::new(users.clone(), roles)
        .with_claims_factory(Arc::new(factory))
        .with_user_activity(Arc::new(NotDisabled));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind an ephemeral port");
    let issuer = format!("http://{}", listener.local_addr().expect("local address"));
    let mut client = Client::new(CLIENT_ID).with_secret(CLIENT_SECRET);
    client.allowed_grant_types = vec![GrantType::Password, GrantType::RefreshToken];
    client.allowed_scopes = ["openid", "profile", "staff", OFFLINE_ACCESS_SCOPE].map(str::to_owned).to_vec();
    client.allow_offline_access = true;
    let server = OidcServer::builder(issuer.clone())
        .clients([client])
        .identity_resources([IdentityResource::openid(), IdentityResource::profile()])
        .api_scopes([ApiScope::new("staff").with_user_claims(["department"])])
        .add_asp_net_identity(identity)
        .build()
        .await
        .expect("server builds");
    let app = axum::Router::new().merge(server.router());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("server runs") });
    Stack { issuer, users }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client")
}

/// A JWT's claims; signatures are the server's own tests' business, here only the claims matter.
fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a compact JWS has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_user_type_flows_through_tokens_userinfo_and_activity() {
    let stack = start_stack().await;
    let mut alice = IdentityUser::<Staff>::new("alice");
    alice.extra.department = "Research".into();
    assert!(stack.users.create_with_password(&mut alice, PASSWORD).await.expect("create").succeeded());

    let http = http_client();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(stack.issuer.clone()).expect("issuer"), &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(CLIENT_SECRET.into())),
    );
    let tokens = client
        .exchange_password(&ResourceOwnerUsername::new("alice".into()), &ResourceOwnerPassword::new(PASSWORD.into()))
        .expect("token endpoint is known")
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("staff".into()))
        .add_scope(Scope::new(OFFLINE_ACCESS_SCOPE.into()))
        .request_async(&http)
        .await
        .expect("the password grant succeeds");

    let access = jwt_claims(tokens.access_token().secret());
    assert_eq!(access["sub"], Value::from(alice.id.clone()));
    assert_eq!(access["department"], "Research", "the custom factory's claim reaches the access token");
    assert_eq!(access["amr"], serde_json::json!(["pwd"]));

    let userinfo: Value = http
        .get(format!("{}/connect/userinfo", stack.issuer))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .expect("userinfo answers")
        .json()
        .await
        .expect("userinfo is JSON");
    assert_eq!(userinfo["preferred_username"], "alice", "the decorator still ran around the custom factory");

    alice.extra.disabled = true;
    assert!(stack.users.update(&mut alice).await.expect("update").succeeded());
    let refresh = tokens.refresh_token().expect("offline access gives a refresh token");
    let refused = client.exchange_refresh_token(refresh).expect("token endpoint is known").request_async(&http).await;
    assert!(refused.is_err(), "a disabled user's refresh token is refused");
}

//! The adapter's contracts, exercised through the token server's extension-point traits on the
//! in-memory store: claims per caller and scope, missing users, the activity hook, a decorated
//! custom factory, and the password validator's uniform failures and lockout.

use async_trait::async_trait;
use identity_claims::{
    ClaimsIdentityOptions, ClaimsPrincipal, DefaultUserClaimsPrincipalFactory, UserClaimsPrincipalFactory,
};
use identity_core::memory::MemoryStore;
use identity_core::{
    Argon2Params, IdentityPasswordHasher, IdentityRole, IdentityUser, RoleManager, StoredClaim, UserManager,
};
use identity_oidc::{AspNetIdentity, INVALID_CREDENTIALS, IdentityProfileService, UserActivity};
use oidc_server::{
    ApiScope, Client, ErrorCode, GrantValidationResult, IdentityResource, IsActiveCaller, IsActiveContext,
    ProfileCaller, ProfileDataRequestContext, ProfileService, RequestedResources,
    ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator, Resources, Subject,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const PASSWORD: &str = "Pass123$";

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Account {
    disabled: bool,
    department: String,
}

type Users = Arc<UserManager<Account>>;

fn users() -> Users {
    let hasher = IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid parameters");
    Arc::new(UserManager::builder(Arc::new(MemoryStore::<Account>::new())).password_hasher(Arc::new(hasher)).build())
}

async fn alice(users: &Users) -> IdentityUser<Account> {
    let mut user = IdentityUser::<Account>::new("alice");
    user.email = Some("AliceSmith@example.com".into());
    user.email_confirmed = true;
    user.extra.department = "Research".into();
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("create").succeeded());
    let claims = [StoredClaim::new("name", "Alice Smith"), StoredClaim::new("given_name", "Alice")];
    assert!(users.add_claims(&mut user, &claims).await.expect("claims").succeeded());
    user
}

/// The resources granted for `scopes` (the token server passes only the granted ones).
fn requested(scopes: &[&str]) -> RequestedResources {
    let identity = IdentityResource::standard().into_iter().filter(|r| scopes.contains(&r.name.as_str())).collect();
    let api = [ApiScope::new("api").with_user_claims(["department", "name"])];
    let api = api.into_iter().filter(|s| scopes.contains(&s.name.as_str())).collect();
    let resources = Resources::new(identity, api, Vec::new());
    RequestedResources::new(scopes.iter().map(|s| (*s).to_owned()).collect(), resources)
}

async fn profile_claims(
    service: &dyn ProfileService,
    subject_id: &str,
    caller: ProfileCaller,
    scopes: &[&str],
) -> BTreeMap<String, Value> {
    let subject = Subject::new(subject_id, "pwd", test_support::clock::start());
    let client = Client::new("app");
    let resources = requested(scopes);
    let mut context = ProfileDataRequestContext::new(&subject, &client, caller, &resources);
    service.get_profile_data(&mut context).await.expect("profile data");
    context.issued_claims.into_iter().map(|c| (c.claim_type, c.value)).collect()
}

async fn is_active(service: &dyn ProfileService, subject_id: &str) -> bool {
    let subject = Subject::new(subject_id, "pwd", test_support::clock::start());
    let client = Client::new("app");
    let mut context = IsActiveContext::new(&subject, &client, IsActiveCaller::UserInfoRequestValidation);
    service.is_active(&mut context).await.expect("is active");
    context.is_active
}

#[tokio::test]
async fn userinfo_gets_the_requested_identity_claims_from_the_database() {
    let users = users();
    let alice = alice(&users).await;
    let service = AspNetIdentity::without_roles(users.clone()).profile_service();

    let claims = profile_claims(&service, &alice.id, ProfileCaller::UserInfo, &["openid", "profile", "email"]).await;
    assert_eq!(claims.get("sub"), Some(&json!(alice.id)));
    assert_eq!(claims.get("name"), Some(&json!("Alice Smith")), "a stored name claim wins over the user name");
    assert_eq!(claims.get("preferred_username"), Some(&json!("alice")));
    assert_eq!(claims.get("given_name"), Some(&json!("Alice")));
    assert_eq!(claims.get("email"), Some(&json!("AliceSmith@example.com")));
    assert_eq!(claims.get("email_verified"), Some(&json!(true)), "a JSON boolean");
    assert!(!claims.contains_key("AspNet.Identity.SecurityStamp"), "unrequested claims are not issued");

    let openid_only = profile_claims(&service, &alice.id, ProfileCaller::UserInfo, &["openid"]).await;
    assert_eq!(openid_only.keys().collect::<Vec<_>>(), ["sub"]);
}

#[tokio::test]
async fn role_claims_are_issued_by_default() {
    let hasher = IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid parameters");
    let store = Arc::new(MemoryStore::<Account>::new());
    let users = Arc::new(UserManager::builder(store.clone()).password_hasher(Arc::new(hasher)).build());
    let roles = Arc::new(RoleManager::new(store));
    let mut alice = alice(&users).await;
    let mut admin = IdentityRole::new("admin");
    assert!(roles.create(&mut admin).await.expect("role").succeeded());
    assert!(roles.add_claim(&mut admin, &StoredClaim::new("permission", "reports")).await.expect("claim").succeeded());
    assert!(users.add_to_role(&mut alice, "admin").await.expect("membership").succeeded());

    let resources = |scopes: &[&str]| {
        let identity = IdentityResource::standard().into_iter().filter(|r| scopes.contains(&r.name.as_str())).collect();
        let api = vec![ApiScope::new("api").with_user_claims(["role", "permission"])];
        RequestedResources::new(
            scopes.iter().map(|s| (*s).to_owned()).collect(),
            Resources::new(identity, api, Vec::new()),
        )
    };
    let issued = |service: IdentityProfileService<Account>| {
        let alice_id = alice.id.clone();
        let resources = resources(&["openid", "api"]);
        async move {
            let subject = Subject::new(&alice_id, "pwd", test_support::clock::start());
            let client = Client::new("app");
            let mut context = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::AccessToken, &resources);
            service.get_profile_data(&mut context).await.expect("profile data");
            context.issued_claims.into_iter().map(|c| (c.claim_type, c.value)).collect::<BTreeMap<_, _>>()
        }
    };
    let claims = issued(AspNetIdentity::new(users.clone(), roles).profile_service()).await;
    assert_eq!(claims.get("role"), Some(&json!("admin")), "{claims:?}");
    assert_eq!(claims.get("permission"), Some(&json!("reports")), "{claims:?}");
    let without = issued(AspNetIdentity::without_roles(users).profile_service()).await;
    assert!(!without.contains_key("role") && !without.contains_key("permission"), "{without:?}");
}

#[tokio::test]
async fn a_missing_user_gets_no_claims_and_is_inactive() {
    let service = AspNetIdentity::without_roles(users()).profile_service();
    let claims = profile_claims(&service, "no-such-user", ProfileCaller::UserInfo, &["openid", "profile"]).await;
    assert!(claims.is_empty());
    assert!(!is_active(&service, "no-such-user").await);
}

#[derive(Debug)]
struct NotDisabled;

#[async_trait]
impl UserActivity<Account> for NotDisabled {
    async fn is_user_active(&self, user: &IdentityUser<Account>) -> identity_oidc::Result<bool> {
        Ok(!user.extra.disabled)
    }
}

#[tokio::test]
async fn the_activity_hook_decides_for_existing_users() {
    let users = users();
    let mut alice = alice(&users).await;
    let default = AspNetIdentity::without_roles(users.clone()).profile_service();
    let custom =
        AspNetIdentity::without_roles(users.clone()).with_user_activity(Arc::new(NotDisabled)).profile_service();
    assert!(is_active(&custom, &alice.id).await);

    alice.extra.disabled = true;
    assert!(users.update(&mut alice).await.expect("update").succeeded());
    assert!(!is_active(&custom, &alice.id).await, "the override sees the custom flag");
    assert!(is_active(&default, &alice.id).await, "by default every existing user is active");
}

/// What the userinfo endpoint's one call gives: whether the user is active, and the claims.
async fn active_profile(
    service: &dyn ProfileService,
    subject_id: &str,
    scopes: &[&str],
) -> (bool, BTreeMap<String, Value>) {
    let subject = Subject::new(subject_id, "pwd", test_support::clock::start());
    let client = Client::new("app");
    let resources = requested(scopes);
    let mut active = IsActiveContext::new(&subject, &client, IsActiveCaller::UserInfoRequestValidation);
    let mut profile = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::UserInfo, &resources);
    service.get_profile_data_if_active(&mut active, &mut profile).await.expect("profile data");
    (active.is_active, profile.issued_claims.into_iter().map(|c| (c.claim_type, c.value)).collect())
}

#[tokio::test]
async fn the_one_call_for_userinfo_agrees_with_the_two_calls() {
    let users = users();
    let mut alice = alice(&users).await;
    let service =
        AspNetIdentity::without_roles(users.clone()).with_user_activity(Arc::new(NotDisabled)).profile_service();
    for scopes in [&["openid", "profile", "email"][..], &["openid"][..]] {
        let two_calls = (
            is_active(&service, &alice.id).await,
            profile_claims(&service, &alice.id, ProfileCaller::UserInfo, scopes).await,
        );
        assert_eq!(active_profile(&service, &alice.id, scopes).await, two_calls, "{scopes:?}");
        assert!(two_calls.0 && two_calls.1.contains_key("sub"));
    }

    alice.extra.disabled = true;
    assert!(users.update(&mut alice).await.expect("update").succeeded());
    let (active, claims) = active_profile(&service, &alice.id, &["openid", "profile"]).await;
    assert!(!active && claims.is_empty(), "an inactive user gets no claims: {claims:?}");

    let (active, claims) = active_profile(&service, "no-such-user", &["openid", "profile"]).await;
    assert!(!active && claims.is_empty());
}

struct DepartmentFactory {
    inner: DefaultUserClaimsPrincipalFactory<Account>,
}

#[async_trait]
impl UserClaimsPrincipalFactory<Account> for DepartmentFactory {
    async fn create(&self, user: &IdentityUser<Account>) -> identity_claims::Result<ClaimsPrincipal> {
        let mut principal = self.inner.create(user).await?;
        if let Some(identity) = principal.identity_mut() {
            identity.add(identity_claims::Claim::new("department", &user.extra.department));
        }
        Ok(principal)
    }
}

#[tokio::test]
async fn a_custom_claims_factory_is_decorated_not_replaced() {
    let users = users();
    let alice = alice(&users).await;
    let inner = DefaultUserClaimsPrincipalFactory::new(users.clone(), ClaimsIdentityOptions::oidc());
    let identity =
        AspNetIdentity::without_roles(users.clone()).with_claims_factory(Arc::new(DepartmentFactory { inner }));
    let service = identity.profile_service();

    let access = profile_claims(&service, &alice.id, ProfileCaller::AccessToken, &["api"]).await;
    assert_eq!(access.get("department"), Some(&json!("Research")));
    assert_eq!(access.get("name"), Some(&json!("Alice Smith")));
    let userinfo = profile_claims(&service, &alice.id, ProfileCaller::UserInfo, &["openid", "profile"]).await;
    assert_eq!(userinfo.get("preferred_username"), Some(&json!("alice")), "the decorator still ran");
}

async fn validate(
    validator: &dyn ResourceOwnerPasswordValidator,
    user_name: &str,
    password: &str,
) -> GrantValidationResult {
    let client = Client::new("app");
    let resources = requested(&["api"]);
    let mut context = ResourceOwnerPasswordValidationContext::new(
        user_name.into(),
        password.into(),
        &client,
        &resources,
        test_support::clock::start(),
    );
    validator.validate(&mut context).await.expect("validation runs");
    context.result
}

fn invalid_credentials() -> GrantValidationResult {
    GrantValidationResult::Error { error: ErrorCode::InvalidGrant, description: Some(INVALID_CREDENTIALS.to_owned()) }
}

#[tokio::test]
async fn password_success_gives_the_subject_with_pwd_and_local() {
    let users = users();
    let alice = alice(&users).await;
    let validator = AspNetIdentity::without_roles(users.clone()).password_validator();
    let GrantValidationResult::Success(subject) = validate(&validator, "ALICE", PASSWORD).await else {
        panic!("expected success (user names are looked up normalized)");
    };
    assert_eq!(subject.subject_id, alice.id);
    assert_eq!(subject.authentication_methods, ["pwd"]);
    assert_eq!(subject.identity_provider, "local");
}

#[tokio::test]
async fn every_password_failure_looks_the_same_and_lockout_holds() {
    let users = users();
    alice(&users).await;
    let validator = AspNetIdentity::without_roles(users.clone()).password_validator();
    assert_eq!(validate(&validator, "nobody", PASSWORD).await, invalid_credentials());
    for _ in 0..users.options().lockout.max_failed_access_attempts {
        assert_eq!(validate(&validator, "alice", "wrong").await, invalid_credentials());
    }
    let locked = users.find_by_name("alice").await.expect("find").expect("alice");
    assert!(users.is_locked_out(&locked).await.expect("lockout"));
    assert_eq!(validate(&validator, "alice", PASSWORD).await, invalid_credentials(), "locked out, same answer");
}

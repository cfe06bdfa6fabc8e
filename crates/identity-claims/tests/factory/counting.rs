//! The store-call bound: a test-only store that delegates to `MemoryStore` and records every
//! call, with or without the bulk `claims_data_store` capability.

use crate::cases::{Env, Stores, TestResult};
use async_trait::async_trait;
use identity_claims::{DefaultUserClaimsPrincipalFactory, OidcClaimsFactory, UserClaimsPrincipalFactory};
use identity_core::memory::MemoryStore;
use identity_core::store::{
    RoleClaimStore, RoleStore, UserClaimStore, UserClaimsData, UserClaimsDataStore, UserEmailStore,
    UserPhoneNumberStore, UserRoleStore, UserSecurityStampStore, UserStore,
};
use identity_core::{IdentityResult, IdentityRole, IdentityUser, Result, RoleManager, StoredClaim, UserManager};
use std::sync::{Arc, Mutex};

/// Delegates to a shared `MemoryStore` and records the name of every store method called.
#[derive(Debug)]
struct CountingStore {
    inner: Arc<MemoryStore>,
    bulk: bool,
    calls: Mutex<Vec<&'static str>>,
}

impl CountingStore {
    fn new(inner: Arc<MemoryStore>, bulk: bool) -> Self {
        Self { inner, bulk, calls: Mutex::new(Vec::new()) }
    }

    fn hit(&self, method: &'static str) {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(method);
    }

    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

#[async_trait]
impl UserStore<()> for CountingStore {
    async fn create(&self, user: &mut IdentityUser) -> Result<IdentityResult> {
        self.hit("create");
        UserStore::create(self.inner.as_ref(), user).await
    }
    async fn update(&self, user: &mut IdentityUser) -> Result<IdentityResult> {
        self.hit("update");
        UserStore::update(self.inner.as_ref(), user).await
    }
    async fn delete(&self, user: &IdentityUser) -> Result<IdentityResult> {
        self.hit("delete");
        UserStore::delete(self.inner.as_ref(), user).await
    }
    async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser>> {
        self.hit("find_by_id");
        UserStore::find_by_id(self.inner.as_ref(), user_id).await
    }
    async fn find_by_name(&self, normalized_user_name: &str) -> Result<Option<IdentityUser>> {
        self.hit("find_by_name");
        UserStore::find_by_name(self.inner.as_ref(), normalized_user_name).await
    }
    fn email_store(&self) -> Option<&dyn UserEmailStore<()>> {
        Some(self)
    }
    fn phone_number_store(&self) -> Option<&dyn UserPhoneNumberStore<()>> {
        Some(self)
    }
    fn security_stamp_store(&self) -> Option<&dyn UserSecurityStampStore<()>> {
        Some(self)
    }
    fn claim_store(&self) -> Option<&dyn UserClaimStore<()>> {
        Some(self)
    }
    fn role_store(&self) -> Option<&dyn UserRoleStore<()>> {
        Some(self)
    }
    fn claims_data_store(&self) -> Option<&dyn UserClaimsDataStore<()>> {
        if self.bulk { Some(self) } else { None }
    }
}

impl UserPhoneNumberStore<()> for CountingStore {}
impl UserSecurityStampStore<()> for CountingStore {}

#[async_trait]
impl UserEmailStore<()> for CountingStore {
    async fn find_by_email(&self, normalized_email: &str) -> Result<Option<IdentityUser>> {
        self.hit("find_by_email");
        self.inner.find_by_email(normalized_email).await
    }
}

#[async_trait]
impl UserClaimStore<()> for CountingStore {
    async fn get_claims(&self, user: &IdentityUser) -> Result<Vec<StoredClaim>> {
        self.hit("get_claims");
        UserClaimStore::get_claims(self.inner.as_ref(), user).await
    }
    async fn add_claims(&self, user: &IdentityUser, claims: &[StoredClaim]) -> Result<()> {
        self.hit("add_claims");
        self.inner.add_claims(user, claims).await
    }
    async fn replace_claim(&self, user: &IdentityUser, claim: &StoredClaim, new_claim: &StoredClaim) -> Result<()> {
        self.hit("replace_claim");
        self.inner.replace_claim(user, claim, new_claim).await
    }
    async fn remove_claims(&self, user: &IdentityUser, claims: &[StoredClaim]) -> Result<()> {
        self.hit("remove_claims");
        self.inner.remove_claims(user, claims).await
    }
    async fn get_users_for_claim(&self, claim: &StoredClaim) -> Result<Vec<IdentityUser>> {
        self.hit("get_users_for_claim");
        self.inner.get_users_for_claim(claim).await
    }
}

#[async_trait]
impl UserRoleStore<()> for CountingStore {
    async fn add_to_role(&self, user: &IdentityUser, normalized_role_name: &str) -> Result<()> {
        self.hit("add_to_role");
        self.inner.add_to_role(user, normalized_role_name).await
    }
    async fn remove_from_role(&self, user: &IdentityUser, normalized_role_name: &str) -> Result<()> {
        self.hit("remove_from_role");
        self.inner.remove_from_role(user, normalized_role_name).await
    }
    async fn get_roles(&self, user: &IdentityUser) -> Result<Vec<String>> {
        self.hit("get_roles");
        self.inner.get_roles(user).await
    }
    async fn is_in_role(&self, user: &IdentityUser, normalized_role_name: &str) -> Result<bool> {
        self.hit("is_in_role");
        self.inner.is_in_role(user, normalized_role_name).await
    }
    async fn get_users_in_role(&self, normalized_role_name: &str) -> Result<Vec<IdentityUser>> {
        self.hit("get_users_in_role");
        self.inner.get_users_in_role(normalized_role_name).await
    }
}

#[async_trait]
impl UserClaimsDataStore<()> for CountingStore {
    async fn load_claims_data(&self, user_id: &str) -> Result<Option<UserClaimsData<()>>> {
        self.hit("load_claims_data");
        self.inner.load_claims_data(user_id).await
    }
}

#[async_trait]
impl RoleStore for CountingStore {
    async fn create(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        self.hit("role.create");
        RoleStore::create(self.inner.as_ref(), role).await
    }
    async fn update(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        self.hit("role.update");
        RoleStore::update(self.inner.as_ref(), role).await
    }
    async fn delete(&self, role: &IdentityRole) -> Result<IdentityResult> {
        self.hit("role.delete");
        RoleStore::delete(self.inner.as_ref(), role).await
    }
    async fn find_by_id(&self, role_id: &str) -> Result<Option<IdentityRole>> {
        self.hit("role.find_by_id");
        RoleStore::find_by_id(self.inner.as_ref(), role_id).await
    }
    async fn find_by_name(&self, normalized_name: &str) -> Result<Option<IdentityRole>> {
        self.hit("role.find_by_name");
        RoleStore::find_by_name(self.inner.as_ref(), normalized_name).await
    }
    fn role_claim_store(&self) -> Option<&dyn RoleClaimStore> {
        Some(self)
    }
}

#[async_trait]
impl RoleClaimStore for CountingStore {
    async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<StoredClaim>> {
        self.hit("role.get_claims");
        RoleClaimStore::get_claims(self.inner.as_ref(), role).await
    }
    async fn add_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        self.hit("role.add_claim");
        self.inner.add_claim(role, claim).await
    }
    async fn remove_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        self.hit("role.remove_claim");
        self.inner.remove_claim(role, claim).await
    }
}

/// A `MemoryStore` seeded with a user in three roles, and that user.
async fn seeded() -> std::result::Result<(Arc<MemoryStore>, IdentityUser), Box<dyn std::error::Error>> {
    let memory = Arc::new(MemoryStore::new());
    let env = Env::new(Stores::shared(memory.clone()));
    env.add_role("admin", &[("perm", "read"), ("perm", "write")]).await?;
    env.add_role("user", &[("perm", "read")]).await?;
    env.add_role("guest", &[]).await?;
    let alice = env
        .add_user("alice", |_| {}, &[("name", "Alice Smith"), ("given_name", "Alice")], &["admin", "user", "guest"])
        .await?;
    Ok((memory, alice))
}

/// The decorated default factory over a counting store.
fn counted_factory(store: &Arc<CountingStore>) -> OidcClaimsFactory<(), DefaultUserClaimsPrincipalFactory<()>> {
    let users = Arc::new(UserManager::builder(store.clone() as Arc<dyn UserStore<()>>).build());
    let roles = Arc::new(RoleManager::new(store.clone() as Arc<dyn RoleStore>));
    OidcClaimsFactory::with_default_factory(users, Some(roles))
}

#[tokio::test]
async fn bulk_path_makes_one_store_call_whatever_the_roles() -> TestResult {
    let (memory, alice) = seeded().await?;
    let store = Arc::new(CountingStore::new(memory, true));
    let principal = counted_factory(&store).create(&alice).await?;
    assert_eq!(store.calls(), ["load_claims_data"]);
    assert_eq!(principal.find_all("role").count(), 3);
    assert_eq!(principal.find_all("perm").count(), 3);
    Ok(())
}

#[tokio::test]
async fn per_capability_path_costs_two_calls_plus_two_per_role_and_matches_bulk() -> TestResult {
    let (memory, alice) = seeded().await?;
    let bulk_store = Arc::new(CountingStore::new(memory.clone(), true));
    let bulk = counted_factory(&bulk_store).create(&alice).await?;

    let store = Arc::new(CountingStore::new(memory, false));
    let principal = counted_factory(&store).create(&alice).await?;
    let calls = store.calls();
    assert_eq!(calls[..2], ["get_claims", "get_roles"]);
    assert_eq!(calls[2..], ["role.find_by_name", "role.get_claims"].repeat(3));
    assert_eq!(principal, bulk);
    Ok(())
}

#[tokio::test]
async fn a_principal_from_data_already_read_costs_no_store_call_and_matches() -> TestResult {
    let (memory, alice) = seeded().await?;
    let store = Arc::new(CountingStore::new(memory, true));
    let factory = counted_factory(&store);
    let expected = factory.create(&alice).await?;
    let data = store.load_claims_data(&alice.id).await?.expect("alice is stored");
    let before = store.calls().len();
    assert_eq!(factory.create_from_data(&data).await?, expected);
    // Through a shared `dyn` factory too, as the profile service holds it.
    let shared: Arc<dyn UserClaimsPrincipalFactory<()>> = Arc::new(factory);
    assert_eq!(shared.create_from_data(&data).await?, expected);
    assert_eq!(store.calls().len(), before, "nothing read again: {:?}", &store.calls()[before..]);
    Ok(())
}

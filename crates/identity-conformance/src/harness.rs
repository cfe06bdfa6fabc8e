//! The fixture trait that a store implements, and the harness every case receives: managers
//! configured like .NET's specification tests, test users and roles with unique names, and the
//! test doubles (always-failing validators, a static token provider).

use async_trait::async_trait;
use identity_core::store::{Capability, RoleStore, UserStore};
use identity_core::tokens::TokenProvider;
use identity_core::validators::{PasswordValidator, RoleValidator, UserValidator};
use identity_core::{
    Argon2Params, Clock, IdentityError, IdentityOptions, IdentityPasswordHasher, IdentityResult, IdentityRole,
    IdentityUser, RoleManager, SystemClock, UserManager, UserManagerBuilder,
};
use std::future::Future;
use std::sync::Arc;

/// What a store provides to the suite.
#[async_trait]
pub trait StoreFixture: Send + Sync + 'static {
    /// A user store and a role store over the same data. Cases create users and roles with
    /// unique names, so the stores may share a database with other cases.
    async fn stores(&self) -> (Arc<dyn UserStore<()>>, Arc<dyn RoleStore>);

    /// Capabilities this store does not implement; cases needing them must report
    /// [`CaseError::NotSupported`] with one of these.
    fn unsupported(&self) -> &'static [Capability] {
        &[]
    }

    /// A second pair of stores over a new, empty database of the same backend (the transfer
    /// cases copy from one store into another). `None` when the fixture cannot make one: the
    /// cases that need it then end with `NotSupported(Capability::Transfer)`, which the fixture
    /// must declare in [`unsupported`](Self::unsupported).
    async fn empty_stores(&self) -> Option<EmptyStores> {
        None
    }
}

/// A second pair of stores over a new, empty database of the fixture's backend, for cases that
/// copy data from one store into another; `guard` keeps that database alive until it drops.
pub struct EmptyStores {
    /// The user store.
    pub users: Arc<dyn UserStore<()>>,
    /// The role store, over the same data.
    pub roles: Arc<dyn RoleStore>,
    /// What must live as long as the stores (a test database); dropped after them.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for EmptyStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmptyStores").field("users", &self.users).field("roles", &self.roles).finish_non_exhaustive()
    }
}

/// Why a case did not pass.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaseError {
    /// The store lacks a capability the case needs.
    NotSupported(Capability),
    /// An unexpected error.
    Identity(identity_core::Error),
}

impl From<identity_core::Error> for CaseError {
    fn from(error: identity_core::Error) -> Self {
        match error {
            identity_core::Error::NotSupported(capability) => CaseError::NotSupported(capability),
            other => CaseError::Identity(other),
        }
    }
}

/// The result of a case; assertions inside a case panic.
pub type CaseResult = Result<(), CaseError>;

/// Runs one case against a fixture and turns its outcome into a test verdict.
pub async fn run_case<F, C, Fut>(name: &str, fixture: F, case: C)
where
    F: StoreFixture,
    C: FnOnce(Harness) -> Fut,
    Fut: Future<Output = CaseResult>,
{
    let fixture = Arc::new(fixture);
    let (users, roles) = fixture.stores().await;
    let harness = Harness { users, roles, fixture: Arc::clone(&fixture) as Arc<dyn StoreFixture> };
    match case(harness).await {
        Ok(()) => {}
        Err(CaseError::NotSupported(capability)) if fixture.unsupported().contains(&capability) => {
            eprintln!("{name}: not supported by this store ({capability}), as the fixture declares");
        }
        Err(CaseError::NotSupported(capability)) => {
            panic!("{name}: the store reported {capability} as not supported, but the fixture does not declare it")
        }
        Err(CaseError::Identity(error)) => panic!("{name}: unexpected error: {error}"),
    }
}

/// The stores under test, and factories for configured managers and test data.
#[derive(Clone)]
pub struct Harness {
    users: Arc<dyn UserStore<()>>,
    roles: Arc<dyn RoleStore>,
    /// The fixture, for what cases ask of it during the case (a second, empty store).
    fixture: Arc<dyn StoreFixture>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("users", &self.users).field("roles", &self.roles).finish_non_exhaustive()
    }
}

/// Cheap Argon2id parameters: the suite checks behaviour, not hashing cost.
fn test_hasher() -> Arc<IdentityPasswordHasher> {
    Arc::new(
        IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM)
            .expect("the minimum Argon2 parameters are valid"),
    )
}

impl Harness {
    /// The user store.
    pub fn user_store(&self) -> Arc<dyn UserStore<()>> {
        Arc::clone(&self.users)
    }

    /// The role store.
    pub fn role_store(&self) -> Arc<dyn RoleStore> {
        Arc::clone(&self.roles)
    }

    /// A second pair of stores over a new, empty database ([`StoreFixture::empty_stores`]);
    /// `NotSupported(Transfer)` when the fixture cannot make one.
    pub async fn empty_stores(&self) -> Result<EmptyStores, CaseError> {
        self.fixture.empty_stores().await.ok_or(CaseError::NotSupported(Capability::Transfer))
    }

    /// The options of .NET's specification tests: no character-class password rules, any user
    /// name characters, default lockout.
    pub fn test_options() -> IdentityOptions {
        let mut options = IdentityOptions::default();
        options.password.require_digit = false;
        options.password.require_lowercase = false;
        options.password.require_non_alphanumeric = false;
        options.password.require_uppercase = false;
        options.user.allowed_user_name_characters = None;
        options
    }

    /// A builder with the test options, default token providers and the static test provider.
    pub fn user_manager_builder(&self) -> UserManagerBuilder<()> {
        self.user_manager_builder_with(Self::test_options())
    }

    /// A builder with the given options, default token providers and the static test provider.
    pub fn user_manager_builder_with(&self, options: IdentityOptions) -> UserManagerBuilder<()> {
        self.user_manager_builder_default_providers(options)
            .token_provider(STATIC_PROVIDER, Arc::new(StaticTokenProvider))
    }

    /// A builder with the given options and only the four default token providers, as .NET's
    /// `AddDefaultTokenProviders()` registers them: for cases that list the valid two-factor
    /// providers, where the static test provider would always appear.
    pub fn user_manager_builder_default_providers(&self, options: IdentityOptions) -> UserManagerBuilder<()> {
        UserManager::builder(self.user_store())
            .options(options)
            .password_hasher(test_hasher())
            .default_token_providers(uuid::Uuid::new_v4().as_bytes().to_vec())
    }

    /// A manager with the test options.
    pub fn user_manager(&self) -> UserManager<()> {
        self.user_manager_builder().build()
    }

    /// A manager whose options `configure` adjusts.
    pub fn user_manager_with(&self, configure: impl FnOnce(&mut IdentityOptions)) -> UserManager<()> {
        let mut options = Self::test_options();
        configure(&mut options);
        self.user_manager_builder_with(options).build()
    }

    /// A role manager with the default validator.
    pub fn role_manager(&self) -> RoleManager {
        RoleManager::new(self.role_store())
    }

    /// A user named `prefix` followed by a GUID (or exactly `prefix`), like .NET's `CreateTestUser`.
    pub fn create_test_user(&self, prefix: &str) -> IdentityUser {
        IdentityUser::new(format!("{prefix}{}", uuid::Uuid::new_v4()))
    }

    /// A role named `prefix` followed by a GUID.
    pub fn create_test_role(&self, prefix: &str) -> IdentityRole {
        IdentityRole::new(format!("{prefix}{}", uuid::Uuid::new_v4()))
    }

    /// Creates `user` with `manager`, asserting success, and returns it as written.
    pub async fn insert_user(
        &self,
        manager: &UserManager<()>,
        mut user: IdentityUser,
    ) -> Result<IdentityUser, CaseError> {
        assert_succeeded(&manager.create(&mut user).await?);
        Ok(user)
    }

    /// Creates a role named `prefix` followed by a GUID with `manager`, asserting success.
    pub async fn insert_role(&self, manager: &RoleManager, prefix: &str) -> Result<IdentityRole, CaseError> {
        let mut role = self.create_test_role(prefix);
        assert_succeeded(&manager.create(&mut role).await?);
        Ok(role)
    }

    /// The current time of the real clock (the suite uses the system clock like .NET's tests).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        SystemClock.now()
    }
}

/// Name under which the harness registers [`StaticTokenProvider`].
pub const STATIC_PROVIDER: &str = "Static";

/// .NET's `StaticTokenProvider`: the token is `"{userId}:{purpose}:ImmaToken"`.
#[derive(Debug, Default, Clone, Copy)]
pub struct StaticTokenProvider;

impl StaticTokenProvider {
    fn token(purpose: &str, user: &IdentityUser) -> String {
        format!("{}:{}:ImmaToken", user.id, purpose)
    }
}

#[async_trait]
impl TokenProvider<()> for StaticTokenProvider {
    async fn generate(
        &self,
        purpose: &str,
        _manager: &UserManager<()>,
        user: &IdentityUser,
    ) -> identity_core::Result<String> {
        Ok(Self::token(purpose, user))
    }

    async fn validate(
        &self,
        purpose: &str,
        token: &str,
        _manager: &UserManager<()>,
        user: &IdentityUser,
    ) -> identity_core::Result<bool> {
        Ok(token == Self::token(purpose, user))
    }

    async fn can_generate_two_factor_token(
        &self,
        _manager: &UserManager<()>,
        _user: &IdentityUser,
    ) -> identity_core::Result<bool> {
        Ok(true)
    }
}

/// .NET's `YesPhoneNumberProvider`: accepts every token.
#[derive(Debug, Default, Clone, Copy)]
pub struct YesTokenProvider;

#[async_trait]
impl TokenProvider<()> for YesTokenProvider {
    async fn generate(
        &self,
        _purpose: &str,
        _manager: &UserManager<()>,
        _user: &IdentityUser,
    ) -> identity_core::Result<String> {
        Ok("yes".to_owned())
    }

    async fn validate(&self, _: &str, _: &str, _: &UserManager<()>, _: &IdentityUser) -> identity_core::Result<bool> {
        Ok(true)
    }

    async fn can_generate_two_factor_token(
        &self,
        _manager: &UserManager<()>,
        _user: &IdentityUser,
    ) -> identity_core::Result<bool> {
        Ok(true)
    }
}

/// The error that [`AlwaysBadValidator`] reports.
pub fn bad_validator_error() -> IdentityError {
    IdentityError::new("BadValidator", "I'm Bad.")
}

/// .NET's `AlwaysBadValidator`: fails users, passwords and roles with `BadValidator`.
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysBadValidator;

/// .NET's `EmptyBadValidator`: fails without any error.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmptyBadValidator;

#[async_trait]
impl UserValidator<()> for AlwaysBadValidator {
    async fn validate(&self, _: &UserManager<()>, _: &IdentityUser) -> identity_core::Result<IdentityResult> {
        Ok(IdentityResult::failed([bad_validator_error()]))
    }
}

#[async_trait]
impl PasswordValidator<()> for AlwaysBadValidator {
    async fn validate(&self, _: &UserManager<()>, _: &IdentityUser, _: &str) -> identity_core::Result<IdentityResult> {
        Ok(IdentityResult::failed([bad_validator_error()]))
    }
}

#[async_trait]
impl RoleValidator for AlwaysBadValidator {
    async fn validate(&self, _: &RoleManager, _: &IdentityRole) -> identity_core::Result<IdentityResult> {
        Ok(IdentityResult::failed([bad_validator_error()]))
    }
}

#[async_trait]
impl PasswordValidator<()> for EmptyBadValidator {
    async fn validate(&self, _: &UserManager<()>, _: &IdentityUser, _: &str) -> identity_core::Result<IdentityResult> {
        Ok(IdentityResult::Failed(Vec::new()))
    }
}

/// Asserts that `result` is an error that `expected` accepts, as .NET's `Assert.ThrowsAsync`. A
/// missing store capability ends the case as [`CaseError::NotSupported`]; any other error is
/// returned as unexpected.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: identity_core::Result<T>,
    expected: impl Fn(&identity_core::Error) -> bool,
) -> CaseResult {
    match result {
        Err(error) if expected(&error) => Ok(()),
        Err(error) => Err(error.into()),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

/// Asserts a success, showing the errors otherwise.
#[track_caller]
pub fn assert_succeeded(result: &IdentityResult) {
    assert!(result.succeeded(), "expected success, got {result}: {:?}", result.errors());
}

/// Asserts a failure whose first error equals `expected` (code and description), as .NET's
/// `IdentityResultAssert.IsFailure`.
#[track_caller]
pub fn assert_failure(result: &IdentityResult, expected: &IdentityError) {
    let first = result.errors().first();
    assert!(!result.succeeded(), "expected failure {expected}, got success");
    assert_eq!(first, Some(expected), "unexpected first error in {result}");
}

//! The factory cases, written once against the core store traits; `main.rs` stamps each on
//! every store.

use async_trait::async_trait;
use identity_claims::claim_types::{dotnet, jwt};
use identity_claims::{
    Claim, ClaimValueType, ClaimsIdentity, ClaimsIdentityOptions, ClaimsPrincipal, DefaultUserClaimsPrincipalFactory,
    Error, OidcClaimsFactory, SECURITY_STAMP_CLAIM_TYPE, UserClaimsPrincipalFactory, claims_to_json,
};
use identity_core::store::{RoleStore, UserStore};
use identity_core::{IdentityResult, IdentityRole, IdentityUser, RoleManager, UserExtension, UserManager};
use serde_json::{Value, json};
use std::any::Any;
use std::sync::Arc;

/// A case's outcome; assertions panic, setup failures are errors.
pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A user store and a role store over the same data.
pub(crate) struct Stores<X: UserExtension> {
    /// The user store.
    pub(crate) users: Arc<dyn UserStore<X>>,
    /// The role store.
    pub(crate) roles: Arc<dyn RoleStore>,
    /// What must live as long as the stores, such as a temporary database directory.
    pub(crate) guard: Box<dyn Any + Send + Sync>,
}

impl<X: UserExtension> Stores<X> {
    /// Both stores over one shared store that needs no guard.
    pub(crate) fn shared<S: UserStore<X> + RoleStore + 'static>(store: Arc<S>) -> Self {
        Self { users: store.clone(), roles: store, guard: Box::new(()) }
    }
}

/// Managers over a fixture's stores, and helpers to seed users and roles.
pub(crate) struct Env<X: UserExtension> {
    /// The user manager.
    pub(crate) users: Arc<UserManager<X>>,
    /// The role manager.
    pub(crate) roles: Arc<RoleManager>,
    _guard: Box<dyn Any + Send + Sync>,
}

fn check(result: IdentityResult) -> Result<(), Box<dyn std::error::Error>> {
    if result.succeeded() { Ok(()) } else { Err(format!("identity operation failed: {result:?}").into()) }
}

impl<X: UserExtension> Env<X> {
    /// Managers with the default configuration.
    pub(crate) fn new(stores: Stores<X>) -> Self {
        Self {
            users: Arc::new(UserManager::builder(stores.users).build()),
            roles: Arc::new(RoleManager::new(stores.roles)),
            _guard: stores.guard,
        }
    }

    /// Creates a role with claims.
    pub(crate) async fn add_role(&self, name: &str, claims: &[(&str, &str)]) -> TestResult {
        let mut role = IdentityRole::new(name);
        check(self.roles.create(&mut role).await?)?;
        for (claim_type, value) in claims {
            check(self.roles.add_claim(&mut role, &identity_core::StoredClaim::new(*claim_type, *value)).await?)?;
        }
        Ok(())
    }

    /// Creates a user named `name`, edited by `edit`, with stored claims and roles (in this
    /// order), and returns it as stored.
    pub(crate) async fn add_user(
        &self,
        name: &str,
        edit: impl FnOnce(&mut IdentityUser<X>),
        claims: &[(&str, &str)],
        roles: &[&str],
    ) -> Result<IdentityUser<X>, Box<dyn std::error::Error>> {
        let mut user = IdentityUser::new(name);
        edit(&mut user);
        check(self.users.create(&mut user).await?)?;
        if !claims.is_empty() {
            let claims: Vec<identity_core::StoredClaim> =
                claims.iter().map(|(claim_type, value)| identity_core::StoredClaim::new(*claim_type, *value)).collect();
            check(self.users.add_claims(&mut user, &claims).await?)?;
        }
        for role in roles {
            check(self.users.add_to_role(&mut user, role).await?)?;
        }
        Ok(self.users.find_by_id(&user.id).await?.ok_or("the new user is not in the store")?)
    }

    /// The default factory with roles.
    pub(crate) fn default_factory(&self, options: ClaimsIdentityOptions) -> DefaultUserClaimsPrincipalFactory<X> {
        DefaultUserClaimsPrincipalFactory::new(self.users.clone(), options).with_roles(self.roles.clone())
    }

    /// What an OpenID Connect server uses: the default factory with OIDC claim types and roles,
    /// decorated.
    pub(crate) fn oidc_factory(&self) -> OidcClaimsFactory<X, DefaultUserClaimsPrincipalFactory<X>> {
        OidcClaimsFactory::with_default_factory(self.users.clone(), Some(self.roles.clone()))
    }
}

/// The claims of a principal as `(type, value)` pairs, in order.
pub(crate) fn pairs(principal: &ClaimsPrincipal) -> Vec<(String, String)> {
    principal.claims().map(|c| (c.claim_type.clone(), c.value.clone())).collect()
}

/// Owned `(type, value)` pairs.
pub(crate) fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(t, v)| ((*t).to_owned(), (*v).to_owned())).collect()
}

fn stamp<X: UserExtension>(user: &IdentityUser<X>) -> Result<&str, Box<dyn std::error::Error>> {
    Ok(user.security_stamp.as_deref().ok_or("the user has no security stamp")?)
}

fn values<'a>(principal: &'a ClaimsPrincipal, claim_type: &'a str) -> Vec<&'a str> {
    principal.find_all(claim_type).map(|c| c.value.as_str()).collect()
}

fn only_identity(principal: &ClaimsPrincipal) -> &ClaimsIdentity {
    assert_eq!(principal.identities.len(), 1, "the factory builds exactly one identity");
    &principal.identities[0]
}

/// Section 7, steps 1-5, with ASP.NET Core Identity's default claim types.
pub(crate) async fn default_factory_writes_dotnet_claim_types_in_order(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let alice = env
        .add_user(
            "alice",
            |u| u.email = Some("alice@example.com".into()),
            &[("given_name", "Alice"), ("website", "https://alice.example")],
            &[],
        )
        .await?;
    let principal = env.default_factory(ClaimsIdentityOptions::default()).create(&alice).await?;

    let identity = only_identity(&principal);
    assert_eq!(identity.authentication_type.as_deref(), Some("Identity.Application"));
    assert_eq!(identity.name_claim_type, dotnet::NAME);
    assert_eq!(identity.role_claim_type, dotnet::ROLE);
    assert_eq!(identity.name(), Some("alice"));
    assert_eq!(
        pairs(&principal),
        expected(&[
            (dotnet::NAME_IDENTIFIER, &alice.id),
            (dotnet::NAME, "alice"),
            (dotnet::EMAIL, "alice@example.com"),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
            ("given_name", "Alice"),
            ("website", "https://alice.example"),
        ])
    );
    assert!(principal.claims().all(|c| c.value_type == ClaimValueType::String && c.issuer == "LOCAL AUTHORITY"));
    Ok(())
}

/// Step 3: no email claim for a missing or empty email.
pub(crate) async fn empty_or_missing_email_gives_no_email_claim(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let factory = env.default_factory(ClaimsIdentityOptions::oidc());
    for email in [None, Some(String::new())] {
        let name = if email.is_some() { "empty" } else { "missing" };
        let user = env.add_user(name, |u| u.email = email, &[], &[]).await?;
        let principal = factory.create(&user).await?;
        assert_eq!(
            pairs(&principal),
            expected(&[("sub", &user.id), ("name", name), (SECURITY_STAMP_CLAIM_TYPE, stamp(&user)?)])
        );
    }
    Ok(())
}

/// Step 2: a user without a user name cannot get a user-name claim.
pub(crate) async fn missing_user_name_is_an_error(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let mut user = env.add_user("alice", |_| {}, &[], &[]).await?;
    user.user_name = None;
    let error = env.default_factory(ClaimsIdentityOptions::oidc()).create(&user).await.err();
    assert!(matches!(&error, Some(Error::MissingUserName { user_id }) if *user_id == user.id), "{error:?}");
    let error = env.oidc_factory().create(&user).await.err();
    assert!(matches!(error, Some(Error::MissingUserName { .. })), "{error:?}");
    Ok(())
}

/// Step 4: a store with stamps requires one.
pub(crate) async fn missing_security_stamp_is_an_error(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let mut user = env.add_user("alice", |_| {}, &[], &[]).await?;
    user.security_stamp = None;
    let error = env.oidc_factory().create(&user).await.err();
    assert!(matches!(error, Some(Error::Identity(identity_core::Error::NullSecurityStamp))), "{error:?}");
    Ok(())
}

/// Roles: for each role in the store's order, a role claim then the role's claims; duplicates
/// kept.
pub(crate) async fn roles_add_a_role_claim_then_the_role_claims(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let role_claims: [(&str, &[(&str, &str)]); 3] =
        [("admin", &[("perm", "read"), ("perm", "write")]), ("user", &[("perm", "read")]), ("guest", &[])];
    for (role, claims) in role_claims {
        env.add_role(role, claims).await?;
    }
    let alice = env.add_user("alice", |_| {}, &[("perm", "own")], &["user", "admin", "guest"]).await?;
    let principal = env.default_factory(ClaimsIdentityOptions::oidc()).create(&alice).await?;

    let mut expected_pairs = expected(&[
        ("sub", &alice.id),
        ("name", "alice"),
        (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
        ("perm", "own"),
    ]);
    let store_order = env.users.get_roles(&alice).await?;
    assert_eq!(store_order.len(), 3);
    for role in &store_order {
        expected_pairs.push(("role".to_owned(), role.clone()));
        let (_, claims) = role_claims.iter().find(|(name, _)| name == role).ok_or("unexpected role")?;
        expected_pairs.extend(expected(claims));
    }
    assert_eq!(pairs(&principal), expected_pairs);
    assert_eq!(only_identity(&principal).role_claim_type, "role");
    assert!(principal.is_in_role("admin") && principal.is_in_role("guest"));

    let json = claims_to_json(principal.claims());
    assert_eq!(json["role"], json!(store_order));
    assert_eq!(values(&principal, "perm").iter().filter(|v| **v == "read").count(), 2);
    assert_eq!(json["perm"].as_array().map(Vec::len), Some(4));
    Ok(())
}

/// .NET's `UserClaimsPrincipalFactory<TUser>` (no role manager) adds no role claims.
pub(crate) async fn without_a_role_manager_there_are_no_role_claims(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    env.add_role("admin", &[("perm", "write")]).await?;
    let alice = env.add_user("alice", |_| {}, &[("perm", "own")], &["admin"]).await?;
    let factory = DefaultUserClaimsPrincipalFactory::new(env.users.clone(), ClaimsIdentityOptions::oidc());
    let principal = factory.create(&alice).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            ("sub", &alice.id),
            ("name", "alice"),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
            ("perm", "own")
        ])
    );
    Ok(())
}

/// A user the store does not know gets the claims of its own fields only.
pub(crate) async fn unsaved_user_gets_only_its_own_fields(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    env.add_role("admin", &[("perm", "write")]).await?;
    let ghost = IdentityUser::<()>::new("ghost");
    let principal = env.oidc_factory().create(&ghost).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            ("sub", &ghost.id),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&ghost)?),
            ("preferred_username", "ghost"),
            ("name", "ghost"),
        ])
    );
    Ok(())
}

/// The decorator: `sub` kept, the user-name claim becomes `preferred_username`, `name` falls
/// back to the user name, `email` not duplicated, `email_verified` boolean, stamp kept.
pub(crate) async fn oidc_moves_the_user_name_to_preferred_username(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let alice = env
        .add_user(
            "alice",
            |u| {
                u.email = Some("alice@example.com".into());
                u.email_confirmed = true;
            },
            &[],
            &[],
        )
        .await?;
    let principal = env.oidc_factory().create(&alice).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            ("sub", &alice.id),
            ("email", "alice@example.com"),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
            ("preferred_username", "alice"),
            ("name", "alice"),
            ("email_verified", "true"),
        ])
    );
    let identity = only_identity(&principal);
    assert_eq!(identity.name(), Some("alice"));
    assert_eq!(identity.find_first("email_verified").map(|c| c.value_type), Some(ClaimValueType::Boolean));
    Ok(())
}

/// A stored `name` claim is the display name; the user name only goes to `preferred_username`.
pub(crate) async fn oidc_stored_name_claim_wins(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let alice = env.add_user("alice", |_| {}, &[("name", "Alice Smith"), ("given_name", "Alice")], &[]).await?;
    let principal = env.oidc_factory().create(&alice).await?;
    assert_eq!(values(&principal, "name"), ["Alice Smith"]);
    assert_eq!(values(&principal, "preferred_username"), ["alice"]);
    assert_eq!(claims_to_json(principal.claims())["name"], json!("Alice Smith"));

    // A stored `name` equal to the user name: only the first (the factory's) one moves.
    let bob = env.add_user("bob", |_| {}, &[("name", "bob")], &[]).await?;
    let principal = env.oidc_factory().create(&bob).await?;
    assert_eq!(values(&principal, "name"), ["bob"]);
    assert_eq!(values(&principal, "preferred_username"), ["bob"]);
    Ok(())
}

/// `email_verified` and `phone_number_verified` are booleans from the confirmation flags; no
/// email or phone, no claims.
pub(crate) async fn oidc_email_verified_and_phone_claims_follow_confirmation(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let carol = env
        .add_user(
            "carol",
            |u| {
                u.email = Some("carol@example.com".into());
                u.phone_number = Some("+31 20 123 4567".into());
                u.phone_number_confirmed = true;
            },
            &[],
            &[],
        )
        .await?;
    let principal = env.oidc_factory().create(&carol).await?;
    let tail: Vec<(String, String)> = pairs(&principal).split_off(5);
    assert_eq!(
        tail,
        expected(&[
            ("email_verified", "false"),
            ("phone_number", "+31 20 123 4567"),
            ("phone_number_verified", "true"),
        ])
    );
    let json = claims_to_json(principal.claims());
    assert_eq!(json["email_verified"], json!(false));
    assert_eq!(json["phone_number_verified"], json!(true));

    let dave = env.add_user("dave", |u| u.phone_number = Some("555".into()), &[], &[]).await?;
    let principal = env.oidc_factory().create(&dave).await?;
    assert_eq!(claims_to_json(principal.claims())["phone_number_verified"], json!(false));
    assert!(principal.find_first("email").is_none() && principal.find_first("email_verified").is_none());

    let erin = env.add_user("erin", |_| {}, &[], &[]).await?;
    let principal = env.oidc_factory().create(&erin).await?;
    for absent in ["email", "email_verified", "phone_number", "phone_number_verified"] {
        assert!(principal.find_first(absent).is_none(), "{absent}");
    }
    Ok(())
}

/// Blank values: the inner factory tests emptiness, the decorator blankness.
pub(crate) async fn oidc_blank_email_and_phone(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let user = env
        .add_user(
            "blank",
            |u| {
                u.email = Some("  ".into());
                u.email_confirmed = true;
                u.phone_number = Some(" ".into());
            },
            &[],
            &[],
        )
        .await?;
    let principal = env.oidc_factory().create(&user).await?;
    assert_eq!(values(&principal, "email"), ["  "]);
    for absent in ["email_verified", "phone_number", "phone_number_verified"] {
        assert!(principal.find_first(absent).is_none(), "{absent}");
    }
    Ok(())
}

/// With .NET's claim types the decorator still checks the short `sub`, `name` and `email`
/// types, and moves the configured user-name claim.
pub(crate) async fn oidc_with_dotnet_claim_types_adds_the_oidc_types(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    let alice = env.add_user("alice", |u| u.email = Some("alice@example.com".into()), &[], &[]).await?;
    let options = ClaimsIdentityOptions::default();
    let factory = OidcClaimsFactory::new(env.default_factory(options.clone()), env.users.clone(), options);
    let principal = factory.create(&alice).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            (dotnet::NAME_IDENTIFIER, &alice.id),
            (dotnet::EMAIL, "alice@example.com"),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
            ("sub", &alice.id),
            ("preferred_username", "alice"),
            ("name", "alice"),
            ("email", "alice@example.com"),
            ("email_verified", "false"),
        ])
    );
    Ok(())
}

/// An application's extra user fields.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Staff {
    /// The department.
    pub(crate) department: String,
}

/// The default claims plus the department.
struct DepartmentFactory(DefaultUserClaimsPrincipalFactory<Staff>);

#[async_trait]
impl UserClaimsPrincipalFactory<Staff> for DepartmentFactory {
    async fn create(&self, user: &IdentityUser<Staff>) -> identity_claims::Result<ClaimsPrincipal> {
        let mut principal = self.0.create(user).await?;
        if let Some(identity) = principal.identity_mut() {
            identity.add(Claim::new("department", &user.extra.department));
        }
        Ok(principal)
    }
}

/// A factory built from scratch: only the department, no user id, user name or email.
struct ScratchFactory;

#[async_trait]
impl UserClaimsPrincipalFactory<Staff> for ScratchFactory {
    async fn create(&self, user: &IdentityUser<Staff>) -> identity_claims::Result<ClaimsPrincipal> {
        let mut identity = ClaimsIdentity::with_claim_types("custom", jwt::NAME, jwt::ROLE);
        identity.add(Claim::new("department", &user.extra.department));
        Ok(ClaimsPrincipal::new(identity))
    }
}

/// A factory that returns a principal without identities.
struct EmptyFactory;

#[async_trait]
impl UserClaimsPrincipalFactory<Staff> for EmptyFactory {
    async fn create(&self, _user: &IdentityUser<Staff>) -> identity_claims::Result<ClaimsPrincipal> {
        Ok(ClaimsPrincipal::default())
    }
}

/// A user-supplied factory is decorated, not replaced.
pub(crate) async fn custom_factory_is_decorated(stores: Stores<Staff>) -> TestResult {
    let env = Env::new(stores);
    let alice = env
        .add_user(
            "alice",
            |u| {
                u.email = Some("alice@example.com".into());
                u.email_confirmed = true;
                u.extra.department = "Research".into();
            },
            &[],
            &[],
        )
        .await?;
    assert_eq!(alice.extra.department, "Research", "the store keeps the extension");
    let options = ClaimsIdentityOptions::oidc();

    let wrapped = DepartmentFactory(env.default_factory(options.clone()));
    let principal = OidcClaimsFactory::new(wrapped, env.users.clone(), options.clone()).create(&alice).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            ("sub", &alice.id),
            ("email", "alice@example.com"),
            (SECURITY_STAMP_CLAIM_TYPE, stamp(&alice)?),
            ("department", "Research"),
            ("preferred_username", "alice"),
            ("name", "alice"),
            ("email_verified", "true"),
        ])
    );

    let boxed: Box<dyn UserClaimsPrincipalFactory<Staff>> = Box::new(ScratchFactory);
    let principal = OidcClaimsFactory::new(boxed, env.users.clone(), options.clone()).create(&alice).await?;
    assert_eq!(
        pairs(&principal),
        expected(&[
            ("department", "Research"),
            ("sub", &alice.id),
            ("name", "alice"),
            ("email", "alice@example.com"),
            ("email_verified", "true"),
        ])
    );
    assert_eq!(only_identity(&principal).authentication_type.as_deref(), Some("custom"));

    let error = OidcClaimsFactory::new(EmptyFactory, env.users.clone(), options).create(&alice).await.err();
    assert!(matches!(error, Some(Error::NoIdentity)), "{error:?}");
    Ok(())
}

/// The decorated principal as a userinfo-style JSON object.
pub(crate) async fn oidc_principal_as_json(stores: Stores<()>) -> TestResult {
    let env = Env::new(stores);
    env.add_role("admin", &[("perm", "write")]).await?;
    env.add_role("user", &[]).await?;
    let alice = env
        .add_user(
            "alice",
            |u| {
                u.email = Some("alice@example.com".into());
                u.email_confirmed = true;
                u.phone_number = Some("555-0100".into());
            },
            &[("name", "Alice Smith"), ("address", r#"{"country":"NL"}"#)],
            &["admin", "user"],
        )
        .await?;
    let principal = env.oidc_factory().create(&alice).await?;
    let roles = env.users.get_roles(&alice).await?;
    let expected = json!({
        "sub": alice.id,
        "preferred_username": "alice",
        "name": "Alice Smith",
        "email": "alice@example.com",
        "email_verified": true,
        "phone_number": "555-0100",
        "phone_number_verified": false,
        "AspNet.Identity.SecurityStamp": stamp(&alice)?,
        "address": r#"{"country":"NL"}"#,
        "role": roles,
        "perm": "write",
    });
    assert_eq!(Value::Object(claims_to_json(principal.claims())), expected);
    Ok(())
}

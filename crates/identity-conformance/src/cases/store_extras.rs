//! Store-level cases of .NET's EF store tests (`UserStoreTest`, `SqlStoreTestBase`) that apply to
//! any store: optimistic concurrency for users and roles, salted hashes, store errors, cascading
//! deletes, and users read back with their claims, logins and roles. Where .NET opens a second
//! `DbContext`, a case uses a second manager over the same store.

use crate::harness::{Harness, assert_error, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::store::Capability;
use identity_core::{Error, IdentityResult, IdentityRole, IdentityUser, StoredClaim, UserLoginInfo, UserManager};

/// The store's copy of a user.
async fn load_user(manager: &UserManager<()>, id: &str) -> Result<IdentityUser, CaseError> {
    Ok(manager.find_by_id(id).await?.expect("the user is stored"))
}

/// The store's copy of a role.
async fn load_role(h: &Harness, id: &str) -> Result<IdentityRole, CaseError> {
    Ok(h.role_manager().find_by_id(id).await?.expect("the role is stored"))
}

/// A fresh GUID, as a new user or role name.
fn new_name() -> Option<String> {
    Some(uuid::Uuid::new_v4().to_string())
}

/// Asserts a `ConcurrencyFailure`.
#[track_caller]
fn assert_concurrency_failure(result: &IdentityResult) {
    assert_failure(result, &identity_core::ErrorDescriber.concurrency_failure());
}

/// A created user and two copies loaded through two managers, as two `DbContext`s would.
async fn user_loaded_twice(h: &Harness) -> Result<(IdentityUser, IdentityUser, IdentityUser), CaseError> {
    let user = h.insert_user(&h.user_manager(), h.create_test_user("")).await?;
    let first = load_user(&h.user_manager(), &user.id).await?;
    let second = load_user(&h.user_manager(), &user.id).await?;
    Ok((user, first, second))
}

/// A created role and two copies loaded through two managers.
async fn role_loaded_twice(h: &Harness) -> Result<(IdentityRole, IdentityRole, IdentityRole), CaseError> {
    let role = h.insert_role(&h.role_manager(), "").await?;
    let first = load_role(h, &role.id).await?;
    let second = load_role(h, &role.id).await?;
    Ok((role, first, second))
}

/// Renames `winner` and `loser` independently and writes them in that order: the second write
/// is stale.
async fn user_update_race(h: &Harness, mut winner: IdentityUser, mut loser: IdentityUser) -> CaseResult {
    winner.user_name = new_name();
    loser.user_name = new_name();
    assert_succeeded(&h.user_manager().update(&mut winner).await?);
    assert_concurrency_failure(&h.user_manager().update(&mut loser).await?);
    let stored = load_user(&h.user_manager(), &winner.id).await?;
    assert_eq!(stored.user_name, winner.user_name, "the first write stays");
    Ok(())
}

/// The role version of [`user_update_race`].
async fn role_update_race(h: &Harness, mut winner: IdentityRole, mut loser: IdentityRole) -> CaseResult {
    winner.name = new_name();
    loser.name = new_name();
    assert_succeeded(&h.role_manager().update(&mut winner).await?);
    assert_concurrency_failure(&h.role_manager().update(&mut loser).await?);
    assert_eq!(load_role(h, &winner.id).await?.name, winner.name, "the first write stays");
    Ok(())
}

/// `ConcurrentUpdatesWillFail`.
pub async fn concurrent_updates_will_fail(h: Harness) -> CaseResult {
    let (_, first, second) = user_loaded_twice(&h).await?;
    user_update_race(&h, first, second).await
}

/// `ConcurrentUpdatesWillFailWithDetachedUser`: the instance that created the user wins.
pub async fn concurrent_updates_will_fail_with_detached_user(h: Harness) -> CaseResult {
    let (detached, _, second) = user_loaded_twice(&h).await?;
    user_update_race(&h, detached, second).await
}

/// `DeleteAModifiedUserWillFail`.
pub async fn delete_a_modified_user_will_fail(h: Harness) -> CaseResult {
    let (_, mut first, second) = user_loaded_twice(&h).await?;
    first.user_name = new_name();
    assert_succeeded(&h.user_manager().update(&mut first).await?);
    assert_concurrency_failure(&h.user_manager().delete(&second).await?);
    load_user(&h.user_manager(), &first.id).await?;
    Ok(())
}

/// `ConcurrentRoleUpdatesWillFail`.
pub async fn concurrent_role_updates_will_fail(h: Harness) -> CaseResult {
    let (_, first, second) = role_loaded_twice(&h).await?;
    role_update_race(&h, first, second).await
}

/// `ConcurrentRoleUpdatesWillFailWithDetachedRole`: the instance that created the role wins.
pub async fn concurrent_role_updates_will_fail_with_detached_role(h: Harness) -> CaseResult {
    let (detached, _, second) = role_loaded_twice(&h).await?;
    role_update_race(&h, detached, second).await
}

/// `DeleteAModifiedRoleWillFail`.
pub async fn delete_a_modified_role_will_fail(h: Harness) -> CaseResult {
    let (_, mut first, second) = role_loaded_twice(&h).await?;
    first.name = new_name();
    assert_succeeded(&h.role_manager().update(&mut first).await?);
    assert_concurrency_failure(&h.role_manager().delete(&second).await?);
    load_role(&h, &first.id).await?;
    Ok(())
}

/// `TwoUsersSamePasswordDifferentHash`: hashes are salted.
pub async fn two_users_same_password_different_hash(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut hashes = Vec::new();
    for _ in 0..2 {
        let mut user = IdentityUser::new(uuid::Uuid::new_v4().to_string());
        assert_succeeded(&manager.create_with_password(&mut user, "password").await?);
        let stored = load_user(&manager, &user.id).await?;
        assert_eq!(stored.password_hash, user.password_hash);
        hashes.push(stored.password_hash.expect("a password hash"));
    }
    assert_ne!(hashes[0], hashes[1]);
    Ok(())
}

/// `FindByEmailThrowsWithTwoUsersWithSameEmail`: two users sharing an email make a lookup by it
/// `InconsistentData` (.NET's `SingleOrDefault` throws).
pub async fn find_by_email_throws_with_two_users_with_same_email(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let email = format!("dupe{}@dupe.com", uuid::Uuid::new_v4());
    for _ in 0..2 {
        let mut user = IdentityUser::new(uuid::Uuid::new_v4().to_string());
        user.email = Some(email.clone());
        assert_succeeded(&manager.create_with_password(&mut user, "password").await?);
    }
    assert_error(manager.find_by_email(&email).await, |e| matches!(e, Error::InconsistentData(_)))
}

/// `AddUserToUnknownRoleFails`: `RoleNotFound` (an exception in .NET, not an `IdentityResult`).
pub async fn add_user_to_unknown_role_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let bogus = format!("bogus{}", uuid::Uuid::new_v4());
    assert_error(manager.add_to_role(&mut user, &bogus).await, |e| matches!(e, Error::RoleNotFound(_)))?;
    assert!(manager.get_roles(&user).await?.is_empty());
    Ok(())
}

/// `DeleteRoleNonEmptySucceedsTest`: deleting a role removes its memberships.
pub async fn delete_role_non_empty_succeeds_test(h: Harness) -> CaseResult {
    let users = h.user_manager();
    let roles = h.role_manager();
    let role_name = format!("delete{}", uuid::Uuid::new_v4());
    let mut role = IdentityRole::new(&role_name);
    assert!(!roles.role_exists(&role_name).await?);
    assert_succeeded(&roles.create(&mut role).await?);
    let mut user = h.insert_user(&users, h.create_test_user("")).await?;
    assert_succeeded(&users.add_to_role(&mut user, &role_name).await?);
    assert_eq!(users.get_roles(&user).await?, [role_name.as_str()]);
    assert_succeeded(&roles.delete(&role).await?);
    assert_eq!(roles.find_by_name(&role_name).await?, None);
    assert!(!roles.role_exists(&role_name).await?);
    assert!(users.get_roles(&user).await?.is_empty());
    Ok(())
}

/// `DeleteUserRemovesFromRoleTest`: deleting a user removes its memberships.
pub async fn delete_user_removes_from_role_test(h: Harness) -> CaseResult {
    let users = h.user_manager();
    let role = h.insert_role(&h.role_manager(), "deleteNonEmpty").await?;
    let role_name = role.name.as_deref().expect("test roles have names");
    let mut user = h.insert_user(&users, h.create_test_user("")).await?;
    assert_succeeded(&users.add_to_role(&mut user, role_name).await?);
    assert_eq!(users.get_users_in_role(role_name).await?.len(), 1);
    assert_succeeded(&users.delete(&user).await?);
    assert!(users.get_users_in_role(role_name).await?.is_empty());
    assert!(users.get_roles(&user).await?.is_empty());
    assert!(h.role_manager().role_exists(role_name).await?, "the role stays");
    Ok(())
}

/// `DeleteUserRemovesTokensTest`.
pub async fn delete_user_removes_tokens_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_succeeded(&manager.set_authentication_token(&mut user, "provider", "test", Some("value")).await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "test").await?.as_deref(), Some("value"));
    assert_succeeded(&manager.delete(&user).await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "test").await?, None);
    Ok(())
}

/// .NET's `LazyLoadTestSetup`: creates `user` with a login (keyed by its id), two roles and two
/// claims.
async fn create_with_login_roles_and_claims(h: &Harness, mut user: IdentityUser) -> Result<IdentityUser, CaseError> {
    let manager = h.user_manager();
    assert_succeeded(&manager.create(&mut user).await?);
    let login = UserLoginInfo::new("provider", user.id.clone(), Some("display".to_owned()));
    assert_succeeded(&manager.add_login(&mut user, &login).await?);
    for prefix in ["Admin", "Local"] {
        let role = h.insert_role(&h.role_manager(), prefix).await?;
        assert_succeeded(&manager.add_to_role(&mut user, role.name.as_deref().unwrap_or_default()).await?);
    }
    for claim in [StoredClaim::new("Whatever", "Value"), StoredClaim::new("Whatever2", "Value2")] {
        assert_succeeded(&manager.add_claim(&mut user, claim).await?);
    }
    Ok(user)
}

/// Asserts that a user found through a new manager (.NET: a fresh `DbContext`) comes with its 2
/// claims, 1 login and 2 roles.
async fn assert_loaded(manager: &UserManager<()>, found: Option<IdentityUser>, expected: &IdentityUser) -> CaseResult {
    let found = found.expect("the user is found");
    assert_eq!(found.id, expected.id);
    assert_eq!(manager.get_claims(&found).await?.len(), 2);
    assert_eq!(manager.get_logins(&found).await?.len(), 1);
    assert_eq!(manager.get_roles(&found).await?.len(), 2);
    Ok(())
}

/// The bulk read of a user with claims, roles and role claims (what the claims factory and the
/// profile service use to read a user once) agrees with the individual reads: the same user, the
/// same claims, every role with exactly its claims; `None` for an unknown id.
pub async fn load_claims_data_matches_individual_reads(h: Harness) -> CaseResult {
    let store = h.user_store();
    let bulk = store.claims_data_store().ok_or(CaseError::NotSupported(Capability::ClaimsData))?;
    let user = create_with_login_roles_and_claims(&h, h.create_test_user("")).await?;
    let roles = h.role_manager();
    let mut roles_with_claims = Vec::new();
    for name in h.user_manager().get_roles(&user).await? {
        let role = roles.find_by_name(&name).await?.expect("the role exists");
        roles_with_claims.push(role);
    }
    let mut first = roles_with_claims.first().cloned().expect("two roles");
    for permission in ["orders.read", "orders.write"] {
        assert_succeeded(&roles.add_claim(&mut first, &StoredClaim::new("permission", permission)).await?);
    }
    let mut other = h.insert_user(&h.user_manager(), h.create_test_user("")).await?;
    assert_succeeded(&h.user_manager().add_to_role(&mut other, first.name.as_deref().unwrap_or_default()).await?);

    let data = bulk.load_claims_data(&user.id).await?.expect("the user is found");
    let manager = h.user_manager();
    assert_eq!(Some(&data.user), manager.find_by_id(&user.id).await?.as_ref(), "the same user, every field");
    let mut claims = data.claims.clone();
    claims.sort_by(|a, b| (&a.claim_type, &a.value).cmp(&(&b.claim_type, &b.value)));
    let mut expected_claims = manager.get_claims(&user).await?;
    expected_claims.sort_by(|a, b| (&a.claim_type, &a.value).cmp(&(&b.claim_type, &b.value)));
    assert_eq!(claims, expected_claims);
    let values = |claims: &[StoredClaim]| {
        let mut values: Vec<_> = claims.iter().map(|c| (c.claim_type.clone(), c.value.clone())).collect();
        values.sort();
        values
    };
    let mut loaded: Vec<_> = data.roles.iter().map(|loaded| (loaded.role.clone(), values(&loaded.claims))).collect();
    loaded.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut expected = Vec::new();
    for role in &roles_with_claims {
        let stored = roles.find_by_id(&role.id).await?.expect("the role exists");
        expected.push((stored, values(&roles.get_claims(role).await?)));
    }
    expected.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    assert_eq!(loaded, expected, "every role once, with exactly its claims");
    assert_eq!(bulk.load_claims_data(&uuid::Uuid::new_v4().to_string()).await?, None);
    Ok(())
}

/// `LoadFromDbFindByIdTest`.
pub async fn load_from_db_find_by_id_test(h: Harness) -> CaseResult {
    let user = create_with_login_roles_and_claims(&h, h.create_test_user("")).await?;
    let manager = h.user_manager();
    assert_loaded(&manager, manager.find_by_id(&user.id).await?, &user).await
}

/// `LoadFromDbFindByNameTest`.
pub async fn load_from_db_find_by_name_test(h: Harness) -> CaseResult {
    let user = create_with_login_roles_and_claims(&h, h.create_test_user("")).await?;
    let manager = h.user_manager();
    let name = user.user_name.as_deref().expect("test users have names");
    assert_loaded(&manager, manager.find_by_name(name).await?, &user).await
}

/// `LoadFromDbFindByLoginTest`.
pub async fn load_from_db_find_by_login_test(h: Harness) -> CaseResult {
    let user = create_with_login_roles_and_claims(&h, h.create_test_user("")).await?;
    let manager = h.user_manager();
    assert_loaded(&manager, manager.find_by_login("provider", &user.id).await?, &user).await
}

/// `LoadFromDbFindByEmailTest`: the email carries a GUID so that it is unique in a shared
/// database.
pub async fn load_from_db_find_by_email_test(h: Harness) -> CaseResult {
    let mut user = h.create_test_user("");
    user.email = Some(format!("fooz{}@fizzy.pop", uuid::Uuid::new_v4()));
    let user = create_with_login_roles_and_claims(&h, user).await?;
    let manager = h.user_manager();
    let email = user.email.as_deref().expect("an email");
    assert_loaded(&manager, manager.find_by_email(email).await?, &user).await
}

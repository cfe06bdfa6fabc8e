//! Roles: creating, validating, finding, renaming and deleting them, their claims, listing them,
//! and the users in them.

use crate::harness::{AlwaysBadValidator, Harness, assert_failure, assert_succeeded, bad_validator_error};
use crate::{CaseError, CaseResult};
use identity_core::{IdentityRole, IdentityUser, RoleManager, StoredClaim, UserManager};
use std::sync::Arc;

/// The name of a test role.
fn name(role: &IdentityRole) -> &str {
    role.name.as_deref().expect("test roles have names")
}

/// A role manager whose only validators are `count` [`AlwaysBadValidator`]s.
fn bad_role_manager(h: &Harness, count: usize) -> RoleManager {
    (0..count)
        .fold(h.role_manager().without_validators(), |manager, _| manager.with_validator(Arc::new(AlwaysBadValidator)))
}

/// .NET's `GenerateRoles`: `count` created roles named `prefix` followed by a GUID.
async fn insert_roles(
    h: &Harness,
    manager: &RoleManager,
    prefix: &str,
    count: usize,
) -> Result<Vec<IdentityRole>, CaseError> {
    let mut roles = Vec::with_capacity(count);
    for _ in 0..count {
        roles.push(h.insert_role(manager, prefix).await?);
    }
    Ok(roles)
}

/// .NET's `GenerateUsers`: `count` created users named `prefix` followed by a GUID.
async fn insert_users(
    h: &Harness,
    manager: &UserManager<()>,
    prefix: &str,
    count: usize,
) -> Result<Vec<IdentityUser>, CaseError> {
    let mut users = Vec::with_capacity(count);
    for _ in 0..count {
        users.push(h.insert_user(manager, h.create_test_user(prefix)).await?);
    }
    Ok(users)
}

/// Adds `user` to `role`, asserting success and membership.
async fn add_to_role(manager: &UserManager<()>, user: &mut IdentityUser, role: &str) -> CaseResult {
    assert_succeeded(&manager.add_to_role(user, role).await?);
    assert!(manager.is_in_role(user, role).await?, "member of {role}");
    Ok(())
}

/// Removes `user` from `role`, asserting success and that the membership is gone.
async fn remove_from_role(manager: &UserManager<()>, user: &mut IdentityUser, role: &str) -> CaseResult {
    assert_succeeded(&manager.remove_from_role(user, role).await?);
    assert!(!manager.is_in_role(user, role).await?, "no longer a member of {role}");
    Ok(())
}

/// Creates `role`, asserting that it exists only afterwards.
async fn create_asserting_existence(manager: &RoleManager, role: &mut IdentityRole) -> CaseResult {
    let role_name = name(role).to_owned();
    assert!(!manager.role_exists(&role_name).await?);
    assert_succeeded(&manager.create(role).await?);
    assert!(manager.role_exists(&role_name).await?);
    Ok(())
}

/// The sorted ids of `users`.
fn sorted_ids<'a>(users: impl IntoIterator<Item = &'a IdentityUser>) -> Vec<String> {
    let mut ids: Vec<String> = users.into_iter().map(|u| u.id.clone()).collect();
    ids.sort();
    ids
}

/// `CanCreateRoleTest`.
pub async fn can_create_role_test(h: Harness) -> CaseResult {
    create_asserting_existence(&h.role_manager(), &mut h.create_test_role("CreateRoleTest")).await
}

/// `BadValidatorBlocksCreateRole`.
pub async fn bad_validator_blocks_create_role(h: Harness) -> CaseResult {
    let manager = bad_role_manager(&h, 1);
    let mut role = h.create_test_role("blocked");
    assert_failure(&manager.create(&mut role).await?, &bad_validator_error());
    assert!(!manager.role_exists(name(&role)).await?);
    Ok(())
}

/// `CanChainRoleValidators`.
pub async fn can_chain_role_validators(h: Harness) -> CaseResult {
    let manager = bad_role_manager(&h, 2);
    let result = manager.create(&mut h.create_test_role("blocked")).await?;
    assert_failure(&result, &bad_validator_error());
    assert_eq!(result.errors().len(), 2);
    Ok(())
}

/// `BadValidatorBlocksRoleUpdate`.
pub async fn bad_validator_blocks_role_update(h: Harness) -> CaseResult {
    let mut role = h.insert_role(&h.role_manager(), "poorguy").await?;
    assert_failure(&bad_role_manager(&h, 1).update(&mut role).await?, &bad_validator_error());
    Ok(())
}

/// `CanDeleteRole`.
pub async fn can_delete_role(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.create_test_role("DeleteRoleTest");
    create_asserting_existence(&manager, &mut role).await?;
    assert_succeeded(&manager.delete(&role).await?);
    assert!(!manager.role_exists(name(&role)).await?);
    Ok(())
}

/// `CanAddRemoveRoleClaim`: removing claims from one role leaves another role's identical claims.
pub async fn can_add_remove_role_claim(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.insert_role(&manager, "ClaimsAddRemove").await?;
    let mut safe_role = h.insert_role(&manager, "ClaimsAdd").await?;
    let claims = [StoredClaim::new("c", "v"), StoredClaim::new("c2", "v2"), StoredClaim::new("c2", "v3")];
    for claim in &claims {
        assert_succeeded(&manager.add_claim(&mut role, claim).await?);
        assert_succeeded(&manager.add_claim(&mut safe_role, claim).await?);
    }
    assert_eq!(manager.get_claims(&role).await?.len(), claims.len());
    assert_eq!(manager.get_claims(&safe_role).await?.len(), claims.len());
    for (removed, claim) in claims.iter().enumerate() {
        assert_succeeded(&manager.remove_claim(&mut role, claim).await?);
        assert_eq!(manager.get_claims(&role).await?.len(), claims.len() - removed - 1);
        assert_eq!(manager.get_claims(&safe_role).await?.len(), claims.len(), "the other role's claims");
    }
    Ok(())
}

/// `CanRoleFindById`.
pub async fn can_role_find_by_id(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.create_test_role("FindByIdAsync");
    assert_eq!(manager.find_by_id(&role.id).await?, None);
    assert_succeeded(&manager.create(&mut role).await?);
    assert_eq!(manager.find_by_id(&role.id).await?, Some(role));
    Ok(())
}

/// `CanRoleFindByName`.
pub async fn can_role_find_by_name(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.create_test_role("FindByNameAsync");
    let role_name = name(&role).to_owned();
    assert_eq!(manager.find_by_name(&role_name).await?, None);
    assert!(!manager.role_exists(&role_name).await?);
    assert_succeeded(&manager.create(&mut role).await?);
    assert_eq!(manager.find_by_name(&role_name).await?, Some(role));
    Ok(())
}

/// `CanUpdateRoleName`: the new name carries a GUID so that cases sharing a database do not
/// collide.
pub async fn can_update_role_name(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.create_test_role("update");
    let old_name = name(&role).to_owned();
    create_asserting_existence(&manager, &mut role).await?;
    let new_name = format!("Changed{}", uuid::Uuid::new_v4());
    assert_succeeded(&manager.set_role_name(&mut role, Some(&new_name)));
    assert_succeeded(&manager.update(&mut role).await?);
    assert!(!manager.role_exists(&old_name).await?);
    assert_eq!(manager.find_by_name(&new_name).await?, Some(role));
    Ok(())
}

/// `CanQueryableRoles`: the prefix carries a GUID so that only this case's roles match.
pub async fn can_queryable_roles(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let prefix = format!("CanQuerableRolesTest{}", uuid::Uuid::new_v4());
    let roles = insert_roles(&h, &manager, &prefix, 4).await?;
    let mut listed: Vec<String> = manager.roles(Some(&prefix)).await?.into_iter().map(|r| r.id).collect();
    let mut expected: Vec<String> = roles.into_iter().map(|r| r.id).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    let bogus = format!("bogus{}", uuid::Uuid::new_v4());
    assert!(manager.roles(Some(&bogus)).await?.is_empty());
    Ok(())
}

/// `CreateRoleFailsIfExists`.
pub async fn create_role_fails_if_exists(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let mut role = h.create_test_role("dupeRole");
    create_asserting_existence(&manager, &mut role).await?;
    let mut duplicate = IdentityRole::new(name(&role));
    assert_failure(&manager.create(&mut duplicate).await?, &manager.describer().duplicate_role_name(name(&role)));
    Ok(())
}

/// `CanAddUsersToRole`.
pub async fn can_add_users_to_role(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let role = h.insert_role(&h.role_manager(), "AddUserTest").await?;
    for prefix in ["1", "2", "3", "4"] {
        let mut user = h.insert_user(&manager, h.create_test_user(prefix)).await?;
        add_to_role(&manager, &mut user, name(&role)).await?;
    }
    Ok(())
}

/// `CanGetRolesForUser`.
pub async fn can_get_roles_for_user(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut users = insert_users(&h, &manager, "CanGetRolesForUser", 4).await?;
    let roles = insert_roles(&h, &h.role_manager(), "CanGetRolesForUserRole", 4).await?;
    let mut expected: Vec<&str> = roles.iter().map(name).collect();
    expected.sort_unstable();
    for user in &mut users {
        for role in &roles {
            add_to_role(&manager, user, name(role)).await?;
        }
    }
    for user in &users {
        let mut found = manager.get_roles(user).await?;
        found.sort();
        assert_eq!(found, expected);
    }
    Ok(())
}

/// `RemoveUserFromRoleWithMultipleRoles`.
pub async fn remove_user_from_role_with_multiple_roles(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let roles = insert_roles(&h, &h.role_manager(), "RemoveUserFromRoleWithMultipleRoles", 4).await?;
    for role in &roles {
        add_to_role(&manager, &mut user, name(role)).await?;
    }
    remove_from_role(&manager, &mut user, name(&roles[2])).await?;
    for (index, role) in roles.iter().enumerate() {
        assert_eq!(manager.is_in_role(&user, name(role)).await?, index != 2, "membership of role {index}");
    }
    Ok(())
}

/// `CanRemoveUsersFromRole`.
pub async fn can_remove_users_from_role(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut users = insert_users(&h, &manager, "CanRemoveUsersFromRole", 4).await?;
    let role = h.insert_role(&h.role_manager(), "r1").await?;
    for user in &mut users {
        add_to_role(&manager, user, name(&role)).await?;
    }
    for user in &mut users {
        remove_from_role(&manager, user, name(&role)).await?;
    }
    Ok(())
}

/// `RemoveUserNotInRoleFails`.
pub async fn remove_user_not_in_role_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let role = h.insert_role(&h.role_manager(), "addUserDupeTest").await?;
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let result = manager.remove_from_role(&mut user, name(&role)).await?;
    assert_failure(&result, &manager.describer().user_not_in_role(name(&role)));
    Ok(())
}

/// `AddUserToRoleFailsIfAlreadyInRole`.
pub async fn add_user_to_role_fails_if_already_in_role(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let role = h.insert_role(&h.role_manager(), "addUserDupeTest").await?;
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    add_to_role(&manager, &mut user, name(&role)).await?;
    let result = manager.add_to_role(&mut user, name(&role)).await?;
    assert_failure(&result, &manager.describer().user_already_in_role(name(&role)));
    Ok(())
}

/// `AddUserToRolesIgnoresDuplicates`.
pub async fn add_user_to_roles_ignores_duplicates(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let role = h.insert_role(&h.role_manager(), "addUserDupeTest").await?;
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.is_in_role(&user, name(&role)).await?);
    assert_succeeded(&manager.add_to_roles(&mut user, &[name(&role), name(&role)]).await?);
    assert!(manager.is_in_role(&user, name(&role)).await?);
    assert_eq!(manager.get_roles(&user).await?, [name(&role)]);
    Ok(())
}

/// `CanFindRoleByNameWithManager`.
pub async fn can_find_role_by_name_with_manager(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let role = h.insert_role(&manager, "findRoleByNameTest").await?;
    assert!(manager.find_by_name(name(&role)).await?.is_some());
    Ok(())
}

/// `CanFindRoleWithManager`.
pub async fn can_find_role_with_manager(h: Harness) -> CaseResult {
    let manager = h.role_manager();
    let role = h.insert_role(&manager, "findRoleTest").await?;
    let found = manager.find_by_name(name(&role)).await?.expect("the role is found");
    assert_eq!(found.name, role.name);
    Ok(())
}

/// `CanGetUsersInRole`: 4 roles, 6 users, every other user in all of them.
pub async fn can_get_users_in_role(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let roles = insert_roles(&h, &h.role_manager(), "UsersInRole", 4).await?;
    let role_names: Vec<&str> = roles.iter().map(name).collect();
    let mut members = Vec::new();
    for i in 0..6 {
        let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
        if i % 2 == 0 {
            assert_succeeded(&manager.add_to_roles(&mut user, &role_names).await?);
            members.push(user);
        }
    }
    for role in &role_names {
        assert_eq!(sorted_ids(&manager.get_users_in_role(role).await?), sorted_ids(&members), "members of {role}");
    }
    let unknown = format!("123456{}", uuid::Uuid::new_v4());
    assert!(manager.get_users_in_role(&unknown).await?.is_empty());
    Ok(())
}

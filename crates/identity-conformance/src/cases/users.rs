//! Creating, finding, listing, renaming and deleting users, and security stamp rotation.

use crate::CaseResult;
use crate::harness::{Harness, assert_failure, assert_succeeded};
use identity_core::IdentityUser;
use identity_core::store::UserQuery;

/// `CreateUserWillSetCreateDateOnlyIfSupported`.
pub async fn create_user_will_set_create_date_only_if_supported(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    assert_succeeded(&manager.create(&mut user).await?);
    Ok(())
}

/// `CanDeleteUser`.
pub async fn can_delete_user(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    assert_succeeded(&manager.create(&mut user).await?);
    assert_succeeded(&manager.delete(&user).await?);
    assert!(manager.find_by_id(&user.id).await?.is_none());
    Ok(())
}

/// `CanUpdateUserName`.
pub async fn can_update_user_name(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("UpdateAsync");
    let old_name = user.user_name.clone().unwrap_or_default();
    assert_succeeded(&manager.create(&mut user).await?);
    let new_name = format!("{}", uuid::Uuid::new_v4());
    assert!(manager.find_by_name(&new_name).await?.is_none());
    user.user_name = Some(new_name.clone());
    assert_succeeded(&manager.update(&mut user).await?);
    assert!(manager.find_by_name(&new_name).await?.is_some());
    assert!(manager.find_by_name(&old_name).await?.is_none());
    Ok(())
}

/// `CheckSetUserNameValidatesUser`.
pub async fn check_set_user_name_validates_user(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let username = format!("UpdateAsync{}", uuid::Uuid::new_v4());
    let new_username = format!("New{}", uuid::Uuid::new_v4());
    let mut user = h.create_test_user(&username);
    assert_succeeded(&manager.create(&mut user).await?);
    assert_succeeded(&manager.set_user_name(&mut user, Some(&new_username)).await?);
    let stored = manager.find_by_name(&new_username).await?.expect("renamed user is found");
    assert_eq!(stored.id, user.id);

    let mut other = h.create_test_user("");
    assert_succeeded(&manager.create(&mut other).await?);
    let describer = manager.describer();
    assert_failure(&manager.set_user_name(&mut other, Some("")).await?, &describer.invalid_user_name(""));
    let mut other = manager.find_by_id(&other.id).await?.expect("other user exists");
    assert_failure(
        &manager.set_user_name(&mut other, Some(&new_username)).await?,
        &describer.duplicate_user_name(&new_username),
    );
    Ok(())
}

/// `SetUserNameUpdatesSecurityStamp`.
pub async fn set_user_name_updates_security_stamp(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    assert_succeeded(&manager.create(&mut user).await?);
    let stamp = manager.get_security_stamp(&user).await?;
    let new_name = format!("{}", uuid::Uuid::new_v4());
    assert_succeeded(&manager.set_user_name(&mut user, Some(&new_name)).await?);
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `CanFindById`.
pub async fn can_find_by_id(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    assert_succeeded(&manager.create(&mut user).await?);
    assert!(manager.find_by_id(&user.id).await?.is_some());
    Ok(())
}

/// `ResetAuthenticatorKeyUpdatesSecurityStamp`.
pub async fn reset_authenticator_key_updates_security_stamp(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_succeeded(&manager.reset_authenticator_key(&mut user).await?);
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `AddDupeUserNameFails`.
pub async fn add_dupe_user_name_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user_name = format!("AddDupeUserNameFails{}", uuid::Uuid::new_v4());
    let mut user = IdentityUser::new(user_name.clone());
    let mut other = IdentityUser::new(user_name.clone());
    assert_succeeded(&manager.create(&mut user).await?);
    assert_failure(&manager.create(&mut other).await?, &manager.describer().duplicate_user_name(&user_name));
    Ok(())
}

/// `UpdateSecurityStampActuallyChanges`.
pub async fn update_security_stamp_actually_changes(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert!(!stamp.is_empty());
    assert_succeeded(&manager.update_security_stamp(&mut user).await?);
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `CanFindUsersViaUserQueryable`. The prefix carries a GUID of its own, so that users left by
/// other runs in a shared database are not counted.
pub async fn can_find_users_via_user_queryable(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let prefix = format!("CanFindUsersViaUserQueryable{}", uuid::Uuid::new_v4().simple());
    for _ in 0..4 {
        let mut user = h.create_test_user(&prefix);
        assert_succeeded(&manager.create(&mut user).await?);
    }
    let query = |prefix: &str| UserQuery {
        normalized_user_name_prefix: Some(manager.normalize_name(prefix)),
        ..UserQuery::default()
    };
    assert_eq!(manager.users(&query(&prefix)).await?.len(), 4);
    let bogus = manager.normalize_name("bogus");
    let named_bogus = manager.users(&query("bogus")).await?;
    assert!(named_bogus.iter().all(|u| u.normalized_user_name.as_deref() != Some(bogus.as_str())));
    Ok(())
}

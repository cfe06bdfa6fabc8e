//! External logins: adding, finding, listing and removing them, and one login per user.

use super::passwords::PASSWORD;
use crate::CaseResult;
use crate::harness::{Harness, assert_failure, assert_succeeded};
use identity_core::{IdentityUser, UserLoginInfo, UserManager};

/// A login at `provider` with a unique key and the display name "display".
fn unique_login(provider: &str) -> UserLoginInfo {
    UserLoginInfo::new(provider, uuid::Uuid::new_v4().to_string(), Some("display".to_owned()))
}

/// Asserts that the user's only login is `login`.
async fn assert_single_login(manager: &UserManager<()>, user: &IdentityUser, login: &UserLoginInfo) -> CaseResult {
    let logins = manager.get_logins(user).await?;
    assert_eq!(logins.len(), 1, "exactly one login: {logins:?}");
    assert_eq!(logins[0].login_provider, login.login_provider);
    assert_eq!(logins[0].provider_key, login.provider_key);
    assert_eq!(logins[0].provider_display_name, login.provider_display_name);
    Ok(())
}

/// Asserts that `login` finds `user` (or no one).
async fn assert_login_owner(
    manager: &UserManager<()>,
    login: &UserLoginInfo,
    user: Option<&IdentityUser>,
) -> CaseResult {
    let owner = manager.find_by_login(&login.login_provider, &login.provider_key).await?;
    assert_eq!(owner.map(|u| u.id), user.map(|u| u.id.clone()), "owner of {login:?}");
    Ok(())
}

/// `CanCreateUserAddLogin`.
pub async fn can_create_user_add_login(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let login = unique_login("ZzAuth");
    assert_succeeded(&manager.add_login(&mut user, &login).await?);
    assert_single_login(&manager, &user, &login).await
}

/// `CanCreateUserLoginAndAddPassword`.
pub async fn can_create_user_login_and_add_password(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    let login = UserLoginInfo::new("Provider", user.id.clone(), Some("display".to_owned()));
    assert_succeeded(&manager.create(&mut user).await?);
    assert_succeeded(&manager.add_login(&mut user, &login).await?);
    assert!(!manager.has_password(&user).await?);
    assert_succeeded(&manager.add_password(&mut user, PASSWORD).await?);
    assert!(manager.has_password(&user).await?);
    assert_single_login(&manager, &user, &login).await?;
    assert_login_owner(&manager, &login, Some(&user)).await?;
    assert!(manager.check_password(&mut user, PASSWORD).await?);
    Ok(())
}

/// `CanCreateUserAddRemoveLogin`.
pub async fn can_create_user_add_remove_login(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let login = unique_login("Provider");
    assert_succeeded(&manager.add_login(&mut user, &login).await?);
    assert_login_owner(&manager, &login, Some(&user)).await?;
    assert_single_login(&manager, &user, &login).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_succeeded(&manager.remove_login(&mut user, &login.login_provider, &login.provider_key).await?);
    assert_login_owner(&manager, &login, None).await?;
    assert!(manager.get_logins(&user).await?.is_empty());
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `AddDupeLoginFails`.
pub async fn add_dupe_login_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let login = unique_login("Provider");
    assert_succeeded(&manager.add_login(&mut user, &login).await?);
    assert_failure(&manager.add_login(&mut user, &login).await?, &manager.describer().login_already_associated());
    Ok(())
}

//! Passwords: creating users with and without one, adding, removing, changing and checking
//! passwords, and resetting them with the static token provider.

use crate::harness::{Harness, STATIC_PROVIDER, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::{IdentityOptions, IdentityUser, UserManager};

/// The password most cases start with (long enough for the default six-character rule).
pub(super) const PASSWORD: &str = "password";

/// The password cases change or reset to.
pub(super) const NEW_PASSWORD: &str = "newpassword";

/// Creates a test user named `prefix` + GUID with [`PASSWORD`], asserting success.
pub(super) async fn create_user_with_password(
    h: &Harness,
    manager: &UserManager<()>,
    prefix: &str,
) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user(prefix);
    assert_succeeded(&manager.create_with_password(&mut user, PASSWORD).await?);
    Ok(user)
}

/// Options that issue password reset tokens with the static test provider.
pub(super) fn use_static_reset_tokens(options: &mut IdentityOptions) {
    options.tokens.password_reset_token_provider = STATIC_PROVIDER.into();
}

/// Asserts that `password` is (or is not) the user's password.
async fn assert_password(
    manager: &UserManager<()>,
    user: &mut IdentityUser,
    password: &str,
    expected: bool,
) -> CaseResult {
    assert_eq!(manager.check_password(user, password).await?, expected, "check_password({password:?})");
    Ok(())
}

/// `CanUpdatePasswordUsingHasher`.
pub async fn can_update_password_using_hasher(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "UpdatePassword").await?;
    assert_password(&manager, &mut user, PASSWORD, true).await?;
    user.password_hash = Some(manager.hashing_pool().hash("New").await?);
    assert_succeeded(&manager.update(&mut user).await?);
    assert_password(&manager, &mut user, PASSWORD, false).await?;
    assert_password(&manager, &mut user, "New", true).await
}

/// `CanCreateUserNoPassword`.
pub async fn can_create_user_no_password(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("CreateUserTest");
    let user_name = user.user_name.clone().unwrap_or_default();
    assert_succeeded(&manager.create(&mut user).await?);
    let mut stored = manager.find_by_name(&user_name).await?.expect("the new user is found by name");
    assert!(!manager.has_password(&stored).await?);
    assert_password(&manager, &mut stored, "whatever", false).await?;
    assert!(manager.get_logins(&stored).await?.is_empty());
    Ok(())
}

/// `AddPasswordFailsIfAlreadyHave`.
pub async fn add_password_fails_if_already_have(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "CannotAddAnotherPassword").await?;
    assert!(manager.has_password(&user).await?);
    assert_failure(&manager.add_password(&mut user, PASSWORD).await?, &manager.describer().user_already_has_password());
    Ok(())
}

/// `CanRemovePassword`.
pub async fn can_remove_password(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "CanRemovePassword").await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let user_name = user.user_name.clone().unwrap_or_default();
    assert_succeeded(&manager.remove_password(&mut user).await?);
    let stored = manager.find_by_name(&user_name).await?.expect("the user is still found by name");
    assert!(!manager.has_password(&stored).await?);
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `CanChangePassword`.
pub async fn can_change_password(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "ChangePassword").await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_succeeded(&manager.change_password(&mut user, PASSWORD, NEW_PASSWORD).await?);
    assert_password(&manager, &mut user, PASSWORD, false).await?;
    assert_password(&manager, &mut user, NEW_PASSWORD, true).await?;
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `ChangePasswordFallsIfPasswordWrong`.
pub async fn change_password_falls_if_password_wrong(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "ChangePasswordFails").await?;
    assert_failure(
        &manager.change_password(&mut user, "bogus", NEW_PASSWORD).await?,
        &manager.describer().password_mismatch(),
    );
    Ok(())
}

/// `CanResetPasswordWithStaticTokenProvider`.
pub async fn can_reset_password_with_static_token_provider(h: Harness) -> CaseResult {
    let manager = h.user_manager_with(use_static_reset_tokens);
    let mut user = create_user_with_password(&h, &manager, "ResetPassword").await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let token = manager.generate_password_reset_token(&user).await?;
    assert_succeeded(&manager.reset_password(&mut user, &token, NEW_PASSWORD).await?);
    assert_password(&manager, &mut user, PASSWORD, false).await?;
    assert_password(&manager, &mut user, NEW_PASSWORD, true).await?;
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `ResetPasswordWithStaticTokenProviderFailsWithWrongToken`.
pub async fn reset_password_with_static_token_provider_fails_with_wrong_token(h: Harness) -> CaseResult {
    let manager = h.user_manager_with(use_static_reset_tokens);
    let mut user = create_user_with_password(&h, &manager, "ResetPasswordWrongToken").await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_failure(
        &manager.reset_password(&mut user, "bogus", NEW_PASSWORD).await?,
        &manager.describer().invalid_token(),
    );
    assert_password(&manager, &mut user, PASSWORD, true).await?;
    assert_eq!(stamp, manager.get_security_stamp(&user).await?);
    Ok(())
}

/// `CanGenerateAndVerifyUserTokenWithStaticTokenProvider`.
pub async fn can_generate_and_verify_user_token_with_static_token_provider(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, h.create_test_user("StaticToken")).await?;
    let other = h.insert_user(&manager, h.create_test_user("StaticToken2")).await?;
    let token = manager.generate_user_token(&user, STATIC_PROVIDER, "test").await?;
    assert!(manager.verify_user_token(&user, STATIC_PROVIDER, "test", &token).await?);
    assert!(!manager.verify_user_token(&user, STATIC_PROVIDER, "test2", &token).await?);
    assert!(!manager.verify_user_token(&user, STATIC_PROVIDER, "test", &format!("{token}a")).await?);
    assert!(!manager.verify_user_token(&other, STATIC_PROVIDER, "test", &token).await?);
    Ok(())
}

/// `replace_password` (an administrator's reset, in one write) sets a new password, or a first
/// one, with a new stamp; a password the rules reject leaves everything as it was.
pub async fn replace_password_sets_a_new_one_in_one_write_or_nothing(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "ReplacePassword").await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let before = user.clone();
    assert!(!manager.replace_password(&mut user, "weak").await?.succeeded());
    assert_eq!(user, before, "a rejected password changes nothing");
    assert_password(&manager, &mut user, PASSWORD, true).await?;
    assert_eq!(stamp, manager.get_security_stamp(&user).await?);

    assert_succeeded(&manager.replace_password(&mut user, NEW_PASSWORD).await?);
    assert_password(&manager, &mut user, PASSWORD, false).await?;
    assert_password(&manager, &mut user, NEW_PASSWORD, true).await?;
    assert_ne!(stamp, manager.get_security_stamp(&user).await?);

    let mut without = h.insert_user(&manager, h.create_test_user("ReplaceNoPassword")).await?;
    assert_succeeded(&manager.replace_password(&mut without, NEW_PASSWORD).await?);
    assert_password(&manager, &mut without, NEW_PASSWORD, true).await?;
    Ok(())
}

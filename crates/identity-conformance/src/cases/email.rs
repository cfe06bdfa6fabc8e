//! Emails: finding users by email, the unique-email rule, and email confirmation with the static
//! and the default token providers.

use super::passwords::{NEW_PASSWORD, PASSWORD, create_user_with_password};
use crate::harness::{Harness, STATIC_PROVIDER, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::validators::DefaultUserValidator;
use identity_core::{IdentityUser, UserManager};
use std::sync::Arc;

/// An email address that no other case uses: `prefix` + GUID at `domain`.
fn unique_email(prefix: &str, domain: &str) -> String {
    format!("{prefix}{}@{domain}", uuid::Uuid::new_v4().simple())
}

/// Creates a test user with `email`, asserting success.
async fn create_user_with_email(
    h: &Harness,
    manager: &UserManager<()>,
    email: &str,
) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user("");
    user.email = Some(email.to_owned());
    h.insert_user(manager, user).await
}

/// A manager that confirms emails with the static test provider.
fn static_confirmation_manager(h: &Harness) -> UserManager<()> {
    h.user_manager_with(|o| o.tokens.email_confirmation_token_provider = STATIC_PROVIDER.into())
}

/// `CheckSetEmailValidatesUser`.
pub async fn check_set_email_validates_user(h: Harness) -> CaseResult {
    let mut options = Harness::test_options();
    options.user.require_unique_email = true;
    let manager = h.user_manager_builder_with(options).add_user_validator(Arc::new(DefaultUserValidator)).build();
    let email = unique_email("foo", "example.com");
    let new_email = unique_email("bar", "example.com");
    let mut user = create_user_with_email(&h, &manager, &email).await?;
    assert_succeeded(&manager.set_email(&mut user, Some(&new_email)).await?);
    let found = manager.find_by_email(&new_email).await?.expect("the user is found by the new email");
    assert_eq!(found.id, user.id);

    let mut other = create_user_with_email(&h, &manager, &email).await?;
    let describer = manager.describer();
    assert_failure(&manager.set_email(&mut other, Some(&new_email)).await?, &describer.duplicate_email(&new_email));
    assert_failure(&manager.set_email(&mut other, Some("")).await?, &describer.invalid_email(""));
    Ok(())
}

/// `AddDupeEmailAllowedByDefault`.
pub async fn add_dupe_email_allowed_by_default(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let email = unique_email("yup", "yup.com");
    let user = create_user_with_email(&h, &manager, &email).await?;
    let mut other = create_user_with_email(&h, &manager, &email).await?;
    assert_succeeded(&manager.set_email(&mut other, user.email.as_deref()).await?);
    Ok(())
}

/// `AddDupeEmailFailsWhenUniqueEmailRequired`.
pub async fn add_dupe_email_fails_when_unique_email_required(h: Harness) -> CaseResult {
    let manager = h.user_manager_with(|o| o.user.require_unique_email = true);
    let email = unique_email("FooUser", "yup.com");
    create_user_with_email(&h, &manager, &email).await?;
    let mut other = h.create_test_user("");
    other.email = Some(email.clone());
    assert_failure(&manager.create(&mut other).await?, &manager.describer().duplicate_email(&email));
    Ok(())
}

/// `CanFindByEmail`.
pub async fn can_find_by_email(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let email = unique_email("foo", "bar.com");
    let user = create_user_with_email(&h, &manager, &email).await?;
    let found = manager.find_by_email(&email).await?.expect("the user is found by email");
    assert_eq!(found.id, user.id);
    Ok(())
}

/// `ConfirmEmailFalseByDefaultTest`.
pub async fn confirm_email_false_by_default_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.is_email_confirmed(&user).await?);
    Ok(())
}

/// `CanConfirmEmailWithStaticToken`.
pub async fn can_confirm_email_with_static_token(h: Harness) -> CaseResult {
    let manager = static_confirmation_manager(&h);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.is_email_confirmed(&user).await?);
    let token = manager.generate_email_confirmation_token(&user).await?;
    assert_succeeded(&manager.confirm_email(&mut user, &token).await?);
    assert!(manager.is_email_confirmed(&user).await?);
    assert_succeeded(&manager.set_email(&mut user, None).await?);
    assert!(!manager.is_email_confirmed(&user).await?);
    Ok(())
}

/// `ConfirmEmailWithStaticTokenFailsWithWrongToken`.
pub async fn confirm_email_with_static_token_fails_with_wrong_token(h: Harness) -> CaseResult {
    let manager = static_confirmation_manager(&h);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.is_email_confirmed(&user).await?);
    assert_failure(&manager.confirm_email(&mut user, "bogus").await?, &manager.describer().invalid_token());
    assert!(!manager.is_email_confirmed(&user).await?);
    Ok(())
}

/// `ConfirmTokenFailsAfterPasswordChange`.
pub async fn confirm_token_fails_after_password_change(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = create_user_with_password(&h, &manager, "Test").await?;
    assert!(!manager.is_email_confirmed(&user).await?);
    let token = manager.generate_email_confirmation_token(&user).await?;
    assert_succeeded(&manager.change_password(&mut user, PASSWORD, NEW_PASSWORD).await?);
    assert_failure(&manager.confirm_email(&mut user, &token).await?, &manager.describer().invalid_token());
    assert!(!manager.is_email_confirmed(&user).await?);
    Ok(())
}

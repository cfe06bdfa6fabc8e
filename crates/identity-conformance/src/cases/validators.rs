//! User and password validators: a failing validator blocks every write it guards, validators
//! chain, and the default user validator enforces the email rules when unique emails are required.

use super::passwords::{NEW_PASSWORD, PASSWORD, create_user_with_password, use_static_reset_tokens};
use crate::CaseResult;
use crate::harness::{AlwaysBadValidator, EmptyBadValidator, Harness, assert_failure, bad_validator_error};
use identity_core::validators::PasswordValidator;
use identity_core::{IdentityResult, UserManager};
use std::sync::Arc;

/// A manager with the test options plus one extra password validator.
fn with_password_validator(h: &Harness, validator: Arc<dyn PasswordValidator<()>>) -> UserManager<()> {
    h.user_manager_builder().add_password_validator(validator).build()
}

/// A manager with the test options and the static reset token provider, plus one extra password
/// validator.
fn resetting_with_password_validator(h: &Harness, validator: Arc<dyn PasswordValidator<()>>) -> UserManager<()> {
    let mut options = Harness::test_options();
    use_static_reset_tokens(&mut options);
    h.user_manager_builder_with(options).add_password_validator(validator).build()
}

/// A manager whose only user validator always fails.
fn with_only_bad_user_validator(h: &Harness) -> UserManager<()> {
    h.user_manager_builder().clear_user_validators().add_user_validator(Arc::new(AlwaysBadValidator)).build()
}

/// Asserts a failure that carries no error at all.
#[track_caller]
fn assert_failure_without_errors(result: &IdentityResult) {
    assert!(!result.succeeded(), "expected failure, got success");
    assert!(result.errors().is_empty(), "expected no errors, got {:?}", result.errors());
}

/// `PasswordValidatorWithNoErrorsCanBlockAddPassword`.
pub async fn password_validator_with_no_errors_can_block_add_password(h: Harness) -> CaseResult {
    let manager = h
        .user_manager_builder()
        .clear_password_validators()
        .add_password_validator(Arc::new(EmptyBadValidator))
        .build();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_failure_without_errors(&manager.add_password(&mut user, PASSWORD).await?);
    Ok(())
}

/// `UserValidatorCanBlockCreate`.
pub async fn user_validator_can_block_create(h: Harness) -> CaseResult {
    let manager = with_only_bad_user_validator(&h);
    let mut user = h.create_test_user("");
    assert_failure(&manager.create(&mut user).await?, &bad_validator_error());
    Ok(())
}

/// `UserValidatorCanBlockUpdate`.
pub async fn user_validator_can_block_update(h: Harness) -> CaseResult {
    let mut user = h.insert_user(&h.user_manager(), h.create_test_user("")).await?;
    let manager = with_only_bad_user_validator(&h);
    assert_failure(&manager.update(&mut user).await?, &bad_validator_error());
    Ok(())
}

/// `CanChainUserValidators`.
pub async fn can_chain_user_validators(h: Harness) -> CaseResult {
    let manager = h
        .user_manager_builder()
        .clear_user_validators()
        .add_user_validator(Arc::new(AlwaysBadValidator))
        .add_user_validator(Arc::new(AlwaysBadValidator))
        .build();
    let mut user = h.create_test_user("");
    let result = manager.create(&mut user).await?;
    assert_failure(&result, &bad_validator_error());
    assert_eq!(result.codes(), ["BadValidator", "BadValidator"]);
    Ok(())
}

/// With unique emails required, creating a user with `email` fails with `InvalidEmail(shown)`.
async fn assert_email_blocks_create(h: &Harness, email: Option<&str>, shown: &str) -> CaseResult {
    let manager = h.user_manager_with(|o| o.user.require_unique_email = true);
    let mut user = h.create_test_user("");
    user.email = email.map(str::to_owned);
    assert_failure(&manager.create(&mut user).await?, &manager.describer().invalid_email(shown));
    Ok(())
}

/// `UserValidatorBlocksShortEmailsWhenRequiresUniqueEmail("")`.
pub async fn user_validator_blocks_short_emails_when_requires_unique_email_empty(h: Harness) -> CaseResult {
    assert_email_blocks_create(&h, Some(""), "").await
}

/// `UserValidatorBlocksShortEmailsWhenRequiresUniqueEmail(null)`.
pub async fn user_validator_blocks_short_emails_when_requires_unique_email_null(h: Harness) -> CaseResult {
    assert_email_blocks_create(&h, None, "").await
}

/// `UserValidatorBlocksInvalidEmailsWhenRequiresUniqueEmail("@@afd")`.
pub async fn user_validator_blocks_invalid_emails_when_requires_unique_email_at_at_afd(h: Harness) -> CaseResult {
    assert_email_blocks_create(&h, Some("@@afd"), "@@afd").await
}

/// `UserValidatorBlocksInvalidEmailsWhenRequiresUniqueEmail("bogus")`.
pub async fn user_validator_blocks_invalid_emails_when_requires_unique_email_bogus(h: Harness) -> CaseResult {
    assert_email_blocks_create(&h, Some("bogus"), "bogus").await
}

/// `PasswordValidatorCanBlockAddPassword`.
pub async fn password_validator_can_block_add_password(h: Harness) -> CaseResult {
    let manager = with_password_validator(&h, Arc::new(AlwaysBadValidator));
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_failure(&manager.add_password(&mut user, PASSWORD).await?, &bad_validator_error());
    Ok(())
}

/// `CanChainPasswordValidators`.
pub async fn can_chain_password_validators(h: Harness) -> CaseResult {
    let manager = h
        .user_manager_builder()
        .clear_password_validators()
        .add_password_validator(Arc::new(EmptyBadValidator))
        .add_password_validator(Arc::new(AlwaysBadValidator))
        .build();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let result = manager.add_password(&mut user, PASSWORD).await?;
    assert_failure(&result, &bad_validator_error());
    assert_eq!(result.errors().len(), 1, "exactly one error: {:?}", result.errors());
    Ok(())
}

/// `ChangePassword` by a manager with an extra password validator, for a user created with a
/// password by an ordinary manager.
async fn change_password_with_validator(
    h: &Harness,
    validator: Arc<dyn PasswordValidator<()>>,
) -> Result<IdentityResult, crate::CaseError> {
    let mut user = create_user_with_password(h, &h.user_manager(), "").await?;
    let manager = with_password_validator(h, validator);
    Ok(manager.change_password(&mut user, PASSWORD, NEW_PASSWORD).await?)
}

/// `PasswordValidatorWithNoErrorsCanBlockChangePassword`.
pub async fn password_validator_with_no_errors_can_block_change_password(h: Harness) -> CaseResult {
    assert_failure_without_errors(&change_password_with_validator(&h, Arc::new(EmptyBadValidator)).await?);
    Ok(())
}

/// `PasswordValidatorCanBlockChangePassword`.
pub async fn password_validator_can_block_change_password(h: Harness) -> CaseResult {
    assert_failure(&change_password_with_validator(&h, Arc::new(AlwaysBadValidator)).await?, &bad_validator_error());
    Ok(())
}

/// `PasswordValidatorWithNoErrorsCanBlockCreateUser`.
pub async fn password_validator_with_no_errors_can_block_create_user(h: Harness) -> CaseResult {
    let manager = with_password_validator(&h, Arc::new(EmptyBadValidator));
    let mut user = h.create_test_user("");
    assert_failure_without_errors(&manager.create_with_password(&mut user, PASSWORD).await?);
    Ok(())
}

/// `PasswordValidatorCanBlockCreateUser`.
pub async fn password_validator_can_block_create_user(h: Harness) -> CaseResult {
    let manager = with_password_validator(&h, Arc::new(AlwaysBadValidator));
    let mut user = h.create_test_user("");
    assert_failure(&manager.create_with_password(&mut user, PASSWORD).await?, &bad_validator_error());
    Ok(())
}

/// Resets the password of a user created with [`PASSWORD`], with a valid static token, through a
/// manager with an extra password validator; asserts that the old password still works and the
/// stamp did not change, and returns the reset's result.
async fn reset_password_with_validator(
    h: &Harness,
    validator: Arc<dyn PasswordValidator<()>>,
) -> Result<IdentityResult, crate::CaseError> {
    let mut user = create_user_with_password(h, &h.user_manager_with(use_static_reset_tokens), "").await?;
    let manager = resetting_with_password_validator(h, validator);
    let stamp = manager.get_security_stamp(&user).await?;
    let token = manager.generate_password_reset_token(&user).await?;
    let result = manager.reset_password(&mut user, &token, NEW_PASSWORD).await?;
    assert!(manager.check_password(&mut user, PASSWORD).await?, "the old password still works");
    assert_eq!(stamp, manager.get_security_stamp(&user).await?);
    Ok(result)
}

/// `PasswordValidatorWithNoErrorsCanBlockResetPasswordWithStaticTokenProvider`.
pub async fn password_validator_with_no_errors_can_block_reset_password_with_static_token_provider(
    h: Harness,
) -> CaseResult {
    assert_failure_without_errors(&reset_password_with_validator(&h, Arc::new(EmptyBadValidator)).await?);
    Ok(())
}

/// `PasswordValidatorCanBlockResetPasswordWithStaticTokenProvider`.
pub async fn password_validator_can_block_reset_password_with_static_token_provider(h: Harness) -> CaseResult {
    assert_failure(&reset_password_with_validator(&h, Arc::new(AlwaysBadValidator)).await?, &bad_validator_error());
    Ok(())
}

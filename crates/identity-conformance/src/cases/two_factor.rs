//! Two-factor authentication: enabling it, the valid providers of a user, and two-factor tokens,
//! which die with the security stamp.

use crate::CaseResult;
use crate::harness::{Harness, assert_error, assert_succeeded};
use identity_core::options::{AUTHENTICATOR_PROVIDER, EMAIL_PROVIDER, PHONE_PROVIDER};
use identity_core::{Error, IdentityUser, UserManager};

/// A manager with only the default token providers, as .NET's specification tests register them.
fn default_providers_manager(h: &Harness) -> UserManager<()> {
    h.user_manager_builder_default_providers(Harness::test_options()).build()
}

/// Asserts the names of the valid two-factor providers of `user`, in registration order.
async fn assert_providers(manager: &UserManager<()>, user: &IdentityUser, expected: &[&str]) -> CaseResult {
    assert_eq!(manager.get_valid_two_factor_providers(user).await?, expected);
    Ok(())
}

/// A test user, not yet created, with the unconfirmed phone number 4251234567.
fn user_with_phone(h: &Harness) -> IdentityUser {
    let mut user = h.create_test_user("");
    user.phone_number = Some("4251234567".to_owned());
    user
}

/// Asserts that a two-factor token from `provider` verifies, and no longer does once the stamp
/// was updated.
async fn assert_factor_dies_with_stamp(
    manager: &UserManager<()>,
    user: &mut IdentityUser,
    provider: &str,
) -> CaseResult {
    let token = manager.generate_two_factor_token(user, provider).await?;
    assert!(manager.verify_two_factor_token(user, provider, &token).await?, "the fresh token verifies");
    assert_succeeded(&manager.update_security_stamp(user).await?);
    assert!(!manager.verify_two_factor_token(user, provider, &token).await?);
    Ok(())
}

/// `EmailFactorFailsAfterSecurityStampChangeTest`.
pub async fn email_factor_fails_after_security_stamp_change_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("foouser");
    user.email = Some(format!("{}@diddly.bop", user.user_name.as_deref().unwrap_or_default()));
    let mut user = h.insert_user(&manager, user).await?;
    let token = manager.generate_email_confirmation_token(&user).await?;
    assert_succeeded(&manager.confirm_email(&mut user, &token).await?);
    assert_factor_dies_with_stamp(&manager, &mut user, EMAIL_PROVIDER).await
}

/// `EnableTwoFactorChangesSecurityStamp`.
pub async fn enable_two_factor_changes_security_stamp(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_succeeded(&manager.set_two_factor_enabled(&mut user, true).await?);
    assert_ne!(manager.get_security_stamp(&user).await?, stamp);
    assert!(manager.get_two_factor_enabled(&user).await?);
    let stored = manager.find_by_id(&user.id).await?.expect("the user is stored");
    assert!(manager.get_two_factor_enabled(&stored).await?, "stored flag");
    Ok(())
}

/// `GenerateTwoFactorWithUnknownFactorProviderWillThrow`: every token operation naming an
/// unregistered provider fails with `NoTokenProvider`.
pub async fn generate_two_factor_with_unknown_factor_provider_will_throw(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, h.create_test_user("")).await?;
    let bogus = |e: &Error| matches!(e, Error::NoTokenProvider(name) if name == "bogus");
    assert_error(manager.generate_two_factor_token(&user, "bogus").await, bogus)?;
    assert_error(manager.verify_two_factor_token(&user, "bogus", "bogus").await, bogus)?;
    assert_error(manager.generate_user_token(&user, "bogus", "whatevs").await, bogus)?;
    assert_error(manager.verify_user_token(&user, "bogus", "whatevs", "bogus").await, bogus)
}

/// `GetValidTwoFactorTestEmptyWithNoProviders`.
pub async fn get_valid_two_factor_test_empty_with_no_providers(h: Harness) -> CaseResult {
    let manager = default_providers_manager(&h);
    let user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_providers(&manager, &user, &[]).await
}

/// `CanGetValidTwoFactor`.
pub async fn can_get_valid_two_factor(h: Harness) -> CaseResult {
    let manager = default_providers_manager(&h);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_providers(&manager, &user, &[]).await?;

    let number = "111-111-1111";
    assert_succeeded(&manager.set_phone_number(&mut user, Some(number)).await?);
    let token = manager.generate_change_phone_number_token(&user, number).await?;
    assert_succeeded(&manager.change_phone_number(&mut user, number, &token).await?);
    assert_succeeded(&manager.update(&mut user).await?);
    assert_providers(&manager, &user, &[PHONE_PROVIDER]).await?;

    assert_succeeded(&manager.set_email(&mut user, Some("test@test.com")).await?);
    let token = manager.generate_email_confirmation_token(&user).await?;
    assert_succeeded(&manager.confirm_email(&mut user, &token).await?);
    assert_providers(&manager, &user, &[EMAIL_PROVIDER, PHONE_PROVIDER]).await?;

    assert_succeeded(&manager.set_email(&mut user, None).await?);
    assert_providers(&manager, &user, &[PHONE_PROVIDER]).await?;

    assert_succeeded(&manager.reset_authenticator_key(&mut user).await?);
    assert_providers(&manager, &user, &[PHONE_PROVIDER, AUTHENTICATOR_PROVIDER]).await
}

/// `PhoneFactorFailsAfterSecurityStampChangeTest`.
pub async fn phone_factor_fails_after_security_stamp_change_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, user_with_phone(&h)).await?;
    assert_factor_dies_with_stamp(&manager, &mut user, PHONE_PROVIDER).await
}

/// `VerifyTokenFromWrongTokenProviderFails`.
pub async fn verify_token_from_wrong_token_provider_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, user_with_phone(&h)).await?;
    let token = manager.generate_two_factor_token(&user, PHONE_PROVIDER).await?;
    assert!(!token.is_empty());
    assert!(!manager.verify_two_factor_token(&user, EMAIL_PROVIDER, &token).await?);
    Ok(())
}

/// `VerifyWithWrongSmsTokenFails`.
pub async fn verify_with_wrong_sms_token_fails(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, user_with_phone(&h)).await?;
    assert!(!manager.verify_two_factor_token(&user, PHONE_PROVIDER, "bogus").await?);
    Ok(())
}

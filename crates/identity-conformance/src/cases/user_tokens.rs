//! Authentication tokens of a user, and two-factor recovery codes (kept as one such token).

use crate::harness::{Harness, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::{IdentityUser, UserManager};

/// Generates `count` recovery codes for `user`, asserting that they were stored.
async fn new_codes(manager: &UserManager<()>, user: &mut IdentityUser, count: usize) -> Result<Vec<String>, CaseError> {
    let codes = manager.generate_new_two_factor_recovery_codes(user, count).await?.expect("the user was written");
    assert_eq!(codes.len(), count);
    assert_eq!(manager.count_recovery_codes(user).await?, count);
    Ok(codes)
}

/// Asserts that redeeming `code` fails with `RecoveryCodeRedemptionFailed`.
async fn assert_redeem_fails(manager: &UserManager<()>, user: &mut IdentityUser, code: &str) -> CaseResult {
    let expected = manager.describer().recovery_code_redemption_failed();
    assert_failure(&manager.redeem_two_factor_recovery_code(user, code).await?, &expected);
    Ok(())
}

/// `CanGetSetUpdateAndRemoveUserToken`.
pub async fn can_get_set_update_and_remove_user_token(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert_eq!(manager.get_authentication_token(&user, "provider", "name").await?, None);
    assert_succeeded(&manager.set_authentication_token(&mut user, "provider", "name", Some("value")).await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "name").await?.as_deref(), Some("value"));
    assert_succeeded(&manager.set_authentication_token(&mut user, "provider", "name", Some("value2")).await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "name").await?.as_deref(), Some("value2"));
    assert_succeeded(&manager.remove_authentication_token(&mut user, "whatevs", "name").await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "name").await?.as_deref(), Some("value2"));
    assert_succeeded(&manager.remove_authentication_token(&mut user, "provider", "name").await?);
    assert_eq!(manager.get_authentication_token(&user, "provider", "name").await?, None);
    Ok(())
}

/// `CanRedeemRecoveryCodeOnlyOnce`.
pub async fn can_redeem_recovery_code_only_once(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let codes = new_codes(&manager, &mut user, 15).await?;
    for (redeemed, code) in codes.iter().enumerate() {
        assert_succeeded(&manager.redeem_two_factor_recovery_code(&mut user, code).await?);
        assert_redeem_fails(&manager, &mut user, code).await?;
        assert_eq!(manager.count_recovery_codes(&user).await?, codes.len() - redeemed - 1);
    }
    for code in &codes {
        assert_redeem_fails(&manager, &mut user, code).await?;
    }
    Ok(())
}

/// `RecoveryCodesInvalidAfterReplace`.
pub async fn recovery_codes_invalid_after_replace(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    let replaced = new_codes(&manager, &mut user, 15).await?;
    let current = new_codes(&manager, &mut user, 3).await?;
    for code in &replaced {
        assert_redeem_fails(&manager, &mut user, code).await?;
    }
    for code in &current {
        assert_succeeded(&manager.redeem_two_factor_recovery_code(&mut user, code).await?);
    }
    assert_eq!(manager.count_recovery_codes(&user).await?, 0);
    Ok(())
}

//! Phone numbers: setting them, and changing them with a token bound to the new number.

use crate::harness::{Harness, YesTokenProvider, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::{IdentityUser, UserManager};
use std::sync::Arc;

/// The number test users start with.
const OLD_NUMBER: &str = "123-456-7890";
/// The number they change to.
const NEW_NUMBER: &str = "111-111-1111";

/// A created test user with the phone number [`OLD_NUMBER`], unconfirmed.
async fn user_with_phone(h: &Harness, manager: &UserManager<()>) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user("");
    user.phone_number = Some(OLD_NUMBER.to_owned());
    let user = h.insert_user(manager, user).await?;
    assert!(!manager.is_phone_number_confirmed(&user).await?);
    Ok(user)
}

/// Asserts the phone number and its confirmation on `user` and on its stored copy, and whether
/// the security stamp differs from `stamp`.
async fn assert_phone(
    manager: &UserManager<()>,
    user: &IdentityUser,
    number: &str,
    confirmed: bool,
    stamp: &str,
    stamp_changed: bool,
) -> CaseResult {
    let stored = manager.find_by_id(&user.id).await?.expect("the user is stored");
    for (copy, which) in [(user, "in memory"), (&stored, "stored")] {
        assert_eq!(copy.phone_number.as_deref(), Some(number), "phone number ({which})");
        assert_eq!(manager.is_phone_number_confirmed(copy).await?, confirmed, "confirmed ({which})");
        assert_eq!(manager.get_security_stamp(copy).await? != stamp, stamp_changed, "stamp changed ({which})");
    }
    Ok(())
}

/// Changes the number of a [`user_with_phone`] to [`NEW_NUMBER`] with `token` (a genuine token
/// for the new number when `None`) and asserts the outcome: confirmed with a new stamp on
/// success, untouched on `InvalidToken`.
async fn change_number(h: &Harness, manager: &UserManager<()>, token: Option<&str>, succeeds: bool) -> CaseResult {
    let mut user = user_with_phone(h, manager).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let token = match token {
        Some(token) => token.to_owned(),
        None => manager.generate_change_phone_number_token(&user, NEW_NUMBER).await?,
    };
    let result = manager.change_phone_number(&mut user, NEW_NUMBER, &token).await?;
    if succeeds {
        assert_succeeded(&result);
        assert_phone(manager, &user, NEW_NUMBER, true, &stamp, true).await
    } else {
        assert_failure(&result, &manager.describer().invalid_token());
        assert_phone(manager, &user, OLD_NUMBER, false, &stamp, false).await
    }
}

/// `SetPhoneNumberTest`.
pub async fn set_phone_number_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = user_with_phone(&h, &manager).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    assert_phone(&manager, &user, OLD_NUMBER, false, &stamp, false).await?;
    assert_succeeded(&manager.set_phone_number(&mut user, Some(NEW_NUMBER)).await?);
    assert_phone(&manager, &user, NEW_NUMBER, false, &stamp, true).await
}

/// `CanChangePhoneNumber`.
pub async fn can_change_phone_number(h: Harness) -> CaseResult {
    change_number(&h, &h.user_manager(), None, true).await
}

/// `ChangePhoneNumberTokenIsInt`.
pub async fn change_phone_number_token_is_int(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = user_with_phone(&h, &manager).await?;
    let token = manager.generate_change_phone_number_token(&user, NEW_NUMBER).await?;
    assert!(token.parse::<i32>().is_ok(), "token {token:?} is not an int");
    Ok(())
}

/// `ChangePhoneNumberFailsWithWrongToken`.
pub async fn change_phone_number_fails_with_wrong_token(h: Harness) -> CaseResult {
    change_number(&h, &h.user_manager(), Some("bogus"), false).await
}

/// `ChangePhoneNumberWithCustomProvider`: a provider that accepts any token, registered as "Yes"
/// and named as the change-phone-number provider.
pub async fn change_phone_number_with_custom_provider(h: Harness) -> CaseResult {
    let mut options = Harness::test_options();
    options.tokens.change_phone_number_token_provider = "Yes".to_owned();
    let manager = h.user_manager_builder_with(options).token_provider("Yes", Arc::new(YesTokenProvider)).build();
    change_number(&h, &manager, Some("whatever"), true).await
}

/// `ChangePhoneNumberFailsWithWrongPhoneNumber`.
pub async fn change_phone_number_fails_with_wrong_phone_number(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = user_with_phone(&h, &manager).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let token = manager.generate_change_phone_number_token(&user, NEW_NUMBER).await?;
    assert_failure(
        &manager.change_phone_number(&mut user, "bogus", &token).await?,
        &manager.describer().invalid_token(),
    );
    assert_phone(&manager, &user, OLD_NUMBER, false, &stamp, false).await
}

/// `CanVerifyPhoneNumber`.
pub async fn can_verify_phone_number(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = h.insert_user(&manager, h.create_test_user("")).await?;
    let (number1, number2) = ("555-555-5555", "555-555-5556");
    let token1 = manager.generate_change_phone_number_token(&user, number1).await?;
    let token2 = manager.generate_change_phone_number_token(&user, number2).await?;
    assert_ne!(token1, token2);
    assert!(manager.verify_change_phone_number_token(&user, &token1, number1).await?);
    assert!(manager.verify_change_phone_number_token(&user, &token2, number2).await?);
    assert!(!manager.verify_change_phone_number_token(&user, &token2, number1).await?);
    assert!(!manager.verify_change_phone_number_token(&user, &token1, number2).await?);
    assert!(!manager.verify_change_phone_number_token(&user, "bogus", number1).await?);
    Ok(())
}

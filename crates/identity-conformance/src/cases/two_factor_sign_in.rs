//! The second step of a two-factor sign-in (`SignInManager::two_factor_*`, .NET's
//! `TwoFactorAuthenticatorSignInAsync`, `TwoFactorRecoveryCodeSignInAsync` and the remembered
//! browser) against the store: codes that count toward lockout, recovery codes that work once
//! even when redeemed concurrently, and remembered browsers forgotten with the security stamp.

use crate::cases::sign_in::{PASSWORD, assert_stored_lockout, sign_in_manager, stored, user_with_password};
use crate::harness::{Harness, assert_succeeded};
use crate::{CaseError, CaseResult};
use chrono::Duration;
use identity_core::tokens::rfc6238;
use identity_core::{IdentityUser, SignInManager, SignInResult, UserManager, base32};
use std::sync::Arc;

/// A stored user with [`PASSWORD`], two-factor enabled and a fresh authenticator key, and the
/// current code of that key.
async fn enrolled_user(h: &Harness, manager: &UserManager<()>) -> Result<(IdentityUser, String), CaseError> {
    let mut user = user_with_password(h, manager, |u| u.two_factor_enabled = true).await?;
    assert_succeeded(&manager.reset_authenticator_key(&mut user).await?);
    let code = current_code(manager, &user).await?;
    Ok((user, code))
}

/// The codes of the user's key for the steps the authenticator accepts now: the current one
/// first, then two steps either side of it.
async fn accepted_codes(manager: &UserManager<()>, user: &IdentityUser) -> Result<Vec<u32>, CaseError> {
    let key = manager.get_authenticator_key(user).await?.expect("the user has a key");
    let key = base32::decode(&key).expect("the key is Base32");
    let now = manager.clock().now();
    Ok([0, -2, -1, 1, 2]
        .iter()
        .map(|steps| rfc6238::totp(&key, now + Duration::seconds(30 * steps), 30, None))
        .collect())
}

/// The code an authenticator app shows now for the user's key.
async fn current_code(manager: &UserManager<()>, user: &IdentityUser) -> Result<String, CaseError> {
    Ok(format!("{:06}", accepted_codes(manager, user).await?[0]))
}

/// A code the authenticator refuses now (it accepts five codes of a million: one of six
/// candidates is surely refused).
async fn wrong_code(manager: &UserManager<()>, user: &IdentityUser) -> Result<String, CaseError> {
    let accepted = accepted_codes(manager, user).await?;
    let code = (1..=6).map(|n| (accepted[0] + n * 111_111) % 1_000_000).find(|code| !accepted.contains(code));
    Ok(format!("{:06}", code.expect("a refused candidate")))
}

/// The authenticator code completes the sign-in and resets the count; separators are ignored;
/// wrong codes count as failures, and lock the account at the maximum, after which even the
/// right code gives `LockedOut`.
pub async fn two_factor_authenticator_codes_count_toward_lockout(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let (mut user, code) = enrolled_user(&h, &manager).await?;
    let wrong = wrong_code(&manager, &user).await?;
    assert_eq!(sign_in.two_factor_authenticator_sign_in(&mut user, &wrong).await?, SignInResult::Failed);
    assert_stored_lockout(&manager, &user, 1, false).await?;
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_eq!(sign_in.two_factor_authenticator_sign_in(&mut user, &spaced).await?, SignInResult::Success);
    assert_stored_lockout(&manager, &user, 0, false).await?;
    for attempt in 1..=5 {
        let expected = if attempt < 5 { SignInResult::Failed } else { SignInResult::LockedOut };
        let wrong = wrong_code(&manager, &user).await?;
        let result = sign_in.two_factor_authenticator_sign_in(&mut user, &wrong).await?;
        assert_eq!(result, expected, "wrong code {attempt}");
    }
    assert_stored_lockout(&manager, &user, 0, true).await?;
    let code = current_code(&manager, &user).await?;
    assert_eq!(sign_in.two_factor_authenticator_sign_in(&mut user, &code).await?, SignInResult::LockedOut);
    Ok(())
}

/// Concurrent wrong codes are all counted: a burst of twenty locks the account, and at most
/// four of them were evaluated before it did.
pub async fn concurrent_wrong_two_factor_codes_are_all_counted(h: Harness) -> CaseResult {
    let sign_in = Arc::new(sign_in_manager(&h, |_| {}));
    let manager = Arc::clone(sign_in.user_manager());
    let (user, _) = enrolled_user(&h, &manager).await?;
    let wrong = wrong_code(&manager, &user).await?;
    let attempts = (0..20).map(|_| {
        let (sign_in, mut user, code) = (Arc::clone(&sign_in), user.clone(), wrong.clone());
        tokio::spawn(async move { sign_in.two_factor_authenticator_sign_in(&mut user, &code).await })
    });
    let mut failed = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.expect("the attempt ran")? {
            SignInResult::Failed => failed += 1,
            SignInResult::LockedOut => {}
            other => panic!("a wrong code gave {other:?}"),
        }
    }
    assert!(failed < 5, "at most four wrong codes evaluated without locking, got {failed}");
    assert!(manager.is_locked_out(&stored(&manager, &user).await?).await?);
    Ok(())
}

/// A recovery code completes the sign-in once; a wrong or reused one counts as a failure.
pub async fn two_factor_recovery_code_sign_in_works_once(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let (mut user, _) = enrolled_user(&h, &manager).await?;
    let codes = manager.generate_new_two_factor_recovery_codes(&mut user, 10).await?.expect("the user was written");
    assert_eq!(sign_in.two_factor_recovery_code_sign_in(&mut user, &codes[0]).await?, SignInResult::Success);
    assert_eq!(sign_in.two_factor_recovery_code_sign_in(&mut user, &codes[0]).await?, SignInResult::Failed);
    assert_eq!(sign_in.two_factor_recovery_code_sign_in(&mut user, "").await?, SignInResult::Failed);
    assert_stored_lockout(&manager, &user, 2, false).await?;
    assert_eq!(manager.count_recovery_codes(&user).await?, 9);
    assert_eq!(sign_in.two_factor_recovery_code_sign_in(&mut user, &codes[1]).await?, SignInResult::Success);
    assert_stored_lockout(&manager, &user, 0, false).await
}

/// Of eight requests presenting the same recovery code at once, exactly one signs in; the
/// other codes stay.
pub async fn concurrent_recovery_code_redemptions_succeed_once(h: Harness) -> CaseResult {
    let sign_in: Arc<SignInManager<()>> = Arc::new(sign_in_manager(&h, |options| {
        options.lockout.max_failed_access_attempts = 100;
    }));
    let manager = Arc::clone(sign_in.user_manager());
    let (mut user, _) = enrolled_user(&h, &manager).await?;
    let codes = manager.generate_new_two_factor_recovery_codes(&mut user, 10).await?.expect("the user was written");
    let attempts = (0..8).map(|_| {
        let (sign_in, mut user, code) = (Arc::clone(&sign_in), user.clone(), codes[3].clone());
        tokio::spawn(async move { sign_in.two_factor_recovery_code_sign_in(&mut user, &code).await })
    });
    let mut succeeded = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        if attempt.await.expect("the attempt ran")? == SignInResult::Success {
            succeeded += 1;
        }
    }
    assert_eq!(succeeded, 1, "one redemption of the code succeeds");
    assert_eq!(manager.count_recovery_codes(&stored(&manager, &user).await?).await?, 9);
    Ok(())
}

/// A remembered browser stays remembered for its user until the security stamp changes; it
/// never remembers another user.
pub async fn remembered_two_factor_client_is_forgotten_when_the_stamp_changes(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let (mut user, _) = enrolled_user(&h, &manager).await?;
    let (other, _) = enrolled_user(&h, &manager).await?;
    assert!(!sign_in.is_two_factor_client_remembered(&user, None).await?);
    let token = sign_in.remember_two_factor_client(&user).await?;
    assert!(sign_in.is_two_factor_client_remembered(&user, Some(&token)).await?);
    assert!(!sign_in.is_two_factor_client_remembered(&other, Some(&token)).await?);
    let name = user.user_name.clone().expect("the test user has a name");
    assert_eq!(sign_in.password_sign_in(&name, PASSWORD, true, true).await?.0, SignInResult::Success);
    assert_succeeded(&manager.update_security_stamp(&mut user).await?);
    assert!(!sign_in.is_two_factor_client_remembered(&user, Some(&token)).await?);
    Ok(())
}

//! Password sign-in (`SignInManager::check_password_sign_in`, .NET's `CheckPasswordSignInAsync`)
//! against the store: the checks before the password (not allowed, then locked out), lockout
//! after the maximum of failures, the reset on success, and failures counted atomically under
//! concurrency so that racing requests cannot earn extra guesses.

use crate::harness::{Harness, assert_succeeded};
use crate::{CaseError, CaseResult};
use chrono::Duration;
use identity_core::{IdentityOptions, IdentityUser, SignInManager, SignInResult, UserManager};
use std::sync::Arc;

/// The password of the test users.
pub(crate) const PASSWORD: &str = "password";

/// A sign-in manager over a user manager with the test options adjusted by `configure`.
pub(crate) fn sign_in_manager(h: &Harness, configure: impl FnOnce(&mut IdentityOptions)) -> SignInManager<()> {
    SignInManager::new(Arc::new(h.user_manager_with(configure)))
}

/// A created test user with [`PASSWORD`], adjusted by `configure` before it is created.
pub(crate) async fn user_with_password(
    h: &Harness,
    manager: &UserManager<()>,
    configure: impl FnOnce(&mut IdentityUser),
) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user("");
    configure(&mut user);
    assert_succeeded(&manager.create_with_password(&mut user, PASSWORD).await?);
    Ok(user)
}

/// The store's copy of `user`.
pub(crate) async fn stored(manager: &UserManager<()>, user: &IdentityUser) -> Result<IdentityUser, CaseError> {
    Ok(manager.find_by_id(&user.id).await?.expect("the user is stored"))
}

/// Asserts the stored failure count of `user` and whether it is locked out.
pub(crate) async fn assert_stored_lockout(
    manager: &UserManager<()>,
    user: &IdentityUser,
    count: i32,
    locked_out: bool,
) -> CaseResult {
    let stored = stored(manager, user).await?;
    assert_eq!(manager.get_access_failed_count(&stored).await?, count, "stored failure count");
    assert_eq!(manager.is_locked_out(&stored).await?, locked_out, "stored lockout");
    Ok(())
}

/// Signs in with `password` (counting failures), asserting the outcome.
async fn assert_sign_in(
    sign_in: &SignInManager<()>,
    user: &mut IdentityUser,
    password: &str,
    expected: SignInResult,
) -> CaseResult {
    assert_eq!(sign_in.check_password_sign_in(user, password, true).await?, expected, "signing in with {password:?}");
    Ok(())
}

/// A user who may not sign in until `confirm` is applied gets `NotAllowed` with the right password
/// (nothing counted) and `Failed` with a wrong one (counted, as for anyone), so only the
/// password's owner learns why; while locked out, `LockedOut`; and `Success` once confirmed.
async fn assert_not_allowed_until_confirmed(
    h: &Harness,
    require: impl FnOnce(&mut IdentityOptions),
    confirm: impl FnOnce(&mut IdentityUser),
) -> CaseResult {
    let sign_in = sign_in_manager(h, require);
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(h, &manager, |_| {}).await?;
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::NotAllowed).await?;
    assert_stored_lockout(&manager, &user, 0, false).await?;
    assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
    assert_stored_lockout(&manager, &user, 1, false).await?;
    assert_succeeded(&manager.set_lockout_end_date(&mut user, Some(h.now() + Duration::hours(1))).await?);
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::LockedOut).await?;
    assert_succeeded(&manager.set_lockout_end_date(&mut user, None).await?);
    confirm(&mut user);
    assert_succeeded(&manager.update(&mut user).await?);
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::Success).await
}

/// `CanRequireConfirmedEmailForPasswordSignIn` (`SignInManagerTest`).
pub async fn can_require_confirmed_email_for_password_sign_in(h: Harness) -> CaseResult {
    let email = format!("{}@confirm.me", uuid::Uuid::new_v4());
    assert_not_allowed_until_confirmed(
        &h,
        |o| o.sign_in.require_confirmed_email = true,
        |u| {
            u.email = Some(email);
            u.email_confirmed = true;
        },
    )
    .await
}

/// `CanRequireConfirmedPhoneNumberForPasswordSignIn` (`SignInManagerTest`).
pub async fn can_require_confirmed_phone_number_for_password_sign_in(h: Harness) -> CaseResult {
    assert_not_allowed_until_confirmed(
        &h,
        |o| o.sign_in.require_confirmed_phone_number = true,
        |u| {
            u.phone_number = Some("555-555-5555".to_owned());
            u.phone_number_confirmed = true;
        },
    )
    .await
}

/// `CheckPasswordSignInReturnsLockedOutWhenLockedOut` (`SignInManagerTest`): a locked-out user
/// gets `LockedOut` whatever the password, and no failure is counted.
pub async fn check_password_sign_in_returns_locked_out_when_locked_out(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(&h, &manager, |u| u.lockout_end = Some(h.now() + Duration::hours(1))).await?;
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::LockedOut).await?;
    assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::LockedOut).await?;
    assert_stored_lockout(&manager, &user, 0, true).await
}

/// Wrong passwords are counted until the maximum locks the user out; then even the right
/// password gets `LockedOut`. Without `lockout_on_failure` nothing is counted.
pub async fn check_password_sign_in_locks_out_after_max_failures(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |o| o.lockout.max_failed_access_attempts = 3);
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(&h, &manager, |_| {}).await?;
    assert_eq!(sign_in.check_password_sign_in(&mut user, "wrong", false).await?, SignInResult::Failed);
    assert_stored_lockout(&manager, &user, 0, false).await?;
    for count in 1..3 {
        assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
        assert_stored_lockout(&manager, &user, count, false).await?;
    }
    assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::LockedOut).await?;
    assert_stored_lockout(&manager, &user, 0, true).await?;
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::LockedOut).await
}

/// `CheckPasswordOnlyResetLockoutWhenTfaNotEnabled` (`SignInManagerTest`), two-factor off: the
/// right password resets the failure count.
pub async fn check_password_only_reset_lockout_when_tfa_not_enabled_tfa_disabled(h: Harness) -> CaseResult {
    reset_on_success(&h, false).await
}

/// `CheckPasswordOnlyResetLockoutWhenTfaNotEnabled` (`SignInManagerTest`), two-factor on: the
/// right password succeeds (never `TwoFactorRequired`) but leaves the count to the second factor.
pub async fn check_password_only_reset_lockout_when_tfa_not_enabled_tfa_enabled(h: Harness) -> CaseResult {
    reset_on_success(&h, true).await
}

/// Two failures, then the right password for a user with two-factor on or off (the harness's
/// static provider makes two-factor apply when it is on).
async fn reset_on_success(h: &Harness, two_factor: bool) -> CaseResult {
    let sign_in = sign_in_manager(h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(h, &manager, |u| u.two_factor_enabled = two_factor).await?;
    assert_eq!(sign_in.is_two_factor_enabled(&user).await?, two_factor);
    for _ in 0..2 {
        assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
    }
    assert_sign_in(&sign_in, &mut user, PASSWORD, SignInResult::Success).await?;
    assert_stored_lockout(&manager, &user, if two_factor { 2 } else { 0 }, false).await
}

/// `CheckPasswordSignInFailsWhenResetLockoutFails` (`SignInManagerTest`): the reset is decided
/// atomically in the store, so it fails only when the user is gone: the right password on a
/// copy of a deleted user gets `Failed`. A stale copy does not matter: the store's state decides.
pub async fn check_password_sign_in_fails_when_reset_lockout_fails(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(&h, &manager, |_| {}).await?;
    assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
    let mut stale = user.clone();
    assert_succeeded(&manager.update(&mut user).await?);
    assert_sign_in(&sign_in, &mut stale.clone(), PASSWORD, SignInResult::Success).await?;
    assert_stored_lockout(&manager, &user, 0, false).await?;
    let current = stored(&manager, &user).await?;
    assert_succeeded(&manager.delete(&current).await?);
    assert_sign_in(&sign_in, &mut stale, PASSWORD, SignInResult::Failed).await
}

/// Runs `attempts` copies of `attempt`, each on its own copy of `user`, at the same time.
async fn race<T, F, Fut>(user: &IdentityUser, attempts: usize, attempt: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(IdentityUser) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..attempts).map(|_| tokio::spawn(attempt(user.clone()))).collect();
    let mut outcomes = Vec::with_capacity(attempts);
    for task in tasks {
        outcomes.push(task.await.expect("the attempt completes"));
    }
    outcomes
}

/// Four failed accesses recorded at once on copies of the same user (maximum 5) all count; a
/// fifth, on a stale copy, locks the user out and restarts the count.
pub async fn concurrent_access_failed_is_recorded_atomically(h: Harness) -> CaseResult {
    let manager = Arc::new(h.user_manager());
    let user = h.insert_user(&manager, h.create_test_user("")).await?;
    let outcomes = race(&user, 4, |mut copy| {
        let manager = Arc::clone(&manager);
        async move { manager.access_failed(&mut copy).await }
    })
    .await;
    for outcome in outcomes {
        assert_succeeded(&outcome?);
    }
    assert_stored_lockout(&manager, &user, 4, false).await?;
    assert_succeeded(&manager.access_failed(&mut user.clone()).await?);
    assert_stored_lockout(&manager, &user, 0, true).await
}

/// Four wrong passwords tried at once (maximum 5) all count; a fifth locks the user out.
pub async fn concurrent_failed_sign_ins_are_all_counted(h: Harness) -> CaseResult {
    let sign_in = Arc::new(sign_in_manager(&h, |_| {}));
    let manager = Arc::clone(sign_in.user_manager());
    let user = user_with_password(&h, &manager, |_| {}).await?;
    let outcomes = race(&user, 4, |mut copy| {
        let sign_in = Arc::clone(&sign_in);
        async move { sign_in.check_password_sign_in(&mut copy, "wrong", true).await }
    })
    .await;
    for outcome in outcomes {
        assert_eq!(outcome?, SignInResult::Failed);
    }
    assert_stored_lockout(&manager, &user, 4, false).await?;
    assert_sign_in(&sign_in, &mut user.clone(), "wrong", SignInResult::LockedOut).await?;
    assert_stored_lockout(&manager, &user, 0, true).await
}

/// Twenty wrong passwords and the right one at once, on a user with one attempt left (maximum 5):
/// the account ends locked, the right password never gets in once the lockout began, and fewer
/// wrong passwords are answered `Failed` (evaluated without locking) than the maximum, whatever
/// the interleaving: attempts are reserved in the store before the password is hashed.
pub async fn concurrent_burst_never_signs_in_a_locked_account(h: Harness) -> CaseResult {
    let sign_in = Arc::new(sign_in_manager(&h, |_| {}));
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(&h, &manager, |_| {}).await?;
    for _ in 0..4 {
        assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
    }
    let user = stored(&manager, &user).await?;
    let passwords: Vec<&'static str> =
        std::iter::repeat_n("wrong", 10).chain([PASSWORD]).chain(std::iter::repeat_n("wrong", 10)).collect();
    let tasks: Vec<_> = passwords
        .into_iter()
        .map(|password| {
            let (sign_in, mut copy) = (Arc::clone(&sign_in), user.clone());
            tokio::spawn(async move { sign_in.check_password_sign_in(&mut copy, password, true).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("the attempt completes")?);
    }
    let count = |wanted| outcomes.iter().filter(|outcome| **outcome == wanted).count();
    assert!(count(SignInResult::Success) <= 1, "{outcomes:?}");
    assert!(count(SignInResult::Failed) < 5, "at most four wrong passwords evaluated without locking: {outcomes:?}");
    assert_eq!(count(SignInResult::Success) + count(SignInResult::Failed) + count(SignInResult::LockedOut), 21);
    let after = stored(&manager, &user).await?;
    assert!(manager.is_locked_out(&after).await?, "the burst locked the account: {outcomes:?}");
    assert_sign_in(&sign_in, &mut after.clone(), PASSWORD, SignInResult::LockedOut).await
}

/// .NET's `PasswordSignInAsync` with two-factor: the right password of a user to whom two-factor
/// applies gives `TwoFactorRequired` and leaves the count to the second factor (no failure
/// counted either); a remembered browser gets `Success` and the count reset; a wrong password
/// gives `Failed`.
pub async fn password_sign_in_requires_two_factor(h: Harness) -> CaseResult {
    let sign_in = sign_in_manager(&h, |_| {});
    let manager = Arc::clone(sign_in.user_manager());
    let mut user = user_with_password(&h, &manager, |u| u.two_factor_enabled = true).await?;
    assert_sign_in(&sign_in, &mut user, "wrong", SignInResult::Failed).await?;
    let name = user.user_name.clone().expect("the test user has a name");
    let (result, found) = sign_in.password_sign_in(&name, PASSWORD, true, false).await?;
    assert_eq!(result, SignInResult::TwoFactorRequired);
    assert_eq!(found.map(|found| found.id), Some(user.id.clone()));
    assert_stored_lockout(&manager, &user, 1, false).await?;
    assert_eq!(sign_in.password_sign_in(&name, "wrong", true, false).await?.0, SignInResult::Failed);
    assert_eq!(sign_in.password_sign_in(&name, PASSWORD, true, true).await?.0, SignInResult::Success);
    assert_stored_lockout(&manager, &user, 0, false).await
}

/// With `sign_in.allow_email_login`, the password sign-in also finds the user by e-mail address
/// (before a user name spelled like it); without it, an address finds nobody.
pub async fn password_sign_in_finds_users_by_email_only_when_allowed(h: Harness) -> CaseResult {
    let email = format!("{}@example.com", uuid::Uuid::new_v4());
    for allowed in [false, true] {
        let sign_in = sign_in_manager(&h, |options| options.sign_in.allow_email_login = allowed);
        let manager = Arc::clone(sign_in.user_manager());
        let user = user_with_password(&h, &manager, |user| user.email = Some(email.clone())).await?;
        let name = user.user_name.clone().expect("the test user has a name");
        let expected = if allowed { SignInResult::Success } else { SignInResult::Failed };
        assert_eq!(sign_in.password_sign_in(&email.to_uppercase(), PASSWORD, true, false).await?.0, expected);
        assert_eq!(sign_in.password_sign_in(&name, PASSWORD, true, false).await?.0, SignInResult::Success);
        assert_succeeded(&manager.delete(&stored(&manager, &user).await?).await?);
    }
    // A user name that is someone's address does not take over that address's login.
    let sign_in = sign_in_manager(&h, |options| options.sign_in.allow_email_login = true);
    let manager = Arc::clone(sign_in.user_manager());
    let owner = user_with_password(&h, &manager, |user| user.email = Some(email.clone())).await?;
    let squatter = IdentityUser::new(email.clone());
    assert_succeeded(&manager.create_with_password(&mut squatter.clone(), "other-password").await?);
    let (result, found) = sign_in.password_sign_in(&email, PASSWORD, true, false).await?;
    assert_eq!((result, found.map(|user| user.id)), (SignInResult::Success, Some(owner.id)));
    Ok(())
}

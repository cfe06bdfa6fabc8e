//! Lockout: counting failed accesses, locking out at the maximum, resetting the count, and lockout
//! end dates, on the real clock as in .NET.

use crate::harness::{Harness, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use chrono::{DateTime, Duration, FixedOffset, SubsecRound, TimeZone, Utc};
use identity_core::{IdentityUser, UserManager};

/// A manager that locks users out for one hour after `max_failures` failed accesses.
fn lockout_manager(h: &Harness, max_failures: i32, allowed_for_new_users: bool) -> UserManager<()> {
    h.user_manager_with(|o| {
        o.lockout.default_lockout_time_span = Duration::hours(1);
        o.lockout.max_failed_access_attempts = max_failures;
        o.lockout.allowed_for_new_users = allowed_for_new_users;
    })
}

/// A created test user whose lockout ends at `end`.
async fn user_locked_until(
    h: &Harness,
    manager: &UserManager<()>,
    end: DateTime<Utc>,
) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user("");
    user.lockout_end = Some(end);
    h.insert_user(manager, user).await
}

/// The store's copy of `user`.
async fn stored(manager: &UserManager<()>, user: &IdentityUser) -> Result<IdentityUser, CaseError> {
    Ok(manager.find_by_id(&user.id).await?.expect("the user is stored"))
}

/// Asserts the lockout state of `user` and of its stored copy: whether it is locked out, with an
/// end more than 55 minutes away (the one-hour lockout of [`lockout_manager`] just started), and
/// the failure count.
async fn assert_lockout(manager: &UserManager<()>, user: &IdentityUser, locked_out: bool, count: i32) -> CaseResult {
    let soon = manager.clock().now() + Duration::minutes(55);
    for (copy, which) in [(user.clone(), "in memory"), (stored(manager, user).await?, "stored")] {
        assert_eq!(manager.is_locked_out(&copy).await?, locked_out, "locked out ({which})");
        let end = manager.get_lockout_end_date(&copy).await?;
        assert_eq!(end.is_some_and(|end| end > soon), locked_out, "lockout end {end:?} ({which})");
        assert_eq!(manager.get_access_failed_count(&copy).await?, count, "failure count ({which})");
    }
    Ok(())
}

/// Sets the lockout end, asserting success, and checks that it reads back, also from the store.
async fn set_and_read_back_end(
    manager: &UserManager<()>,
    user: &mut IdentityUser,
    end: Option<DateTime<Utc>>,
) -> CaseResult {
    assert_succeeded(&manager.set_lockout_end_date(user, end).await?);
    assert_eq!(manager.get_lockout_end_date(user).await?, end);
    assert_eq!(manager.get_lockout_end_date(&stored(manager, user).await?).await?, end, "stored lockout end");
    Ok(())
}

/// Asserts whether `user`, and its stored copy, is locked out.
async fn assert_locked_out(manager: &UserManager<()>, user: &IdentityUser, locked_out: bool) -> CaseResult {
    assert_eq!(manager.is_locked_out(user).await?, locked_out);
    assert_eq!(manager.is_locked_out(&stored(manager, user).await?).await?, locked_out, "stored user");
    Ok(())
}

/// .NET's `default(DateTimeOffset)`: 0001-01-01T00:00:00Z.
fn dotnet_default_date() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single().expect("a valid date")
}

/// `SingleFailureLockout`.
pub async fn single_failure_lockout(h: Harness) -> CaseResult {
    let manager = lockout_manager(&h, 0, true);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert!(user.lockout_enabled);
    assert_lockout(&manager, &user, false, 0).await?;
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, true, 0).await
}

/// `TwoFailureLockout`.
pub async fn two_failure_lockout(h: Harness) -> CaseResult {
    let manager = lockout_manager(&h, 2, true);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert_lockout(&manager, &user, false, 0).await?;
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, false, 1).await?;
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, true, 0).await
}

/// `ResetAccessCountPreventsLockout`.
pub async fn reset_access_count_prevents_lockout(h: Harness) -> CaseResult {
    let manager = lockout_manager(&h, 2, true);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, false, 1).await?;
    assert_succeeded(&manager.reset_access_failed_count(&mut user).await?);
    assert_lockout(&manager, &user, false, 0).await?;
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, false, 1).await
}

/// `CanEnableLockoutManuallyAndLockout`.
pub async fn can_enable_lockout_manually_and_lockout(h: Harness) -> CaseResult {
    let manager = lockout_manager(&h, 2, false);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.get_lockout_enabled(&user).await?);
    assert!(!manager.get_lockout_enabled(&stored(&manager, &user).await?).await?, "stored flag");
    assert_succeeded(&manager.set_lockout_enabled(&mut user, true).await?);
    assert!(manager.get_lockout_enabled(&user).await?);
    assert!(manager.get_lockout_enabled(&stored(&manager, &user).await?).await?, "stored flag");
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, false, 1).await?;
    assert_succeeded(&manager.access_failed(&mut user).await?);
    assert_lockout(&manager, &user, true, 0).await
}

/// `UserNotLockedOutWithNullDateTimeAndIsSetToNullDate`.
pub async fn user_not_locked_out_with_null_date_time_and_is_set_to_null_date(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    set_and_read_back_end(&manager, &mut user, Some(dotnet_default_date())).await?;
    assert_locked_out(&manager, &user, false).await
}

/// `LockoutFailsIfNotEnabled`.
pub async fn lockout_fails_if_not_enabled(h: Harness) -> CaseResult {
    let manager = h.user_manager_with(|o| o.lockout.allowed_for_new_users = false);
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(!manager.get_lockout_enabled(&user).await?);
    assert_failure(
        &manager.set_lockout_end_date(&mut user, Some(dotnet_default_date())).await?,
        &manager.describer().user_lockout_not_enabled(),
    );
    assert_locked_out(&manager, &user, false).await
}

/// `LockoutEndToUtcNowMinus1SecInUserShouldNotBeLockedOut`.
pub async fn lockout_end_to_utc_now_minus1_sec_in_user_should_not_be_locked_out(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = user_locked_until(&h, &manager, h.now() - Duration::seconds(1)).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert_locked_out(&manager, &user, false).await
}

/// `LockoutEndToUtcNowSubOneSecondWithManagerShouldNotBeLockedOut`.
pub async fn lockout_end_to_utc_now_sub_one_second_with_manager_should_not_be_locked_out(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert_succeeded(&manager.set_lockout_end_date(&mut user, Some(h.now() - Duration::seconds(1))).await?);
    assert_locked_out(&manager, &user, false).await
}

/// `LockoutEndToUtcNowPlus5ShouldBeLockedOut`.
pub async fn lockout_end_to_utc_now_plus5_should_be_locked_out(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let user = user_locked_until(&h, &manager, h.now() + Duration::minutes(5)).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    assert_locked_out(&manager, &user, true).await
}

/// `UserLockedOutWithDateTimeLocalKindNowPlus30`: the end is given in a local time zone, which
/// the API takes as the instant it denotes; it reads back equal as an instant (to the
/// microsecond, the precision of database timestamps).
pub async fn user_locked_out_with_date_time_local_kind_now_plus30(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
    assert!(manager.get_lockout_enabled(&user).await?);
    let local = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("a valid offset");
    let local_end = (h.now() + Duration::minutes(30)).with_timezone(&local).trunc_subsecs(6);
    set_and_read_back_end(&manager, &mut user, Some(local_end.with_timezone(&Utc))).await?;
    assert_locked_out(&manager, &user, true).await
}

/// `NullableDateTimeOperationTest`.
pub async fn nullable_date_time_operation_test(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = h.create_test_user("");
    user.lockout_enabled = true;
    let mut user = h.insert_user(&manager, user).await?;
    assert_eq!(manager.get_lockout_end_date(&user).await?, None);
    set_and_read_back_end(&manager, &mut user, None).await?;
    let date = Utc.with_ymd_and_hms(2014, 1, 1, 0, 0, 0).single().expect("a valid date");
    set_and_read_back_end(&manager, &mut user, Some(date)).await
}

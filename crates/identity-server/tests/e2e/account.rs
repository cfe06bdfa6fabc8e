//! The signed-in user's account pages through the real binary: changing the password checks the
//! current one (counting wrong ones toward lockout), shows errors next to their fields, and ends
//! the user's other sessions while this browser stays signed in; one address gets only so many
//! login attempts per window, whatever the accounts.

use crate::interactive::{Browser, INVALID_CREDENTIALS, Page, start};
use crate::support::{PASSWORD, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::account,
    cases: [a_user_changes_their_password_and_other_sessions_end, login_attempts_from_one_address_are_throttled],
}

/// The change-password page.
const CHANGE_PASSWORD: &str = "/account/manage/change-password";
/// carol's new password.
const NEW_PASSWORD: &str = "N3w-Secret!pw";

/// Submits the change-password form of `page`.
async fn change(browser: &Browser<'_>, page: &Page, current: &str, new: &str, confirm: &str) -> Page {
    let token = page.csrf_token();
    let form = [
        ("__csrf", token.as_str()),
        ("currentPassword", current),
        ("newPassword", new),
        ("confirmPassword", confirm),
        ("button", "save"),
    ];
    browser.post(CHANGE_PASSWORD, &form).await
}

pub(crate) async fn a_user_changes_their_password_and_other_sessions_end(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let phone = Browser::new(&server);
    for device in [&browser, &phone] {
        let signed_in = device.log_in("/account/login", "carol", PASSWORD).await;
        assert_eq!(signed_in.redirect(), "/", "{signed_in:#?}");
    }
    let anonymous = Browser::new(&server).get(CHANGE_PASSWORD).await;
    assert!(anonymous.redirect().starts_with("/account/login?returnUrl="), "signed-in users only");

    let page = browser.get(CHANGE_PASSWORD).await;
    for token in ["autocomplete=\"current-password\"", "autocomplete=\"new-password\"", "<label for=\"newPassword\">"] {
        assert!(page.body.contains(token), "{token}: {}", page.body);
    }
    let mismatch = change(&browser, &page, PASSWORD, NEW_PASSWORD, "something else").await;
    assert!(mismatch.body.contains("role=\"alert\""), "{}", mismatch.body);
    assert!(
        mismatch.body.contains("id=\"confirmPassword-error\">The new password and confirmation password do not match.")
    );
    let wrong = change(&browser, &mismatch, "Wrong123$", NEW_PASSWORD, NEW_PASSWORD).await;
    assert!(wrong.body.contains("id=\"currentPassword-error\">Incorrect password."), "{}", wrong.body);
    let weak = change(&browser, &wrong, PASSWORD, "short", "short").await;
    assert!(weak.body.contains("Passwords must be at least"), "the validators speak next to the field: {}", weak.body);
    assert_eq!(
        crate::support::field(&env.show_user("carol"), "access_failed_count"),
        "0",
        "the right password reset the count"
    );

    let changed = change(&browser, &weak, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.redirect(), format!("{CHANGE_PASSWORD}?status=changed"));
    assert!(browser.get(changed.redirect()).await.body.contains("Your password has been changed."));
    assert!(
        browser.get("/").await.body.contains("Signed in as <strong>carol</strong>"),
        "this browser stays signed in"
    );
    assert!(phone.get("/").await.body.contains("Not signed in."), "the other session ended");
    let old = Browser::new(&server).log_in("/account/login", "carol", PASSWORD).await;
    assert!(old.body.contains(INVALID_CREDENTIALS), "the old password is refused");
    let new = Browser::new(&server).log_in("/account/login", "carol", NEW_PASSWORD).await;
    assert_eq!(new.redirect(), "/", "{new:#?}");
}

pub(crate) async fn login_attempts_from_one_address_are_throttled(env: TestEnv) {
    let (_, server) = start(&env, &[("IDENTITY_THROTTLING__SIGN_IN_PER_ADDRESS", "3")]);
    // Password spraying: one guess at each of many accounts.
    for user_name in ["alice", "bob", "carol"] {
        let answer = Browser::new(&server).log_in("/account/login", user_name, "Spring2026!").await;
        assert_eq!(answer.status, 200, "{answer:#?}");
    }
    let throttled = Browser::new(&server).log_in("/account/login", "carol", PASSWORD).await;
    assert_eq!(throttled.status, 429, "{throttled:#?}");
    assert!(throttled.headers.get("retry-after").is_some(), "{throttled:#?}");
    assert!(!throttled.body.contains("Signed in"), "even the right password waits");
    assert_eq!(
        crate::support::field(&env.show_user("carol"), "access_failed_count"),
        "1",
        "throttled requests check nothing"
    );
}

//! The signed-in user's account pages through the real binary: changing the password checks the
//! current one (counting wrong ones toward lockout), shows errors next to their fields, and ends
//! the user's other sessions while this browser stays signed in; one address gets only so many
//! login attempts per window, whatever the accounts; a user downloads their personal data and
//! deletes their account after giving the password again.

use crate::interactive::{Browser, INVALID_CREDENTIALS, Page, start};
use crate::support::{PASSWORD, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::account,
    cases: [
        a_user_changes_their_password_and_other_sessions_end,
        login_attempts_from_one_address_are_throttled,
        a_user_downloads_their_data_and_deletes_their_account,
    ],
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
        mismatch.body.contains("id=\"confirmPassword-error\">The password and confirmation password do not match.")
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

pub(crate) async fn a_user_downloads_their_data_and_deletes_their_account(env: TestEnv) {
    let (id, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let phone = Browser::new(&server);
    for device in [&browser, &phone] {
        assert_eq!(device.log_in("/account/login", "carol", PASSWORD).await.redirect(), "/");
    }
    let page = browser.get("/account/manage/personal-data").await;
    let token = page.csrf_token();
    let download = browser.post("/account/manage/personal-data", &[("__csrf", &token), ("button", "download")]).await;
    assert_eq!(download.status, 200, "{download:#?}");
    assert!(download.headers["content-disposition"].to_str().expect("ascii").contains("PersonalData.json"));
    let data: serde_json::Value = serde_json::from_str(&download.body).expect("JSON");
    assert_eq!((data["Id"].as_str(), data["UserName"].as_str()), (Some(id.as_str()), Some("carol")));
    assert_eq!(data["Claims"][0]["Value"], "Carol Jones", "{data}");

    let delete = |password: &'static str| {
        let token = token.clone();
        let browser = &browser;
        async move {
            browser
                .post(
                    "/account/manage/personal-data",
                    &[("__csrf", &token), ("password", password), ("button", "delete")],
                )
                .await
        }
    };
    let refused = delete("Wrong123$").await;
    assert!(refused.body.contains("Incorrect password."), "{}", refused.body);
    assert!(env.cli(&["users", "list"]).ok().contains("carol"), "nothing deleted without the password");
    let deleted = delete(PASSWORD).await;
    assert!(deleted.body.contains("Your account has been deleted."), "{}", deleted.body);
    assert!(!env.cli(&["users", "list"]).ok().contains("carol"), "the account is gone");
    assert!(phone.get("/").await.body.contains("Not signed in."), "every session ended");
    assert!(browser.get("/").await.body.contains("Not signed in."));
}

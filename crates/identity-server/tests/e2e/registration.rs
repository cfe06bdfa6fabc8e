//! Self-service accounts through the real binary, with e-mail over a real SMTP conversation (a
//! sink started by the test): register, confirm by the mailed link, sign in; an unconfirmed
//! account is told only after its right password; a taken address answers as a success and its
//! owner is mailed; the e-mail address signs in like the user name (`login_with`); forgot and
//! reset password, after which the old password fails and the user's other session is over; a
//! change of address confirmed through the new one.

use crate::interactive::{Browser, CLIENT_BASE, INVALID_CREDENTIALS, Page, interactive_config};
use crate::smtp_sink::SmtpSink;
use crate::support::TestEnv;

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::registration,
    cases: [users_register_confirm_and_reset_their_password_by_email],
}

/// dave's password, then his new one.
const PASSWORD: &str = "Dave-pw-123";
const NEW_PASSWORD: &str = "Dave-new-456";
const CHECK_YOUR_EMAIL: &str = "Please check your email to confirm your account.";

/// Posts the form of `page` to `path` with `fields` after the CSRF token.
async fn submit(browser: &Browser<'_>, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
    let token = page.csrf_token();
    let mut form = vec![("__csrf", token.as_str())];
    form.extend_from_slice(fields);
    browser.post(path, &form).await
}

/// Registers `user_name` with `email` through the page.
async fn register(browser: &Browser<'_>, user_name: &str, email: &str) -> Page {
    let page = browser.get("/account/register").await;
    assert_eq!(page.status, 200, "{page:#?}");
    let fields = [("username", user_name), ("email", email), ("password", PASSWORD), ("confirmPassword", PASSWORD)];
    submit(browser, &page, "/account/register", &fields).await
}

pub(crate) async fn users_register_confirm_and_reset_their_password_by_email(env: TestEnv) {
    let mut sink = SmtpSink::start().await;
    let config = format!(
        "{}\n[account]\nallow_registration = true\nlogin_with = \"user_name_or_email\"\n\n[user]\nrequire_unique_email = true\n\n\
         [email]\nsmtp_url = \"{}\"\nfrom = \"Identity <id@example.com>\"\n",
        interactive_config(CLIENT_BASE),
        sink.url
    );
    let path = env.write_file("accounts.toml", &config);
    let server = env.serve(&["--config", path.to_str().expect("UTF-8 path")]);
    let browser = Browser::new(&server);

    let registered = register(&browser, "dave", "dave@example.com").await;
    assert!(registered.body.contains(CHECK_YOUR_EMAIL), "{}", registered.body);
    let mail = sink.next().await;
    assert_eq!((mail.to.as_str(), mail.subject()), ("dave@example.com", "Confirm your email"));
    let confirm_link = mail.link_path();
    assert!(confirm_link.starts_with("/account/confirm-email?userId="), "{confirm_link}");

    // Unconfirmed: the right password learns why, a wrong one gets the one message.
    let unconfirmed = browser.log_in("/account/login", "dave", PASSWORD).await;
    assert!(unconfirmed.body.contains("You must confirm your e-mail address"), "{}", unconfirmed.body);
    let wrong = browser.log_in("/account/login", "dave", "Wrong-pw-1").await;
    assert!(wrong.body.contains(INVALID_CREDENTIALS) && !wrong.body.contains("confirm your e-mail"));

    let confirmed = browser.get(&confirm_link).await;
    assert!(confirmed.body.contains("Thank you for confirming your email."), "{}", confirmed.body);
    assert_eq!(browser.log_in("/account/login", "dave", PASSWORD).await.redirect(), "/");
    let phone = Browser::new(&server);
    let by_email = phone.log_in("/account/login", "Dave@Example.com", PASSWORD).await;
    assert_eq!(by_email.redirect(), "/", "login_with = user_name_or_email: {by_email:#?}");

    // A taken address answers as a success and tells its owner; a taken name is shown.
    let taken = register(&Browser::new(&server), "dave2", "DAVE@example.com").await;
    assert!(taken.body.contains(CHECK_YOUR_EMAIL), "the same answer: {}", taken.body);
    let warning = sink.next().await;
    assert_eq!(
        (warning.to.as_str(), warning.subject()),
        ("dave@example.com", "Someone tried to register with your email")
    );
    assert!(!env.cli(&["users", "list"]).ok().contains("dave2"), "no account was made");
    let name_taken = register(&Browser::new(&server), "dave", "other@example.com").await;
    assert!(name_taken.body.contains("id=\"username-error\""), "{}", name_taken.body);

    // Forgot password: an unknown address gets the same answer and no mail (the next mail is dave's).
    for email in ["nobody@example.com", "dave@example.com"] {
        let anonymous = Browser::new(&server);
        let page = anonymous.get("/account/forgot-password").await;
        let answer = submit(&anonymous, &page, "/account/forgot-password", &[("email", email)]).await;
        assert!(answer.body.contains("Please check your email to reset your password."), "{}", answer.body);
    }
    let reset_mail = sink.next().await;
    assert_eq!((reset_mail.to.as_str(), reset_mail.subject()), ("dave@example.com", "Reset your password"));
    let reset_link = reset_mail.link_path();
    let stranger = Browser::new(&server);
    let page = stranger.get(&reset_link).await;
    let code = crate::interactive::query_param(&reset_link, "code").expect("a code");
    let fields = [
        ("code", code.as_str()),
        ("email", "dave@example.com"),
        ("password", NEW_PASSWORD),
        ("confirmPassword", NEW_PASSWORD),
    ];
    let reset = submit(&stranger, &page, "/account/reset-password", &fields).await;
    assert!(reset.body.contains("Your password has been reset."), "{}", reset.body);
    let again = submit(&stranger, &stranger.get(&reset_link).await, "/account/reset-password", &fields).await;
    assert!(again.body.contains("The link is invalid or has expired"), "a reset link works once: {}", again.body);

    assert!(phone.get("/").await.body.contains("Not signed in."), "the reset ended dave's sessions");
    let old = Browser::new(&server).log_in("/account/login", "dave", PASSWORD).await;
    assert!(old.body.contains(INVALID_CREDENTIALS), "the old password is refused");
    assert_eq!(Browser::new(&server).log_in("/account/login", "dave", NEW_PASSWORD).await.redirect(), "/");
    // A new address: the link goes to it, and opening it moves the account and signs it out.
    let signed_in = Browser::new(&server);
    assert_eq!(signed_in.log_in("/account/login", "dave", NEW_PASSWORD).await.redirect(), "/");
    let page = signed_in.get("/account/manage/email").await;
    assert!(page.body.contains("dave@example.com</strong> (confirmed)"), "{}", page.body);
    let asked = submit(
        &signed_in,
        &page,
        "/account/manage/email",
        &[("newEmail", "dave@new.example.com"), ("button", "change")],
    )
    .await;
    assert!(asked.body.contains("Confirmation link to change email sent."), "{}", asked.body);
    let change_mail = sink.next().await;
    assert_eq!((change_mail.to.as_str(), change_mail.subject()), ("dave@new.example.com", "Confirm your new email"));
    assert!(signed_in.get("/").await.body.contains("Signed in as"), "nothing changes before the link is opened");
    let moved = Browser::new(&server).get(&change_mail.link_path()).await;
    assert!(moved.body.contains("Thank you for confirming your email change."), "{}", moved.body);
    assert!(signed_in.get("/").await.body.contains("Not signed in."), "the change signed dave out everywhere");
    let by_old = Browser::new(&server).log_in("/account/login", "dave@example.com", NEW_PASSWORD).await;
    assert!(by_old.body.contains(INVALID_CREDENTIALS), "the old address names nobody now");
    let by_new = Browser::new(&server).log_in("/account/login", "dave@new.example.com", NEW_PASSWORD).await;
    assert_eq!(by_new.redirect(), "/", "{by_new:#?}");
    let log = server.log();
    assert!(!log.contains(&code) && !log.contains(NEW_PASSWORD), "the log holds no code or password");
}

//! Two-factor sign-in through the real binary: a user enrolled the way .NET stores it (an
//! authenticator key and recovery codes in `AspNetUserTokens`, `TwoFactorEnabled`) needs a code
//! after the password; wrong codes lock the account; a recovery code works once; "remember this
//! browser" skips the code until the security stamp changes; the id token's `amr` says how the
//! user signed in. A user whose only second factor is their e-mail gets a code mailed; a client
//! with `require_two_factor` has users without two-factor enrol first, and is not satisfied by
//! a remembered browser.

use identity_core::base32;
use identity_core::tokens::rfc6238;
use identity_core::{Clock as _, SystemClock};
use openidconnect::TokenResponse as _;
use test_support::http::jwt_payload;

use crate::interactive::{
    Browser, CLIENT_BASE, INVALID_CREDENTIALS, Page, QUICK, RelyingParty, SESSION_COOKIE, begin_authorization,
    code_from, exchange_code, interactive_config, relying_party, start,
};
use crate::smtp_sink::SmtpSink;
use crate::support::{PASSWORD, Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::two_factor,
    cases: [
        an_enrolled_user_signs_in_with_a_code_a_recovery_code_or_a_remembered_browser,
        wrong_codes_lock_the_account,
        a_user_turns_two_factor_on_and_off_from_the_pages,
        an_email_only_user_signs_in_with_a_mailed_code,
        a_client_that_requires_two_factor_has_users_enrol_first,
    ],
}

/// The authenticator key of the enrolled user, in Base32 as .NET stores it.
pub(crate) const AUTHENTICATOR_KEY: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/// The enrolled user's recovery codes, in .NET's format.
pub(crate) const RECOVERY_CODES: [&str; 3] = ["4K7QP-2XW9M", "T3HRB-8VNC6", "Z5DJ2-YQ4FG"];
/// The path of the authenticator-code page.
const TWO_FACTOR_PATH: &str = "/account/login/two-factor";

/// SQL that enrolls user `id` in two-factor as .NET writes it: the flag, the authenticator key
/// and the recovery codes as `[AspNetUserStore]` tokens.
pub(crate) fn enroll_sql(id: &str) -> String {
    format!(
        "UPDATE \"AspNetUsers\" SET \"TwoFactorEnabled\" = TRUE WHERE \"Id\" = '{id}';\n\
         INSERT INTO \"AspNetUserTokens\" (\"UserId\", \"LoginProvider\", \"Name\", \"Value\") VALUES\n\
         ('{id}', '[AspNetUserStore]', 'AuthenticatorKey', '{AUTHENTICATOR_KEY}'),\n\
         ('{id}', '[AspNetUserStore]', 'RecoveryCodes', '{}');",
        RECOVERY_CODES.join(";")
    )
}

/// The code an authenticator app shows now for [`AUTHENTICATOR_KEY`] (the server runs on the
/// wall clock and accepts two steps either side).
pub(crate) fn current_code() -> String {
    let key = base32::decode(AUTHENTICATOR_KEY).expect("Base32");
    format!("{:06}", rfc6238::totp(&key, SystemClock.now(), 30, None))
}

/// A code the server refuses now: none of the five it accepts.
fn wrong_code() -> String {
    let key = base32::decode(AUTHENTICATOR_KEY).expect("Base32");
    let now = SystemClock.now();
    let accepted: Vec<u32> =
        (-3..=3).map(|steps| rfc6238::totp(&key, now + chrono::Duration::seconds(30 * steps), 30, None)).collect();
    let code = (0..10).map(|n| (accepted[3] + 1 + n * 99_991) % 1_000_000).find(|code| !accepted.contains(code));
    format!("{:06}", code.expect("a refused code"))
}

/// Posts a form of the page at `path` (its CSRF token first).
async fn submit(browser: &Browser<'_>, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
    let token = page.csrf_token();
    let mut form = vec![("__csrf", token.as_str())];
    form.extend_from_slice(fields);
    browser.post(path, &form).await
}

/// Starts an authorization request of `client` and signs carol in with her password; returns
/// the request and the response to the password.
async fn sign_in_with_password(
    browser: &Browser<'_>,
    client: &RelyingParty,
) -> (crate::interactive::Request, String, Page) {
    let (request, login, return_url) = begin_authorization(browser, client).await;
    let answer = browser.log_in(&login, "carol", PASSWORD).await;
    (request, return_url, answer)
}

/// The `amr` of the id token that `request` ends with, once the browser is back at the client.
async fn amr_after(
    browser: &Browser<'_>,
    server: &Server,
    client: &RelyingParty,
    request: &crate::interactive::Request,
    page: Page,
) -> Vec<String> {
    let callback = browser.follow(page).await;
    let code = code_from(callback.redirect(), request, CLIENT_BASE);
    let tokens = exchange_code(client, server, request, code).await;
    let id_token = tokens.id_token().expect("an id token").to_string();
    let amr = jwt_payload(&id_token)["amr"].as_array().expect("amr").clone();
    amr.iter().map(|method| method.as_str().expect("a string").to_owned()).collect()
}

pub(crate) async fn an_enrolled_user_signs_in_with_a_code_a_recovery_code_or_a_remembered_browser(env: TestEnv) {
    let (id, server) = start(&env, &[]);
    env.execute_sql(&enroll_sql(&id));
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;

    // The right password leads to the code page, not to a session; the user is in a cookie, not the URL.
    let browser = Browser::new(&server);
    let (request, return_url, answer) = sign_in_with_password(&browser, &client).await;
    let two_factor = answer.redirect().to_owned();
    assert!(two_factor.starts_with(&format!("{TWO_FACTOR_PATH}?returnUrl=")), "{two_factor}");
    assert!(!two_factor.contains(&id), "the pending user is not in the URL");
    assert!(!browser.has_cookie(SESSION_COOKIE), "no session before the second factor");
    let page = browser.get(&two_factor).await;
    assert!(page.body.contains("autocomplete=\"one-time-code\""), "{}", page.body);
    let refused =
        submit(&browser, &page, TWO_FACTOR_PATH, &[("returnUrl", &return_url), ("code", &wrong_code())]).await;
    assert!(refused.body.contains("Invalid authenticator code."), "{}", refused.body);
    let code = current_code();
    let fields = [("returnUrl", return_url.as_str()), ("code", code.as_str()), ("rememberMachine", "true")];
    let signed_in = submit(&browser, &refused, TWO_FACTOR_PATH, &fields).await;
    assert_eq!(signed_in.redirect(), return_url, "the authorize request resumes");
    assert!(browser.has_cookie(SESSION_COOKIE));
    let amr = amr_after(&browser, &server, &client, &request, signed_in).await;
    assert_eq!(amr, ["pwd", "otp", "mfa"], "an authenticator code is a second factor");

    // The remembered browser skips the code: the password alone, and amr says so.
    let logout = browser.get("/account/logout").await;
    submit(&browser, &logout, "/account/logout", &[]).await;
    let (request, return_url, answer) = sign_in_with_password(&browser, &client).await;
    assert_eq!(answer.redirect(), return_url, "no code on a remembered browser");
    assert_eq!(amr_after(&browser, &server, &client, &request, answer).await, ["pwd"]);

    // Another browser is not remembered; a recovery code signs in once.
    let other = Browser::new(&server);
    let (request, return_url, answer) = sign_in_with_password(&other, &client).await;
    let page = other.get(answer.redirect()).await;
    assert!(page.body.contains("/account/login/recovery-code?returnUrl="), "{}", page.body);
    let recovery_path = "/account/login/recovery-code";
    let recovery = other.get(&format!("{recovery_path}?returnUrl={}", urlencode(&return_url))).await;
    let fields = [("returnUrl", return_url.as_str()), ("recoveryCode", RECOVERY_CODES[1])];
    let signed_in = submit(&other, &recovery, recovery_path, &fields).await;
    assert_eq!(signed_in.redirect(), return_url);
    assert_eq!(amr_after(&other, &server, &client, &request, signed_in).await, ["pwd", "mfa"]);
    let third = Browser::new(&server);
    let (_, return_url, _) = sign_in_with_password(&third, &client).await;
    let recovery = third.get(&format!("{recovery_path}?returnUrl={}", urlencode(&return_url))).await;
    let fields = [("returnUrl", return_url.as_str()), ("recoveryCode", RECOVERY_CODES[1])];
    let reused = submit(&third, &recovery, recovery_path, &fields).await;
    assert!(reused.body.contains("Invalid recovery code entered."), "a recovery code works once: {}", reused.body);

    // A new security stamp (here a new password) forgets every remembered browser.
    env.cli_with_stdin(&["users", "set-password", "carol", "--password-stdin"], &format!("{PASSWORD}\n")).ok();
    let (_, _, answer) = sign_in_with_password(&browser, &client).await;
    assert!(answer.redirect().starts_with(TWO_FACTOR_PATH), "the stamp changed: the code is asked again");
    let log = server.log();
    for secret in [AUTHENTICATOR_KEY, RECOVERY_CODES[1], code.as_str()] {
        assert!(!log.contains(secret), "the log holds no key or code:\n{log}");
    }
}

pub(crate) async fn wrong_codes_lock_the_account(env: TestEnv) {
    let (id, server) = start(&env, &[]);
    env.execute_sql(&enroll_sql(&id));
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let browser = Browser::new(&server);
    let (_, return_url, answer) = sign_in_with_password(&browser, &client).await;
    let mut page = browser.get(answer.redirect()).await;
    for attempt in 1..=5 {
        page = submit(&browser, &page, TWO_FACTOR_PATH, &[("returnUrl", &return_url), ("code", &wrong_code())]).await;
        let expected = if attempt < 5 { "Invalid authenticator code." } else { "This account has been locked out" };
        assert!(page.body.contains(expected), "attempt {attempt}: {}", page.body);
    }
    assert!(!browser.has_cookie(SESSION_COOKIE));
    // Locked: the right password gets the generic failure, and the code page is gone.
    let fresh = Browser::new(&server);
    let (_, _, answer) = sign_in_with_password(&fresh, &client).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains(INVALID_CREDENTIALS), "{}", answer.body);
    let gone = browser.get(&format!("{TWO_FACTOR_PATH}?returnUrl={}", urlencode(&return_url))).await;
    assert!(gone.redirect().starts_with("/account/login?"), "the pending sign-in ended: {gone:#?}");
}

/// `value` URL-encoded for a query string.
fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The text between `start` and the next `end` in `body`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("no {start:?} in {body}")) + start.len();
    &body[from..from + body[from..].find(end).expect("the end marker")]
}

pub(crate) async fn a_user_turns_two_factor_on_and_off_from_the_pages(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let browser = Browser::new(&server);
    let (_, _, answer) = sign_in_with_password(&browser, &client).await;
    assert!(!answer.redirect().starts_with(TWO_FACTOR_PATH), "no two-factor yet");
    let phone = Browser::new(&server);
    sign_in_with_password(&phone, &client).await;

    // Showing the page makes no key (nothing changes on a GET); a POST makes one.
    let page = browser.get("/account/manage/authenticator").await;
    assert!(!page.body.contains("<code class=\"key\">"), "{}", page.body);
    assert!(phone.get("/").await.body.contains("Signed in as <strong>carol</strong>"), "a GET ends nothing");
    let made = submit(&browser, &page, "/account/manage/authenticator", &[("button", "new-key")]).await;
    assert_eq!(made.redirect(), "/account/manage/authenticator");
    assert!(phone.get("/").await.body.contains("Not signed in."), "a new key ends the other sessions");
    let phone = Browser::new(&server);
    sign_in_with_password(&phone, &client).await;

    // The key as text, the otpauth URI and the QR code; a wrong code turns nothing on.
    let page = browser.get("/account/manage/authenticator").await;
    assert_eq!(page.status, 200, "{page:#?}");
    let key: String = between(&page.body, "<code class=\"key\">", "</code>").split_whitespace().collect();
    assert!(page.body.contains(&format!("secret={}", key.to_uppercase())), "{}", page.body);
    assert!(page.body.contains("<svg"), "an inline QR code");
    let key = base32::decode(&key).expect("the shown key is Base32");
    let code = format!("{:06}", rfc6238::totp(&key, SystemClock.now(), 30, None));
    let wrong = format!("{:06}", (code.parse::<u32>().expect("digits") + 500_000) % 1_000_000);
    let refused =
        submit(&browser, &page, "/account/manage/authenticator", &[("code", &wrong), ("button", "verify")]).await;
    assert!(refused.body.contains("Verification code is invalid."), "{}", refused.body);
    let codes_page =
        submit(&browser, &refused, "/account/manage/authenticator", &[("code", &code), ("button", "verify")]).await;
    assert_eq!(codes_page.status, 200, "{codes_page:#?}");
    let recovery_codes: Vec<&str> =
        codes_page.body.split("<li><code>").skip(1).map(|item| item.split('<').next().expect("a code")).collect();
    assert_eq!(recovery_codes.len(), 10, "ten recovery codes, shown once: {}", codes_page.body);

    // This browser stays signed in; the other session ended with the new security stamp.
    assert!(browser.get("/").await.body.contains("Signed in as <strong>carol</strong>"));
    assert!(phone.get("/").await.body.contains("Not signed in."), "the other session ended");
    let status = browser.get("/account/manage/two-factor").await;
    assert!(status.body.contains("Two-factor authentication is <strong>on</strong>"), "{}", status.body);
    assert!(status.body.contains("10 recovery codes left"), "{}", status.body);

    // The next sign-in asks for a code; a recovery code from the page works.
    let laptop = Browser::new(&server);
    let (_, return_url, answer) = sign_in_with_password(&laptop, &client).await;
    assert!(answer.redirect().starts_with(TWO_FACTOR_PATH), "{answer:#?}");
    let recovery_path = "/account/login/recovery-code";
    let recovery = laptop.get(&format!("{recovery_path}?returnUrl={}", urlencode(&return_url))).await;
    let fields = [("returnUrl", return_url.as_str()), ("recoveryCode", recovery_codes[0])];
    assert_eq!(submit(&laptop, &recovery, recovery_path, &fields).await.redirect(), return_url);

    // Turning it off ends the other sessions too, and the password alone is enough again.
    let status = browser.get("/account/manage/two-factor").await;
    let off = submit(&browser, &status, "/account/manage/two-factor", &[("button", "disable")]).await;
    assert_eq!(off.redirect(), "/account/manage/two-factor");
    let status = browser.get("/account/manage/two-factor").await;
    assert!(status.body.contains("Two-factor authentication is <strong>off</strong>"), "{}", status.body);
    assert!(laptop.get("/").await.body.contains("Not signed in."), "the other session ended");
    let (_, return_url, answer) = sign_in_with_password(&Browser::new(&server), &client).await;
    assert_eq!(answer.redirect(), return_url, "the password alone signs in again");
}

pub(crate) async fn an_email_only_user_signs_in_with_a_mailed_code(env: TestEnv) {
    let mut sink = SmtpSink::start().await;
    let id = env.create_user("carol", &[]);
    env.execute_sql(&format!(
        "UPDATE \"AspNetUsers\" SET \"TwoFactorEnabled\" = TRUE, \"Email\" = 'carol@example.com', \
         \"NormalizedEmail\" = 'CAROL@EXAMPLE.COM', \"EmailConfirmed\" = TRUE WHERE \"Id\" = '{id}';"
    ));
    let config = format!(
        "{}\n[email]\nsmtp_url = \"{}\"\nfrom = \"id@example.com\"\n",
        interactive_config(CLIENT_BASE),
        sink.url
    );
    let config = env.write_file("email-2fa.toml", &config);
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let browser = Browser::new(&server);
    let (request, return_url, answer) = sign_in_with_password(&browser, &client).await;
    let page = browser.get(answer.redirect()).await;
    assert!(page.body.contains("Email me a code") && !page.body.contains("Authenticator code"), "{}", page.body);

    let sent = submit(&browser, &page, TWO_FACTOR_PATH, &[("returnUrl", &return_url), ("button", "send-email")]).await;
    assert!(sent.body.contains("We sent a verification code to your email."), "{}", sent.body);
    let mail = sink.next().await;
    assert_eq!((mail.to.as_str(), mail.subject()), ("carol@example.com", "Your security code"));
    let body = mail.body();
    let code = body.lines().map(str::trim).find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()));
    let code = code.unwrap_or_else(|| panic!("no code in {body}")).to_owned();
    let wrong = format!("{:06}", (code.parse::<u32>().expect("digits") + 1) % 1_000_000);
    let refused = submit(&browser, &sent, TWO_FACTOR_PATH, &[("returnUrl", &return_url), ("code", &wrong)]).await;
    assert!(refused.body.contains("Invalid verification code."), "{}", refused.body);
    let signed_in = submit(&browser, &refused, TWO_FACTOR_PATH, &[("returnUrl", &return_url), ("code", &code)]).await;
    assert_eq!(signed_in.redirect(), return_url);
    assert_eq!(amr_after(&browser, &server, &client, &request, signed_in).await, ["pwd", "otp", "mfa"]);
    assert!(!server.log().contains(&code), "the log holds no code");
}

/// A client that requires two-factor, next to the interactive configuration's two.
const STRICT: (&str, &str) = ("strict", "strict-secret-for-the-e2e-tests");

pub(crate) async fn a_client_that_requires_two_factor_has_users_enrol_first(env: TestEnv) {
    env.create_user("carol", &[]);
    let strict = format!(
        "\n[[clients]]\nclient_id = \"{}\"\nsecrets = [\"{}\"]\ngrant_types = [\"authorization_code\"]\n\
         redirect_uris = [\"{CLIENT_BASE}/callback\"]\nscopes = [\"openid\", \"profile\", \"scope2\", \"offline_access\"]\n\
         require_two_factor = true\n",
        STRICT.0, STRICT.1
    );
    let config = env.write_file("strict.toml", &format!("{}{strict}", interactive_config(CLIENT_BASE)));
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let (quick, strict) =
        (relying_party(&server, QUICK, CLIENT_BASE).await, relying_party(&server, STRICT, CLIENT_BASE).await);

    // The password is enough for the other client; this one sends the user to add an app.
    let browser = Browser::new(&server);
    let (_, return_url, answer) = sign_in_with_password(&browser, &quick).await;
    assert_eq!(answer.redirect(), return_url);
    let (request, return_url, answer) = sign_in_with_password(&browser, &strict).await;
    let enrol = answer.redirect().to_owned();
    assert!(enrol.starts_with("/account/manage/authenticator?returnUrl="), "{enrol}");
    let page = browser.get(&enrol).await;
    assert!(page.body.contains("requires two-factor authentication"), "{}", page.body);
    let before = browser.get(&return_url).await;
    assert!(before.redirect().starts_with("/account/login?"), "no code before the second factor: {before:#?}");
    let path = "/account/manage/authenticator";
    let made = submit(&browser, &page, path, &[("returnUrl", &return_url), ("button", "new-key")]).await;
    assert_eq!(made.redirect(), enrol, "the return URL is kept");
    let page = browser.get(&enrol).await;
    let key: String = between(&page.body, "<code class=\"key\">", "</code>").split_whitespace().collect();
    let key = base32::decode(&key).expect("the shown key is Base32");
    let code = format!("{:06}", rfc6238::totp(&key, SystemClock.now(), 30, None));
    let fields = [("returnUrl", return_url.as_str()), ("code", code.as_str()), ("button", "verify")];
    let codes_page = submit(&browser, &page, path, &fields).await;
    assert!(codes_page.body.contains("Continue to the application"), "{}", codes_page.body);
    // Enrolled with a code from the app: the session is a two-factor one now.
    let resumed = browser.get(&return_url).await;
    assert_eq!(amr_after(&browser, &server, &strict, &request, resumed).await, ["pwd", "otp", "mfa"]);

    // Another browser that is remembered for two-factor still gives a code to this client.
    let laptop = Browser::new(&server);
    let (_, return_url, answer) = sign_in_with_password(&laptop, &quick).await;
    let page = laptop.get(answer.redirect()).await;
    let code = format!("{:06}", rfc6238::totp(&key, SystemClock.now(), 30, None));
    let fields = [("returnUrl", return_url.as_str()), ("code", code.as_str()), ("rememberMachine", "true")];
    assert_eq!(submit(&laptop, &page, TWO_FACTOR_PATH, &fields).await.redirect(), return_url);
    let logout = laptop.get("/account/logout").await;
    submit(&laptop, &logout, "/account/logout", &[]).await;
    let (_, return_url, answer) = sign_in_with_password(&laptop, &quick).await;
    assert_eq!(answer.redirect(), return_url, "remembered for the other client");
    let (_, _, answer) = sign_in_with_password(&laptop, &strict).await;
    assert!(answer.redirect().starts_with(TWO_FACTOR_PATH), "not for this one: {answer:#?}");

    // Nor can the remembered browser's password-only session read the key or turn two-factor
    // off: it gives a code first.
    let laptop = Browser::new(&server);
    let (_, return_url, answer) = sign_in_with_password(&laptop, &quick).await;
    let page = laptop.get(answer.redirect()).await;
    let code = format!("{:06}", rfc6238::totp(&key, SystemClock.now(), 30, None));
    let fields = [("returnUrl", return_url.as_str()), ("code", code.as_str()), ("rememberMachine", "true")];
    submit(&laptop, &page, TWO_FACTOR_PATH, &fields).await;
    let logout = laptop.get("/account/logout").await;
    submit(&laptop, &logout, "/account/logout", &[]).await;
    let (_, return_url, answer) = sign_in_with_password(&laptop, &quick).await;
    assert_eq!(answer.redirect(), return_url, "a password-only session on the remembered browser");
    let key_page = laptop.get(path).await;
    assert!(key_page.redirect().starts_with(TWO_FACTOR_PATH), "the key needs a code first: {key_page:#?}");
    let settings = laptop.get("/account/manage/two-factor").await;
    let off = submit(&laptop, &settings, "/account/manage/two-factor", &[("button", "disable")]).await;
    assert!(off.redirect().starts_with(TWO_FACTOR_PATH), "turning it off needs a code first: {off:#?}");
    let status = laptop.get("/account/manage/two-factor").await;
    assert!(status.body.contains("Two-factor authentication is <strong>on</strong>"), "{}", status.body);
}

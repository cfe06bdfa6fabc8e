//! More of the signed-in user's pages through the real binary: the profile (`/account/manage`,
//! a new phone number ends the other sessions), a first password for a user without one
//! (`/account/manage/set-password`), the applications the user allowed
//! (`/account/manage/grants`, revoking one kills its refresh token and asks consent again), and
//! `prompt=create` leading to the registration page when registration is open.

use openidconnect::OAuth2TokenResponse as _;

use crate::interactive::{
    Browser, CLIENT_BASE, Page, WEB, authorization_request, begin_authorization, code_from, consent, exchange_code,
    interactive_config, query_param, relying_party, start,
};
use crate::smtp_sink::SmtpSink;
use crate::support::{PASSWORD, TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::self_service,
    cases: [
        a_user_edits_their_profile_and_sets_a_first_password,
        a_user_revokes_an_application_they_allowed,
        prompt_create_opens_the_registration_page,
    ],
}

/// Posts the form of `page` to `path` with `fields` after the CSRF token.
async fn submit(browser: &Browser<'_>, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
    let token = page.csrf_token();
    let mut form = vec![("__csrf", token.as_str())];
    form.extend_from_slice(fields);
    browser.post(path, &form).await
}

pub(crate) async fn a_user_edits_their_profile_and_sets_a_first_password(env: TestEnv) {
    let (id, server) = start(&env, &[]);
    let (browser, phone) = (Browser::new(&server), Browser::new(&server));
    for device in [&browser, &phone] {
        assert_eq!(device.log_in("/account/login", "carol", PASSWORD).await.redirect(), "/");
    }
    let page = browser.get("/account/manage").await;
    assert!(page.body.contains("value=\"carol\"") && page.body.contains("autocomplete=\"tel\""), "{}", page.body);
    assert!(page.body.contains("href=\"/account/manage/grants\""), "the account pages are linked");
    let refused = submit(&browser, &page, "/account/manage", &[("phoneNumber", "call me")]).await;
    assert!(refused.body.contains("id=\"phoneNumber-error\""), "{}", refused.body);
    assert_eq!(field(&env.show_user("carol"), "phone_number"), "-");
    let saved = submit(&browser, &refused, "/account/manage", &[("phoneNumber", "+1 425 555 0100")]).await;
    assert_eq!(saved.redirect(), "/account/manage?status=updated");
    let page = browser.get(saved.redirect()).await;
    assert!(page.body.contains("Your profile has been updated.") && page.body.contains("value=\"+1 425 555 0100\""));
    assert_eq!(field(&env.show_user("carol"), "phone_number"), "+1 425 555 0100");
    assert_eq!(field(&env.show_user("carol"), "phone_number_confirmed"), "false");
    assert!(phone.get("/").await.body.contains("Not signed in."), "a new number ends the other sessions");

    // With a password, the set-password page sends the user to change it instead.
    assert_eq!(browser.get("/account/manage/set-password").await.redirect(), "/account/manage/change-password");
    // Without one (as after an external login), it is the other way round, and sets a first one.
    env.execute_sql(&format!("UPDATE \"AspNetUsers\" SET \"PasswordHash\" = NULL WHERE \"Id\" = '{id}';"));
    assert_eq!(browser.get("/account/manage/change-password").await.redirect(), "/account/manage/set-password");
    let page = browser.get("/account/manage/set-password").await;
    assert!(page.body.contains("<h1>Set password</h1>") && !page.body.contains("currentPassword"), "{}", page.body);
    let new = "F1rst-Password!";
    let set =
        submit(&browser, &page, "/account/manage/set-password", &[("newPassword", new), ("confirmPassword", new)])
            .await;
    assert_eq!(set.redirect(), "/account/manage/change-password?status=set", "{set:#?}");
    assert!(browser.get(set.redirect()).await.body.contains("Your password has been set."));
    assert_eq!(Browser::new(&server).log_in("/account/login", "carol", new).await.redirect(), "/");
}

pub(crate) async fn a_user_revokes_an_application_they_allowed(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, WEB, CLIENT_BASE).await;
    let (request, login, return_url) = begin_authorization(&browser, &client).await;
    browser.log_in(&login, "carol", PASSWORD).await;
    let empty = browser.get("/account/manage/grants").await;
    assert!(empty.body.contains("You have not given access to any applications."), "{}", empty.body);
    let consent_page = browser.follow(browser.get(&return_url).await).await;
    consent(&browser, &consent_page, &return_url, true).await;
    let callback = browser.follow(browser.get(&return_url).await).await;
    let tokens = exchange_code(&client, &server, &request, code_from(callback.redirect(), &request, CLIENT_BASE)).await;
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();

    let page = browser.get("/account/manage/grants").await;
    assert!(page.body.contains("<strong>The web app</strong>"), "{}", page.body);
    assert!(page.body.contains("Offline Access"), "the scopes are listed by name: {}", page.body);
    let forged = submit(&Browser::new(&server), &page, "/account/manage/grants", &[("clientId", WEB.0)]).await;
    assert_eq!(forged.status, 400, "another browser's form is refused: {forged:#?}");
    let revoked = submit(&browser, &page, "/account/manage/grants", &[("clientId", WEB.0), ("button", "revoke")]).await;
    assert_eq!(revoked.redirect(), "/account/manage/grants");
    let after = browser.get("/account/manage/grants").await;
    assert!(after.body.contains("You have not given access to any applications."), "{}", after.body);
    let refreshed =
        client.exchange_refresh_token(&refresh_token).expect("a token endpoint").request_async(&server.http).await;
    assert!(refreshed.is_err(), "the refresh token died with the grant");
    let again = browser.get(&authorization_request(&client).url).await;
    assert!(again.redirect().starts_with("/consent?"), "consent is asked again: {again:#?}");
}

pub(crate) async fn prompt_create_opens_the_registration_page(env: TestEnv) {
    let mut sink = SmtpSink::start().await;
    let open = format!(
        "{}\n[account]\nallow_registration = true\n\n[user]\nrequire_unique_email = true\n\n\
         [email]\nsmtp_url = \"{}\"\nfrom = \"id@example.com\"\n",
        interactive_config(CLIENT_BASE),
        sink.url
    );
    let open = env.write_file("open.toml", &open);
    let server = env.serve(&["--config", open.to_str().expect("UTF-8 path")]);
    let client = relying_party(&server, WEB, CLIENT_BASE).await;
    let discovery = server.get("/.well-known/openid-configuration", None).await.json();
    assert_eq!(discovery["prompt_values_supported"], serde_json::json!(["none", "login", "consent", "create"]));
    let browser = Browser::new(&server);
    let register = browser.get(&format!("{}&prompt=create", authorization_request(&client).url)).await;
    let location = register.redirect();
    assert!(location.starts_with("/account/register?returnUrl="), "{location}");
    let return_url = query_param(location, "returnUrl").expect("returnUrl");
    assert!(!return_url.contains("prompt"), "the registration page is shown once: {return_url}");
    let page = browser.get(location).await;
    assert!(page.body.contains("<h1>Register</h1>"), "{}", page.body);

    // Registered and confirmed by the mailed link: on to the login for the same request.
    let password = "Erin-pw-123";
    let fields = [
        ("returnUrl", return_url.as_str()),
        ("username", "erin"),
        ("email", "erin@example.com"),
        ("password", password),
        ("confirmPassword", password),
    ];
    let registered = submit(&browser, &page, "/account/register", &fields).await;
    assert!(registered.body.contains("Please check your email"), "{}", registered.body);
    let confirmed = browser.get(&sink.next().await.link_path()).await;
    let login = confirmed.redirect();
    assert_eq!(query_param(login, "returnUrl").as_deref(), Some(return_url.as_str()), "{login}");
    let signed_in = browser.log_in(login, "erin", password).await;
    assert_eq!(signed_in.redirect(), return_url, "back to the application's request");
}

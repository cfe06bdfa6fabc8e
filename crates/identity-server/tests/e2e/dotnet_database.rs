//! A real database written by .NET: the SQLite file of Duende's `isaspid` template, with alice
//! and bob and their ASP.NET Core Identity V3 password hashes (and alice enrolled in two-factor
//! as .NET stores it, for the two-factor test). The fixture lives outside the
//! repository (`../shared/fixtures`); without it the test says so loudly and passes, except
//! under `CI=true`, where it fails.

use test_support::TestDatabase;
use test_support::fixtures::fixture;
use test_support::http::jwt_payload;

use openidconnect::TokenResponse as _;
use test_support::http::form;

use crate::interactive::{
    Browser, CLIENT_BASE, QUICK, begin_authorization, code_from, exchange_code, interactive_config, relying_party,
};
use crate::support::{PASSWORD_CLIENT, TestEnv, field};
use crate::two_factor::{RECOVERY_CODES, current_code, enroll_sql};

/// A copy of the fixture in the environment's directory.
fn dotnet_env() -> Option<TestEnv> {
    let fixture = fixture("isaspid-template-users.db")?;
    let database = TestDatabase::sqlite();
    let copy = database.path("AspIdUsers.db");
    std::fs::copy(&fixture, &copy).expect("the fixture is copied");
    Some(TestEnv::with_sqlite_file(database, &copy))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotnet_users_sign_in_and_their_hashes_are_upgraded() {
    let Some(env) = dotnet_env() else { return };
    assert_eq!(field(&env.show_user("alice"), "password"), "aspnet-identity-v3");
    let server = env.serve(&[]);
    for (user_name, id) in
        [("alice", "184f8f0a-0b5e-4736-ab9a-40b4215c2805"), ("bob", "1af0a1df-317b-4924-9c91-555de90f455b")]
    {
        let response = server
            .post_form(
                "/connect/token",
                PASSWORD_CLIENT,
                &[
                    ("grant_type", "password"),
                    ("username", user_name),
                    ("password", "Pass123$"),
                    ("scope", "openid profile"),
                ],
            )
            .await
            .ok_json();
        let access_token = response["access_token"].as_str().expect("access token");
        assert_eq!(jwt_payload(access_token)["sub"], id);
        let userinfo = server.get("/connect/userinfo", Some(access_token)).await.json();
        assert_eq!(userinfo["given_name"], if user_name == "alice" { "Alice" } else { "Bob" });
        assert_eq!(userinfo["preferred_username"], user_name);

        let show = env.show_user(user_name);
        assert_eq!(field(&show, "password"), "argon2id", "the .NET hash was upgraded on sign-in");
        assert_eq!(field(&show, "email_confirmed"), "true");
    }
    // The upgraded hash verifies too, and a wrong password still fails.
    server.raw_password_grant("alice", "Pass123$").await.ok_json();
    server.raw_password_grant("bob", "Pass123").await.assert_invalid_credentials();
}

/// The migration proof for two-factor: alice of the .NET database, enrolled the way .NET stores
/// it, signs in through the pages with a code from her authenticator key, and in another browser
/// with one of her recovery codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dotnet_user_with_two_factor_signs_in_with_a_code_or_a_recovery_code() {
    let Some(env) = dotnet_env() else { return };
    let alice = "184f8f0a-0b5e-4736-ab9a-40b4215c2805";
    env.execute_sql(&enroll_sql(alice));
    let config = env.write_file("interactive.toml", &interactive_config(CLIENT_BASE));
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    for second_factor in ["authenticator", "recovery code"] {
        let browser = Browser::new(&server);
        let (request, login, return_url) = begin_authorization(&browser, &client).await;
        let answer = browser.log_in(&login, "alice", "Pass123$").await;
        let (path, fields) = if second_factor == "authenticator" {
            ("/account/login/two-factor", [("returnUrl", return_url.clone()), ("code", current_code())])
        } else {
            (
                "/account/login/recovery-code",
                [("returnUrl", return_url.clone()), ("recoveryCode", RECOVERY_CODES[0].into())],
            )
        };
        assert!(answer.redirect().starts_with("/account/login/two-factor?"), "{second_factor}: {answer:#?}");
        let page = browser.get(&format!("{path}?{}", form(&[("returnUrl", &return_url)]))).await;
        let token = page.csrf_token();
        let mut pairs = vec![("__csrf", token.as_str())];
        pairs.extend(fields.iter().map(|(name, value)| (*name, value.as_str())));
        let signed_in = browser.post(path, &pairs).await;
        assert_eq!(signed_in.redirect(), return_url, "{second_factor}");
        let callback = browser.follow(signed_in).await;
        let code = code_from(callback.redirect(), &request, CLIENT_BASE);
        let tokens = exchange_code(&client, &server, &request, code).await;
        let id_token = jwt_payload(&tokens.id_token().expect("an id token").to_string());
        assert_eq!(id_token["sub"], alice);
        assert!(id_token["amr"].as_array().expect("amr").contains(&"mfa".into()), "{second_factor}: {id_token}");
    }
}

//! A real database written by .NET: the SQLite file of Duende's `isaspid` template, with alice
//! and bob and their ASP.NET Core Identity V3 password hashes. The fixture lives outside the
//! repository (`../shared/fixtures`); without it the test says so loudly and passes, except
//! under `CI=true`, where it fails.

use test_support::TestDatabase;
use test_support::fixtures::fixture;
use test_support::http::jwt_payload;

use crate::support::{PASSWORD_CLIENT, TestEnv, field};

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

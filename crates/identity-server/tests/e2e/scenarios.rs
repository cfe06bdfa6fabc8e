//! The scenarios every backend runs: each takes a fresh [`TestEnv`], starts the real binary on it
//! and drives it over HTTP. [`backend_scenarios!`] stamps out one `#[tokio::test]` per scenario
//! for a backend.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{RequestTokenError, Scope, TokenResponse as _};
use openidconnect::IssuerUrl;
use openidconnect::core::CoreProviderMetadata;
use serde_json::json;

use test_support::http::jwt_payload;

use crate::support::{ALL_SCOPES, M2M_CLIENT, PASSWORD, PASSWORD_CLIENT, TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::scenarios,
    cases: [
        discovery_describes_the_running_server,
        password_grant_issues_tokens_to_cli_created_users,
        every_password_failure_answers_the_same,
        lockout_follows_the_configured_maximum,
        client_credentials_for_the_template_m2m_client,
        refresh_rotates_and_a_replayed_token_is_refused,
        refresh_tokens_and_signing_keys_survive_a_restart,
        revocation_ends_a_refresh_token,
        userinfo_claims_follow_the_scopes,
        deleted_users_cannot_refresh,
        administration_refusals_are_clear_errors,
        seeding_creates_the_template_users_once,
        migrate_shows_applies_and_reverts,
    ],
}

pub(crate) async fn discovery_describes_the_running_server(env: TestEnv) {
    let server = env.serve(&[]);
    let issuer = IssuerUrl::new(server.address.clone()).expect("issuer");
    let metadata = CoreProviderMetadata::discover_async(issuer, &server.http).await.expect("discovered");
    assert_eq!(metadata.issuer().as_str(), server.address, "the issuer follows the bound address");
    assert_eq!(metadata.token_endpoint().map(|url| url.as_str().to_owned()), Some(server.url("/connect/token")));

    let document = server.get("/.well-known/openid-configuration", None).await.json();
    let scopes = document["scopes_supported"].as_array().expect("scopes");
    for scope in ["openid", "profile", "email", "scope1", "scope2", "offline_access"] {
        assert!(scopes.contains(&json!(scope)), "{scope} in {scopes:?}");
    }
    let grants = document["grant_types_supported"].as_array().expect("grant types");
    for grant in ["password", "client_credentials", "refresh_token"] {
        assert!(grants.contains(&json!(grant)), "{grant} in {grants:?}");
    }
}

pub(crate) async fn password_grant_issues_tokens_to_cli_created_users(env: TestEnv) {
    let id = env.create_user("carol", &["--email", "carol@example.com", "--email-confirmed"]);
    let server = env.serve(&[]);
    let (access_token, refresh_token) = server.password_grant("carol", ALL_SCOPES).await;
    assert!(refresh_token.is_some(), "offline_access gives a refresh token");
    let claims = jwt_payload(&access_token);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["iss"], server.address.as_str());
    assert_eq!(claims["client_id"], PASSWORD_CLIENT.0);
    assert_eq!(claims["scope"], ALL_SCOPES.join(" "));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["idp"], "local");

    let (_, no_refresh) = server.password_grant("carol", &["openid", "scope1"]).await;
    assert!(no_refresh.is_none(), "no offline_access, no refresh token");
}

pub(crate) async fn every_password_failure_answers_the_same(env: TestEnv) {
    env.create_user("carol", &[]);
    env.create_user("dave", &[]);
    env.cli(&["users", "lock", "dave"]).ok();
    assert_eq!(field(&env.show_user("dave"), "locked_out"), "true");
    let server = env.serve(&[]);

    server.raw_password_grant("nobody", PASSWORD).await.assert_invalid_credentials();
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    server.raw_password_grant("dave", PASSWORD).await.assert_invalid_credentials();

    env.cli(&["users", "unlock", "dave"]).ok();
    server.raw_password_grant("dave", PASSWORD).await.ok_json();
}

pub(crate) async fn lockout_follows_the_configured_maximum(env: TestEnv) {
    let config = env.write_file(
        "lockout.toml",
        r#"
[[clients]]
client_id = "password.client"
secrets = ["A6F1C7D2-3B84-4E59-9C20-7D5E8B1F4A36"]
grant_types = ["password"]
scopes = ["openid"]

[lockout]
max_failed_access_attempts = 2
default_lockout_time_span_seconds = 3600
"#,
    );
    let config = config.to_str().expect("UTF-8 path");
    env.create_user("carol", &["--config", config]);
    let server = env.serve(&["--config", config]);

    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "1");
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    let show = env.show_user("carol");
    assert_eq!(field(&show, "locked_out"), "true", "locked after two failures");
    assert_eq!(field(&show, "access_failed_count"), "0", "the count restarts at lockout");
    server.raw_password_grant("carol", PASSWORD).await.assert_invalid_credentials();

    env.cli(&["users", "unlock", "carol"]).ok();
    server.raw_password_grant("carol", PASSWORD).await.ok_json();
}

pub(crate) async fn client_credentials_for_the_template_m2m_client(env: TestEnv) {
    let server = env.serve(&[]);
    let token = server
        .client(M2M_CLIENT)
        .exchange_client_credentials()
        .add_scope(Scope::new("scope1".into()))
        .request_async(&server.http)
        .await
        .expect("token issued");
    assert!(token.refresh_token().is_none());
    let claims = jwt_payload(token.access_token().secret());
    assert_eq!(claims["client_id"], M2M_CLIENT.0);
    assert_eq!(claims["scope"], "scope1");

    let wrong_secret =
        server.client((M2M_CLIENT.0, "not the secret")).exchange_client_credentials().request_async(&server.http).await;
    match wrong_secret {
        Err(RequestTokenError::ServerResponse(response)) => {
            assert_eq!(*response.error(), BasicErrorResponseType::InvalidClient);
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    let not_allowed = server.post_form("/connect/token", M2M_CLIENT, &[("grant_type", "password")]).await;
    not_allowed.assert_error("unauthorized_client");
}

pub(crate) async fn refresh_rotates_and_a_replayed_token_is_refused(env: TestEnv) {
    env.create_user("carol", &[]);
    let server = env.serve(&[]);
    let (_, first) = server.password_grant("carol", ALL_SCOPES).await;
    let first = first.expect("a refresh token");

    let refreshed = server.refresh(&first).await.ok_json();
    let second = refreshed["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
    assert_ne!(second, *first.secret());
    assert_eq!(jwt_payload(refreshed["access_token"].as_str().expect("access token"))["scope"], ALL_SCOPES.join(" "));

    server.refresh(&first).await.assert_error("invalid_grant");
    // The replay revoked the whole family, the rotated token included.
    server.refresh(&oauth2::RefreshToken::new(second)).await.assert_error("invalid_grant");
}

pub(crate) async fn refresh_tokens_and_signing_keys_survive_a_restart(env: TestEnv) {
    env.create_user("carol", &[]);
    let issuer = ["--issuer", "http://identity.test"];
    let first = env.serve(&issuer);
    let (access_token, refresh_token) = first.password_grant("carol", ALL_SCOPES).await;
    let keys = first.get("/.well-known/jwks", None).await.json();
    drop(first);

    let second = env.serve(&issuer);
    assert_eq!(second.get("/.well-known/jwks", None).await.json(), keys, "the same signing keys");
    let refreshed = second.refresh(&refresh_token.expect("a refresh token")).await.ok_json();
    assert!(refreshed["refresh_token"].is_string());
    assert_eq!(jwt_payload(&access_token)["iss"], "http://identity.test");
    let userinfo = second.get("/connect/userinfo", Some(&access_token)).await;
    assert_eq!(userinfo.status, 200, "a token of the first run is still valid: {}", userinfo.body);
}

pub(crate) async fn revocation_ends_a_refresh_token(env: TestEnv) {
    env.create_user("carol", &[]);
    let server = env.serve(&[]);
    let (_, refresh_token) = server.password_grant("carol", ALL_SCOPES).await;
    let refresh_token = refresh_token.expect("a refresh token");
    let revoked = server
        .post_form(
            "/connect/revocation",
            PASSWORD_CLIENT,
            &[("token", refresh_token.secret()), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    server.refresh(&refresh_token).await.assert_error("invalid_grant");
}

pub(crate) async fn userinfo_claims_follow_the_scopes(env: TestEnv) {
    let id = env.create_user(
        "carol",
        &[
            "--email",
            "carol@example.com",
            "--email-confirmed",
            "--claim",
            "name=Carol Jones",
            "--claim",
            "given_name=Carol",
            "--claim",
            "family_name=Jones",
            "--claim",
            "website=http://carol.example.com",
        ],
    );
    let server = env.serve(&[]);

    let (with_email, _) = server.password_grant("carol", &["openid", "profile", "email"]).await;
    let userinfo = server.get("/connect/userinfo", Some(&with_email)).await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.body);
    assert_eq!(
        userinfo.json(),
        json!({
            "sub": id,
            "name": "Carol Jones",
            "given_name": "Carol",
            "family_name": "Jones",
            "website": "http://carol.example.com",
            "preferred_username": "carol",
            "email": "carol@example.com",
            "email_verified": true,
        })
    );

    let (without_email, _) = server.password_grant("carol", &["openid", "profile"]).await;
    let userinfo = server.get("/connect/userinfo", Some(&without_email)).await.json();
    assert_eq!(userinfo["name"], "Carol Jones");
    assert!(userinfo.get("email").is_none() && userinfo.get("email_verified").is_none(), "{userinfo}");

    let (openid_only, _) = server.password_grant("carol", &["openid"]).await;
    assert_eq!(server.get("/connect/userinfo", Some(&openid_only)).await.json(), json!({"sub": id}));
}

pub(crate) async fn deleted_users_cannot_refresh(env: TestEnv) {
    env.create_user("carol", &[]);
    let server = env.serve(&[]);
    let (_, refresh_token) = server.password_grant("carol", ALL_SCOPES).await;
    env.cli(&["users", "delete", "carol"]).ok();
    env.cli(&["users", "show", "carol"]).fails_with("no user named `carol`");
    server.refresh(&refresh_token.expect("a refresh token")).await.assert_error("invalid_grant");
}

pub(crate) async fn administration_refusals_are_clear_errors(env: TestEnv) {
    env.create_user("carol", &[]);
    env.cli_with_stdin(&["users", "create", "carol", "--password-stdin"], "Other123$\n")
        .fails_with("Username 'carol' is already taken.");
    env.cli_with_stdin(&["users", "create", "dave", "--password-stdin"], "abc\n")
        .fails_with("Passwords must be at least 6 characters.");
    env.cli(&["users", "create", "erin", "--role", "admin"]).fails_with("role `admin` does not exist");
    env.cli(&["users", "add-role", "carol", "admin"]).fails_with("role `admin` does not exist");
    env.cli(&["users", "show", "nobody"]).fails_with("no user named `nobody`");
    let usage = env.cli(&["users", "add-claim", "carol", "no-equals-sign"]);
    assert_eq!(usage.code, Some(2), "a usage error: {usage:#?}");
    usage.fails_with("TYPE=VALUE");

    env.cli(&["roles", "create", "admin"]).ok();
    env.cli(&["roles", "create", "admin"]).fails_with("Role name 'admin' is already taken.");
    env.cli(&["users", "add-role", "carol", "admin"]).ok();
    env.cli(&["users", "add-role", "carol", "admin"]).fails_with("User already in role 'admin'.");
    env.cli(&["users", "add-claim", "carol", "nickname=cj"]).ok();
    let users = env.cli(&["users", "list"]).ok();
    assert!(users.contains("carol") && !users.contains("dave") && !users.contains("erin"), "{users}");

    env.cli_with_stdin(&["users", "set-password", "carol", "--password-stdin"], "short\n")
        .fails_with("Passwords must be at least 6 characters.");
    env.cli_with_stdin(&["users", "set-password", "carol", "--password-stdin"], "Changed123$\r\n").ok();
    let show = env.show_user("carol");
    assert_eq!(field(&show, "roles"), "admin");
    assert!(show.contains("  nickname=cj"), "{show}");
    assert_eq!(field(&show, "password"), "argon2id");

    let server = env.serve(&[]);
    server.raw_password_grant("carol", PASSWORD).await.assert_invalid_credentials();
    server.raw_password_grant("carol", "Changed123$").await.ok_json();
}

pub(crate) async fn seeding_creates_the_template_users_once(env: TestEnv) {
    assert_eq!(env.cli(&["seed"]).ok(), "alice created\nbob created\n");
    assert_eq!(env.cli(&["seed"]).ok(), "alice already exists\nbob already exists\n");
    let alice = env.show_user("alice");
    assert_eq!(field(&alice, "email"), "AliceSmith@example.com");
    assert_eq!(field(&alice, "email_confirmed"), "true");
    assert!(alice.contains("  website=http://alice.example.com"), "{alice}");
    assert!(env.show_user("bob").contains("  location=somewhere"));

    let server = env.serve(&["--seed"]);
    let signed_in = server
        .post_form(
            "/connect/token",
            PASSWORD_CLIENT,
            &[("grant_type", "password"), ("username", "bob"), ("password", "Pass123$"), ("scope", "openid")],
        )
        .await;
    signed_in.ok_json();
    assert!(server.log().contains("seed: bob already exists"), "{}", server.log());
}

pub(crate) async fn migrate_shows_applies_and_reverts(env: TestEnv) {
    let fresh = env.cli(&["migrate", "status"]).ok();
    assert!(fresh.contains("identity schema: Absent"), "{fresh}");
    let up = env.cli(&["migrate", "up"]).ok();
    assert!(
        !up.contains("identity migrations applied: none") && !up.contains("operational migrations applied: none"),
        "{up}"
    );
    assert!(env.cli(&["migrate"]).ok().contains("identity migrations applied: none"), "up is the default");
    let status = env.cli(&["migrate", "status"]).ok();
    assert!(status.contains("identity schema: WithPasskeys") && status.contains("pending: none"), "{status}");

    assert!(env.cli(&["migrate", "down"]).ok().contains("reverted operational"));
    assert!(env.cli(&["migrate", "down"]).ok().contains("reverted identity"));
    assert!(env.cli(&["migrate", "down"]).ok().contains("no migration to revert"));
    // Any other command migrates what it needs.
    env.cli(&["users", "list"]).ok();
}

//! `identity-server clients …` against running servers: a client stored by the command gets
//! tokens from a server that was already running, within the client store's cache lifetime (1 s
//! here, waited for with 10x slack); its secrets rotate and its settings change the same way,
//! and deleting it locks it out. Stored clients pass the configuration file's rules, the file's
//! clients win, and a stored client that stopped passing them is skipped, named, while the
//! others serve. `identity-server grants …` lists what users granted clients without the
//! values, and revokes it by user and client.

use std::time::{Duration, Instant};

use test_support::http::Response;

use crate::support::{ALL_SCOPES, M2M_CLIENT, PASSWORD_CLIENT, Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::clients,
    cases: [
        a_client_created_by_the_cli_gets_tokens_from_a_running_server,
        stored_clients_follow_the_file_rules_and_a_broken_one_is_skipped,
        grants_are_listed_without_their_values_and_revoked_by_user_and_client,
    ],
}

/// The cache lifetime the servers run with, and the longest a change may take to show.
const CACHE_LIFETIME: &str = "1";
const PROPAGATION_LIMIT: Duration = Duration::from_secs(10);

fn serve(env: &TestEnv) -> Server {
    env.serve_with_env(&[], &[("IDENTITY_CLIENT_STORE__CACHE_LIFETIME", CACHE_LIFETIME)])
}

async fn client_credentials(server: &Server, client: (&str, &str), scope: &str) -> Response {
    server.post_form("/connect/token", client, &[("grant_type", "client_credentials"), ("scope", scope)]).await
}

/// Repeats the token request until its answer has `status`; fails after the propagation limit.
async fn until_status(server: &Server, client: (&str, &str), scope: &str, status: u16) -> Response {
    let deadline = Instant::now() + PROPAGATION_LIMIT;
    loop {
        let response = client_credentials(server, client, scope).await;
        if response.status == status {
            return response;
        }
        assert!(Instant::now() < deadline, "still {} instead of {status}: {}", response.status, response.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The secret that `clients create` or `add-secret` printed.
fn printed_secret(output: &str) -> String {
    let secret = output
        .lines()
        .find_map(|line| line.strip_prefix("client secret: "))
        .unwrap_or_else(|| panic!("no secret printed: {output}"))
        .to_owned();
    test_support::secrets::remember(&secret);
    secret
}

pub(crate) async fn a_client_created_by_the_cli_gets_tokens_from_a_running_server(env: TestEnv) {
    let server = serve(&env);
    client_credentials(&server, ("robot", "guess"), "scope1").await.assert_oauth_error(401, "invalid_client");

    let created = env
        .cli(&[
            "clients",
            "create",
            "robot",
            "--name",
            "Robot",
            "--grant-type",
            "client_credentials",
            "--scope",
            "scope1",
        ])
        .ok();
    let first = printed_secret(&created);
    let token = until_status(&server, ("robot", &first), "scope1", 200).await.ok_json();
    assert_eq!(token["token_type"], "Bearer");
    test_support::secrets::remember(token["access_token"].as_str().expect("an access token"));

    let shown = env.cli(&["clients", "show", "robot"]).ok();
    assert!(shown.contains("[[clients]]") && shown.contains("client_id = \"robot\""), "{shown}");
    assert!(shown.contains("grant_types = [\"client_credentials\"]") && shown.contains("sha256:"), "{shown}");
    assert!(!shown.contains(&first), "the secret is stored hashed only: {shown}");
    let listed = env.cli(&["clients", "list"]).ok();
    assert!(listed.contains(&format!("{}\tfile", M2M_CLIENT.0)) && listed.contains("robot\tdatabase"), "{listed}");

    // Rotation: a second secret, then the first removed.
    let second = printed_secret(&env.cli(&["clients", "add-secret", "robot"]).ok());
    until_status(&server, ("robot", &second), "scope1", 200).await;
    assert_eq!(client_credentials(&server, ("robot", &first), "scope1").await.status, 200, "both work meanwhile");
    env.cli(&["clients", "remove-secret", "robot", "1"]).ok();
    until_status(&server, ("robot", &first), "scope1", 401).await.assert_oauth_error(401, "invalid_client");
    assert_eq!(client_credentials(&server, ("robot", &second), "scope1").await.status, 200);
    env.cli(&["clients", "remove-secret", "robot", "1"]).fails_with("no secrets");
    env.cli(&["clients", "remove-secret", "robot", "2"]).fails_with("has no secret number 2");

    // A changed setting reaches the running server; a restarted one reads it at once.
    env.cli(&["clients", "update", "robot", "--scope", "scope2"]).ok();
    until_status(&server, ("robot", &second), "scope1", 400).await.assert_oauth_error(400, "invalid_scope");
    drop(server);
    let server = serve(&env);
    assert_eq!(client_credentials(&server, ("robot", &second), "scope2").await.status, 200);

    let deleted = env.cli(&["clients", "delete", "robot"]).ok();
    assert!(deleted.contains("deleted client robot"), "{deleted}");
    until_status(&server, ("robot", &second), "scope2", 401).await.assert_oauth_error(401, "invalid_client");
    env.cli(&["clients", "delete", "robot"]).fails_with("no client `robot` is stored");
}

pub(crate) async fn stored_clients_follow_the_file_rules_and_a_broken_one_is_skipped(env: TestEnv) {
    let create = |args: &[&str]| env.cli(&[&["clients", "create"], args].concat());
    create(&["spa", "--public", "--grant-type", "client_credentials"])
        .fails_with("may not use the client_credentials grant");
    create(&["web", "--grant-type", "authorization_code", "--redirect-uri", "http://web.example/cb"])
        .fails_with("plain http");
    create(&[M2M_CLIENT.0, "--grant-type", "client_credentials"]).fails_with("wins over the database");
    let listed = env.cli(&["clients", "list"]).ok();
    assert!(!listed.contains("spa") && !listed.contains("\nweb"), "nothing refused was stored: {listed}");

    let good = printed_secret(&create(&["good", "--grant-type", "client_credentials", "--scope", "scope1"]).ok());
    let broken = printed_secret(&create(&["broken", "--grant-type", "client_credentials", "--scope", "scope1"]).ok());
    create(&["good", "--grant-type", "client_credentials"]).fails_with("stored already");
    // As an older or newer version might leave it: a grant type this one does not know.
    env.execute_sql(
        "UPDATE oidc_clients SET document = REPLACE(document, 'client_credentials', 'implicit') WHERE client_id = 'broken'",
    );
    let listed = env.cli(&["clients", "list"]).ok();
    assert!(listed.contains("broken\tdatabase (skipped: not a client definition"), "{listed}");

    let server = serve(&env);
    assert_eq!(client_credentials(&server, ("good", &good), "scope1").await.status, 200);
    client_credentials(&server, ("broken", &broken), "scope1").await.assert_oauth_error(401, "invalid_client");
    // Read again after the cache lifetime: the same skip is not reported again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    client_credentials(&server, ("broken", &broken), "scope1").await.assert_oauth_error(401, "invalid_client");
    let log = server.log();
    assert!(log.contains("skipping a stored client") && log.contains("broken"), "{log}");
    assert_eq!(log.matches("skipping a stored client").count(), 1, "reported once, not at every read");
}

pub(crate) async fn grants_are_listed_without_their_values_and_revoked_by_user_and_client(env: TestEnv) {
    env.create_user("alice", &[]);
    env.create_user("bob", &[]);
    let server = serve(&env);
    let (_, alice_refresh) = server.password_grant("alice", ALL_SCOPES).await;
    let (_, bob_refresh) = server.password_grant("bob", ALL_SCOPES).await;
    let (alice_refresh, bob_refresh) = (alice_refresh.expect("a refresh token"), bob_refresh.expect("a refresh token"));

    let listed = env.cli(&["grants", "list", "--user", "alice"]).ok();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with(&format!("refresh_token  client {}  user alice  created ", PASSWORD_CLIENT.0)));
    assert!(!listed.contains(alice_refresh.secret()), "never the value: {listed}");
    let by_client = env.cli(&["grants", "list", "--client", PASSWORD_CLIENT.0]).ok();
    assert!(by_client.contains("user alice") && by_client.contains("user bob"), "{by_client}");
    env.cli(&["grants", "list"]).fails_with("--user");
    env.cli(&["grants", "list", "--user", "nobody"]).fails_with("no user named `nobody`");

    let revoked = env.cli(&["grants", "revoke", "--user", "alice", "--client", PASSWORD_CLIENT.0]).ok();
    assert!(revoked.contains("revoked 1 grants"), "{revoked}");
    server.refresh(&alice_refresh).await.assert_oauth_error(400, "invalid_grant");
    assert_eq!(server.refresh(&bob_refresh).await.status, 200, "bob's grant stays");
    assert!(env.cli(&["grants", "list", "--user", "alice"]).ok().is_empty());
}

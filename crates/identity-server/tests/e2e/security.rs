//! Fail-closed regressions from the security review, through the real binary on every backend:
//! two-factor users get nothing from a password alone, lockout holds under a parallel burst,
//! refresh-token races leave no token of a replayed family alive, and administrative actions
//! end sessions and refresh tokens at once (while a lockout by wrong passwords ends nothing).

use crate::interactive::{
    Browser, CLIENT_BASE, INVALID_CREDENTIALS, QUICK, SESSION_COOKIE, authorization_request, authorize, code_from,
    exchange_code, interactive_config, query_param, relying_party,
};
use test_support::http::{Response, form};

use crate::support::{M2M_CLIENT, PASSWORD, PASSWORD_CLIENT, Server, TestEnv, field};
use crate::two_factor::enroll_sql;
use oauth2::RefreshToken;
use openidconnect::TokenResponse as _;

/// A password-grant client that accepts two-factor users on the password alone (Duende's way).
const TRUSTING_CLIENT: (&str, &str) = ("trusting.client", "trusting-secret-for-the-e2e-tests");

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::security,
    cases: [
        two_factor_users_get_nothing_from_the_password_alone,
        a_parallel_burst_never_signs_in_a_locked_account,
        refresh_races_leave_no_token_of_a_replayed_family_alive,
        admin_lock_and_set_password_end_sessions_and_refresh_tokens,
        wrong_passwords_lock_the_account_but_end_no_session,
        hostile_input_gets_a_client_error_never_a_server_error,
        a_logout_id_never_signs_out_another_user,
        a_stamp_changed_by_another_application_ends_every_grant,
        a_password_flood_beyond_the_hashing_queue_is_refused_with_503,
    ],
}

/// The interactive clients plus the password client (two-factor users refused) and
/// [`TRUSTING_CLIENT`] (allowed).
fn config() -> String {
    let (password_id, password_secret) = PASSWORD_CLIENT;
    let (trusting_id, trusting_secret) = TRUSTING_CLIENT;
    format!(
        "{}\n[[clients]]\nclient_id = \"{password_id}\"\nsecrets = [\"{password_secret}\"]\n\
         grant_types = [\"password\", \"refresh_token\"]\nscopes = [\"openid\", \"offline_access\"]\n\n\
         [[clients]]\nclient_id = \"{trusting_id}\"\nsecrets = [\"{trusting_secret}\"]\n\
         grant_types = [\"password\"]\nscopes = [\"openid\", \"offline_access\"]\nallow_password_grant_with_two_factor = true\n",
        interactive_config(CLIENT_BASE)
    )
}

/// A server on [`config`], with the user `carol`; returns carol's id and the server.
fn start(env: &TestEnv) -> (String, Server) {
    let id = env.create_user("carol", &[]);
    let config = env.write_file("security.toml", &config());
    (id, env.serve(&["--config", config.to_str().expect("UTF-8 path")]))
}

/// A password grant for `user_name` by `client`, asking for a refresh token.
async fn password_grant(server: &Server, client: (&str, &str), user_name: &str, password: &str) -> Response {
    let form = [
        ("grant_type", "password"),
        ("username", user_name),
        ("password", password),
        ("scope", "openid offline_access"),
    ];
    server.post_form("/connect/token", client, &form).await
}

/// The refresh token of a successful password grant.
async fn refresh_token(server: &Server, user_name: &str) -> RefreshToken {
    tokens(server, user_name).await.1
}

/// The access and refresh tokens of a successful password grant.
async fn tokens(server: &Server, user_name: &str) -> (String, RefreshToken) {
    let response = password_grant(server, PASSWORD_CLIENT, user_name, PASSWORD).await.ok_json();
    let access = response["access_token"].as_str().expect("an access token").to_owned();
    (access, RefreshToken::new(response["refresh_token"].as_str().expect("a refresh token").to_owned()))
}

/// Asserts that userinfo answers `access_token` as it should for an active user or not.
async fn assert_userinfo(server: &Server, access_token: &str, active: bool) {
    let response = server.get("/connect/userinfo", Some(access_token)).await;
    assert_eq!(response.status == 200, active, "{response:?}");
}

/// Sends the token requests `forms` by `client` at the same time; the responses in order.
async fn concurrently(server: &Server, client: (&str, &str), forms: Vec<Vec<(&str, String)>>) -> Vec<Response> {
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|pairs| {
            let request = server
                .http
                .post(server.url("/connect/token"))
                .basic_auth(client.0, Some(client.1))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&pairs.iter().map(|(key, value)| (*key, value.as_str())).collect::<Vec<_>>()));
            tokio::spawn(async move { Response::read(request.send().await.expect("request sent")).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("the request completes"));
    }
    responses
}

/// Whether the browser's session still gets an authorization code from [`QUICK`].
async fn session_gets_a_code(server: &Server, browser: &Browser<'_>) -> bool {
    let client = relying_party(server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    let page = browser.get(&request.url).await;
    let location = page.redirect();
    if location.starts_with("/account/login?") {
        return false;
    }
    code_from(location, &request, CLIENT_BASE);
    true
}

/// A browser signed in as carol through the code flow of [`QUICK`].
async fn signed_in_browser(server: &Server) -> Browser<'_> {
    let browser = Browser::new(server);
    let client = relying_party(server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    assert!(browser.has_cookie(SESSION_COOKIE));
    browser
}

pub(crate) async fn two_factor_users_get_nothing_from_the_password_alone(env: TestEnv) {
    let (_, server) = start(&env);
    // Two-factor enrolled exactly as ASP.NET Core Identity stores it.
    let erin = env.create_user("erin", &[]);
    env.execute_sql(&enroll_sql(&erin));
    assert_eq!(field(&env.show_user("erin"), "two_factor_enabled"), "true");

    password_grant(&server, PASSWORD_CLIENT, "erin", PASSWORD).await.assert_invalid_credentials();
    password_grant(&server, PASSWORD_CLIENT, "erin", "Wrong123$").await.assert_invalid_credentials();
    let browser = Browser::new(&server);
    let wrong = browser.log_in("/account/login", "erin", "Wrong123$").await;
    assert!(wrong.body.contains(INVALID_CREDENTIALS), "the one generic message: {}", wrong.body);
    let second_step = browser.log_in("/account/login", "erin", PASSWORD).await;
    assert!(second_step.redirect().starts_with("/account/login/two-factor?"), "{second_step:#?}");
    assert!(!browser.has_cookie(SESSION_COOKIE), "no session from a password alone");

    let show = env.show_user("erin");
    assert_eq!(field(&show, "access_failed_count"), "2", "the right passwords counted nothing, the wrong ones did");
    password_grant(&server, TRUSTING_CLIENT, "erin", PASSWORD).await.ok_json();
    password_grant(&server, PASSWORD_CLIENT, "carol", PASSWORD).await.ok_json();
}

pub(crate) async fn a_parallel_burst_never_signs_in_a_locked_account(env: TestEnv) {
    let (_, server) = start(&env);
    for round in 0..3 {
        let user_name = format!("burst{round}");
        env.create_user(&user_name, &[]);
        for _ in 0..4 {
            password_grant(&server, PASSWORD_CLIENT, &user_name, "Wrong123$").await.assert_invalid_credentials();
        }
        // One attempt is left: 20 wrong passwords and the right one, all at once.
        let mut forms = Vec::new();
        for index in 0..21 {
            let password = if index == 10 { PASSWORD } else { "Wrong123$" };
            forms.push(vec![
                ("grant_type", "password".to_owned()),
                ("username", user_name.clone()),
                ("password", password.to_owned()),
                ("scope", "openid".to_owned()),
            ]);
        }
        let responses = concurrently(&server, PASSWORD_CLIENT, forms).await;
        let successes = responses.iter().filter(|response| response.status == 200).count();
        for response in responses.iter().filter(|response| response.status != 200) {
            response.assert_invalid_credentials();
        }
        assert!(successes <= 1, "{responses:?}");
        let show = env.show_user(&user_name);
        assert_eq!(field(&show, "locked_out"), "true", "the burst locked the account");
        password_grant(&server, PASSWORD_CLIENT, &user_name, PASSWORD).await.assert_invalid_credentials();
    }
}

pub(crate) async fn refresh_races_leave_no_token_of_a_replayed_family_alive(env: TestEnv) {
    let (_, server) = start(&env);
    for round in 0..50 {
        let token = refresh_token(&server, "carol").await;
        let forms = (0..10)
            .map(|_| vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", token.secret().clone())])
            .collect();
        let responses = concurrently(&server, PASSWORD_CLIENT, forms).await;
        let winners: Vec<_> = responses.iter().filter(|response| response.status == 200).collect();
        assert!(winners.len() <= 1, "round {round}: one winner at most: {responses:?}");
        let replays = responses.iter().filter(|response| response.status != 200).count();
        for loser in responses.iter().filter(|response| response.status != 200) {
            loser.assert_error("invalid_grant");
        }
        if let (Some(winner), true) = (winners.first(), replays > 0) {
            let rotated = RefreshToken::new(winner.json()["refresh_token"].as_str().expect("rotated").to_owned());
            let after = server.refresh(&rotated).await;
            assert_eq!(
                after.status, 400,
                "round {round}: the winner's token died with its replayed family: {}",
                after.body
            );
        }
    }
}

pub(crate) async fn admin_lock_and_set_password_end_sessions_and_refresh_tokens(env: TestEnv) {
    let (_, server) = start(&env);
    let browser = signed_in_browser(&server).await;
    let (access, token) = tokens(&server, "carol").await;
    assert_userinfo(&server, &access, true).await;
    env.cli(&["users", "lock", "carol"]).ok();
    assert!(!session_gets_a_code(&server, &browser).await, "the locked user's session ended at once");
    assert!(!browser.has_cookie(SESSION_COOKIE), "its cookie was deleted");
    server.refresh(&token).await.assert_error("invalid_grant");
    assert_userinfo(&server, &access, false).await;

    env.cli(&["users", "unlock", "carol"]).ok();
    let browser = signed_in_browser(&server).await;
    let (access, token) = tokens(&server, "carol").await;
    env.cli_with_stdin(&["users", "set-password", "carol", "--password-stdin"], &format!("{PASSWORD}\n")).ok();
    assert!(!session_gets_a_code(&server, &browser).await, "a new password ends the session at once");
    server.refresh(&token).await.assert_error("invalid_grant");
    assert_userinfo(&server, &access, false).await;

    let browser = signed_in_browser(&server).await;
    let (access, token) = tokens(&server, "carol").await;
    let revoked = env.cli(&["users", "revoke-tokens", "carol"]).ok();
    assert_userinfo(&server, &access, true).await;
    assert!(revoked.contains("revoked"), "{revoked}");
    server.refresh(&token).await.assert_error("invalid_grant");
    assert!(session_gets_a_code(&server, &browser).await, "revoke-tokens leaves sessions alone");
}

pub(crate) async fn wrong_passwords_lock_the_account_but_end_no_session(env: TestEnv) {
    let (_, server) = start(&env);
    let browser = signed_in_browser(&server).await;
    for _ in 0..5 {
        password_grant(&server, PASSWORD_CLIENT, "carol", "Wrong123$").await.assert_invalid_credentials();
    }
    assert_eq!(field(&env.show_user("carol"), "locked_out"), "true");
    assert!(
        session_gets_a_code(&server, &browser).await,
        "guessing passwords must not sign the victim out of an existing session"
    );
}

/// POSTs `body` as it is (already form-encoded, or deliberately not UTF-8) with `client`'s
/// credentials.
async fn post_raw(server: &Server, path: &str, client: (&str, &str), body: &'static [u8]) -> Response {
    let request = server
        .http
        .post(server.url(path))
        .basic_auth(client.0, Some(client.1))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    Response::read(request.send().await.expect("request sent")).await
}

pub(crate) async fn hostile_input_gets_a_client_error_never_a_server_error(env: TestEnv) {
    let (_, server) = start(&env);
    const SECRET_GUESS: &str = "Guess-That-Must-Not-Be-Logged-1$";
    let long_name = "a".repeat(300);
    let long_password = "p".repeat(2000);
    let hostile_names = ["car\0ol", "evil\nINFO identity_server: FORGED LOG LINE", "tab\tname", long_name.as_str()];
    for name in hostile_names {
        password_grant(&server, PASSWORD_CLIENT, name, SECRET_GUESS).await.assert_invalid_credentials();
    }
    password_grant(&server, PASSWORD_CLIENT, "carol", &long_password).await.assert_invalid_credentials();
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "0", "refused before any counting");

    let undecodable: [&'static [u8]; 3] = [
        b"grant_type=password&username=car%FFol&password=x&scope=openid",
        b"grant_type=password&username=carol&password=%C3&scope=openid",
        b"grant_type=client_credentials&scope=scope%80",
    ];
    for body in undecodable {
        let response = post_raw(&server, "/connect/token", PASSWORD_CLIENT, body).await;
        response.assert_error("invalid_request");
    }
    for path in ["/connect/introspect", "/connect/revocation"] {
        let response = post_raw(&server, path, M2M_CLIENT, b"token=%FF%00").await;
        assert_eq!(response.status, 400, "{path}: {}", response.body);
        let response = server.post_form(path, M2M_CLIENT, &[("token", "nul\0inside")]).await;
        assert!(response.status < 500, "{path}: {response:?}");
    }
    let authorize = server.get("/connect/authorize?client_id=quick&state=%FF&response_type=code", None).await;
    assert_eq!(authorize.status, 400, "{}", authorize.body);

    let browser = Browser::new(&server);
    for name in hostile_names {
        let page = browser.log_in("/account/login", name, SECRET_GUESS).await;
        assert_eq!(page.status, 200, "{page:#?}");
        assert!(page.body.contains(INVALID_CREDENTIALS), "{}", page.body);
    }
    let token = browser.get("/account/login").await.csrf_token();
    let form = format!("__csrf={token}&username=car%FFol&password=x&button=login");
    let page = browser.post_encoded("/account/login", form).await;
    assert_eq!(page.status, 400, "{page:#?}");
    assert!(!browser.has_cookie(SESSION_COOKIE));

    let log = server.log();
    assert!(!log.contains(SECRET_GUESS), "no password reaches the log");
    assert!(!log.lines().any(|line| line.starts_with("INFO identity_server: FORGED")), "no forged log line:\n{log}");
}

pub(crate) async fn a_logout_id_never_signs_out_another_user(env: TestEnv) {
    let (_, server) = start(&env);
    // The attacker (carol) gets an id token for herself, and from the end-session endpoint,
    // without any session cookie, a logout id.
    let attacker = Browser::new(&server);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    let code = code_from(&authorize(&attacker, &request.url).await, &request, CLIENT_BASE);
    let tokens = exchange_code(&client, &server, &request, code).await;
    let id_token = tokens.id_token().expect("an id token").to_string();
    let end_session = format!("/connect/endsession?{}", form(&[("id_token_hint", &id_token)]));
    let ended = server.http.get(server.url(&end_session)).send().await.expect("sent");
    let location =
        ended.headers().get("location").and_then(|value| value.to_str().ok()).expect("a redirect").to_owned();
    let logout_id = query_param(&location, "logoutId").expect("a logout id");

    // The victim (dave), signed in, is lured to the logout page with that id: asked, not signed out.
    env.create_user("dave", &[]);
    let victim = Browser::new(&server);
    let login = victim.get(&authorization_request(&client).url).await.redirect().to_owned();
    victim.log_in(&login, "dave", PASSWORD).await.redirect();
    assert!(victim.has_cookie(SESSION_COOKIE));
    let lured = victim.get(&format!("/account/logout?{}", form(&[("logoutId", &logout_id)]))).await;
    assert_eq!(lured.status, 200, "the confirmation is shown: {lured:#?}");
    assert!(lured.body.contains("Would you like to log out?"), "{}", lured.body);
    assert!(victim.has_cookie(SESSION_COOKIE), "still signed in");
    assert!(session_gets_a_code(&server, &victim).await);
}

pub(crate) async fn a_stamp_changed_by_another_application_ends_every_grant(env: TestEnv) {
    let (id, server) = start(&env);
    let browser = signed_in_browser(&server).await;
    let (access, token) = tokens(&server, "carol").await;
    // As a .NET application sharing the database does on a credential change: a new stamp, and
    // nothing revoked in this server's tables.
    env.execute_sql(&format!(
        "UPDATE \"AspNetUsers\" SET \"SecurityStamp\" = 'CHANGEDBYANOTHERAPP', \"ConcurrencyStamp\" = 'x' WHERE \"Id\" = '{id}'"
    ));
    server.refresh(&token).await.assert_error("invalid_grant");
    assert_userinfo(&server, &access, false).await;
    assert!(!session_gets_a_code(&server, &browser).await, "the session ended too");
    let (fresh, _) = tokens(&server, "carol").await;
    assert_userinfo(&server, &fresh, true).await;
}

pub(crate) async fn a_password_flood_beyond_the_hashing_queue_is_refused_with_503(env: TestEnv) {
    env.create_user("carol", &[]);
    let config = env.write_file("security.toml", &config());
    // One hashing thread and no waiting room: every request that finds it busy is refused.
    let bound = [("IDENTITY_HASHING__THREADS", "1"), ("IDENTITY_HASHING__QUEUE_PER_THREAD", "0")];
    let server = env.serve_with_env(&["--config", config.to_str().expect("UTF-8 path")], &bound);
    let forms = (0..64)
        .map(|index| {
            vec![
                ("grant_type", "password".to_owned()),
                ("username", format!("nobody{index}")),
                ("password", "Wrong123$".to_owned()),
                ("scope", "openid".to_owned()),
            ]
        })
        .collect();
    let responses = concurrently(&server, PASSWORD_CLIENT, forms).await;
    let refused: Vec<&Response> = responses.iter().filter(|response| response.status == 503).collect();
    assert!(!refused.is_empty(), "64 requests at once on one hashing thread: {responses:?}");
    for response in &refused {
        assert_eq!(response.json()["error"], "temporarily_unavailable", "{}", response.body);
        assert_eq!(response.header("retry-after"), Some("1"));
    }
    for response in responses.iter().filter(|response| response.status != 503) {
        response.assert_invalid_credentials();
    }
    // The flood is over: the next sign-in is served.
    password_grant(&server, PASSWORD_CLIENT, "carol", PASSWORD).await.ok_json();
}

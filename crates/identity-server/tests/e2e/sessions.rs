//! Server-side sessions through the real binary: a copied session cookie dies with the session,
//! and the administration commands list, end and sign out sessions across processes.

use crate::interactive::{
    Browser, CLIENT_BASE, QUICK, SESSION_COOKIE, authorization_request, authorize, code_from, relying_party, start,
};
use crate::support::TestEnv;

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::sessions,
    cases: [
        a_copied_session_cookie_is_dead_after_logout,
        administrators_list_and_end_sessions_from_the_command_line,
        two_instances_on_one_database_share_sessions,
    ],
}

pub(crate) async fn a_copied_session_cookie_is_dead_after_logout(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);

    let thief = browser.copy();
    let request = authorization_request(&client);
    code_from(thief.get(&request.url).await.redirect(), &request, CLIENT_BASE);

    let prompt = browser.get("/account/logout").await;
    let token = prompt.csrf_token();
    browser.post("/account/logout", &[("__csrf", &token)]).await;
    assert!(!browser.has_cookie(SESSION_COOKIE), "the honest browser's cookie is deleted");
    let after = thief.get(&authorization_request(&client).url).await;
    assert!(after.redirect().starts_with("/account/login?"), "the copied cookie died with the session: {after:#?}");
    assert_eq!(env.cli(&["sessions", "list"]).ok().trim(), "", "no session is left");
}

pub(crate) async fn administrators_list_and_end_sessions_from_the_command_line(env: TestEnv) {
    let (carol, server) = start(&env, &[]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let (first, second) = (Browser::new(&server), Browser::new(&server));
    for browser in [&first, &second] {
        let request = authorization_request(&client);
        code_from(&authorize(browser, &request.url).await, &request, CLIENT_BASE);
    }
    let listed = env.cli(&["sessions", "list", "--user", "carol"]).ok();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines.iter().all(|line| line.contains("user carol") && line.contains("clients quick")), "{listed}");
    assert!(!listed.contains(&carol), "sessions are listed by user name");

    let session_id = lines[0].split_whitespace().next().expect("a session id");
    assert!(env.cli(&["sessions", "revoke", session_id]).ok().contains("ended session"));
    env.cli(&["sessions", "revoke", session_id]).fails_with("no session");
    let remaining = env.cli(&["sessions", "list"]).ok();
    assert_eq!(remaining.lines().count(), 1, "{remaining}");

    let signed_out = env.cli(&["users", "sign-out", "carol"]).ok();
    assert!(signed_out.contains("1 sessions ended"), "{signed_out}");
    for browser in [&first, &second] {
        let after = browser.get(&authorization_request(&client).url).await;
        assert!(after.redirect().starts_with("/account/login?"), "signed out everywhere: {after:#?}");
    }
    assert_eq!(env.cli(&["sessions", "list"]).ok().trim(), "");
}

pub(crate) async fn two_instances_on_one_database_share_sessions(env: TestEnv) {
    let (_, first) = start(&env, &[]);
    let config = env.dir().join("interactive.toml");
    let second = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let at_first = Browser::new(&first);
    let client = relying_party(&first, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    code_from(&authorize(&at_first, &request.url).await, &request, CLIENT_BASE);

    // The same cookie at the other instance (the instances share the session secret): the
    // session is found there, and a logout there ends it at the first one.
    let at_second = at_first.copy_to(&second);
    let home = at_second.get("/").await;
    assert!(home.body.contains("Signed in as <strong>carol</strong>"), "{}", home.body);
    let prompt = at_second.get("/account/logout").await;
    let token = prompt.csrf_token();
    at_second.post("/account/logout", &[("__csrf", &token)]).await;
    let after = at_first.get(&authorization_request(&client).url).await;
    assert!(after.redirect().starts_with("/account/login?"), "logged out at both instances: {after:#?}");
}

//! Server-side sessions through the real binary: a copied session cookie dies with the session
//! (and `prompt=none` then answers `login_required`), instances share sessions, users and
//! administrators end them, clients receive back-channel logout tokens, and the logged-out page
//! loads the front-channel logout URLs of the session's clients.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;
use tokio::sync::mpsc;

use openidconnect::TokenResponse as _;
use test_support::http::jwt_payload;

use crate::interactive::{
    Browser, CLIENT_BASE, QUICK, SESSION_COOKIE, authorization_request, authorize, code_from, exchange_code,
    interactive_config, relying_party, start,
};
use crate::support::{PASSWORD, Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::sessions,
    cases: [
        a_copied_session_cookie_is_dead_after_logout,
        administrators_list_and_end_sessions_from_the_command_line,
        two_instances_on_one_database_share_sessions,
        users_see_and_end_their_other_sessions,
        clients_receive_valid_back_channel_logout_tokens,
        the_logged_out_page_tells_front_channel_clients,
    ],
}

pub(crate) async fn a_copied_session_cookie_is_dead_after_logout(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    let tokens = exchange_code(&client, &server, &request, code).await;
    let id_token = tokens.id_token().expect("an id token").to_string();
    let sid = jwt_payload(&id_token)["sid"].as_str().expect("a sid").to_owned();
    let listed = env.cli(&["sessions", "list"]).ok();
    assert!(listed.starts_with(&format!("{sid} ")), "the id token's sid is the stored session's: {listed}");

    let thief = browser.copy();
    let request = authorization_request(&client);
    code_from(thief.get(&request.url).await.redirect(), &request, CLIENT_BASE);

    let prompt = browser.get("/account/logout").await;
    let token = prompt.csrf_token();
    browser.post("/account/logout", &[("__csrf", &token)]).await;
    assert!(!browser.has_cookie(SESSION_COOKIE), "the honest browser's cookie is deleted");
    let after = thief.get(&authorization_request(&client).url).await;
    assert!(after.redirect().starts_with("/account/login?"), "the copied cookie died with the session: {after:#?}");
    let silent = thief.get(&format!("{}&prompt=none", authorization_request(&client).url)).await;
    assert!(
        silent.redirect().starts_with(CLIENT_BASE) && silent.redirect().contains("error=login_required"),
        "prompt=none with an ended session: {silent:#?}"
    );
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

pub(crate) async fn users_see_and_end_their_other_sessions(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let (laptop, phone) = (Browser::new(&server), Browser::new(&server));
    for browser in [&laptop, &phone] {
        let request = authorization_request(&client);
        code_from(&authorize(browser, &request.url).await, &request, CLIENT_BASE);
    }
    let visitor = Browser::new(&server);
    let to_login = visitor.get("/account/manage/sessions").await;
    assert!(
        to_login.redirect().starts_with("/account/login?returnUrl=%2Faccount%2Fmanage%2Fsessions"),
        "{to_login:#?}"
    );

    let page = laptop.get("/account/manage/sessions").await;
    assert_eq!(page.status, 200, "{page:#?}");
    assert_eq!(page.body.matches("<li>").count(), 2, "{}", page.body);
    assert!(page.body.contains("<strong>This browser.</strong>"), "{}", page.body);
    assert!(page.body.contains("Applications: quick."), "{}", page.body);

    // The page ends only the user's own other sessions: an id that is not one of them ends nothing.
    let before = env.cli(&["sessions", "list"]).ok();
    let token = page.csrf_token();
    let phone_sid = env
        .cli(&["sessions", "list", "--user", "carol"])
        .ok()
        .lines()
        .map(|line| line.split_whitespace().next().expect("an id").to_owned())
        .find(|sid| page.body.contains(&format!("value=\"{sid}\"")))
        .expect("the other session is listed with an end button");
    let forged = laptop
        .post("/account/manage/sessions", &[("__csrf", &token), ("sid", "not-a-session"), ("button", "end")])
        .await;
    assert_eq!(forged.redirect(), "/account/manage/sessions");
    assert_eq!(env.cli(&["sessions", "list"]).ok(), before, "nothing ended");

    // Nor does another user's session id.
    env.create_user("dave", &[]);
    let daves = Browser::new(&server);
    daves.log_in("/account/login?returnUrl=%2F", "dave", PASSWORD).await;
    let dave_sid = env.cli(&["sessions", "list", "--user", "dave"]).ok();
    let dave_sid = dave_sid.split_whitespace().next().expect("dave's session");
    laptop.post("/account/manage/sessions", &[("__csrf", &token), ("sid", dave_sid), ("button", "end")]).await;
    assert!(daves.get("/").await.body.contains("Signed in as <strong>dave</strong>"), "dave's session stays");

    laptop.post("/account/manage/sessions", &[("__csrf", &token), ("sid", &phone_sid), ("button", "end")]).await;
    let phone_after = phone.get(&authorization_request(&client).url).await;
    assert!(phone_after.redirect().starts_with("/account/login?"), "the other session ended: {phone_after:#?}");
    let laptop_after = laptop.get(&authorization_request(&client).url).await;
    assert!(laptop_after.redirect().starts_with(CLIENT_BASE), "this browser stays signed in: {laptop_after:#?}");
}

/// A client's back-channel logout endpoint on an ephemeral port: every `logout_token` POSTed to
/// it arrives on the channel.
pub(crate) async fn logout_receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    let (sender, tokens) = mpsc::unbounded_channel();
    let receive = move |body: String| {
        let sender = sender.clone();
        async move {
            let token = form_urlencoded::parse(body.as_bytes()).find(|(name, _)| name == "logout_token");
            if let Some((_, token)) = token {
                let _ = sender.send(token.into_owned());
            }
            axum::http::StatusCode::OK
        }
    };
    let app = axum::Router::new().route("/backchannel-logout", axum::routing::post(receive));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}/backchannel-logout", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, tokens)
}

/// Waits for the next logout token (the server delivers every 2 seconds; 30 s is the bound) and
/// validates it as a client must (Back-Channel Logout 1.0 §2.6): signature through the server's
/// JWKS, `typ`, `iss`, `aud`, `iat`/`exp`, the event, `sid` and `sub`, and no `nonce`.
pub(crate) async fn valid_logout_token(
    server: &Server,
    tokens: &mut mpsc::UnboundedReceiver<String>,
    subject: &str,
) -> Value {
    let token = tokio::time::timeout(Duration::from_secs(30), tokens.recv())
        .await
        .unwrap_or_else(|_| panic!("no logout token within 30 s; the server's log:\n{}", server.log()))
        .expect("the receiver runs");
    let header = jsonwebtoken::decode_header(&token).expect("a JWT header");
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: JwkSet = serde_json::from_value(server.get("/.well-known/jwks", None).await.json()).expect("a JWKS");
    let jwk = jwks.find(header.kid.as_deref().expect("a kid")).expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a decoding key");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[QUICK.0]);
    validation.set_issuer(&[server.address.as_str()]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("a valid logout token").claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object(), "{claims}");
    assert_eq!(claims["sub"], subject, "{claims}");
    assert!(claims["sid"].as_str().is_some_and(|sid| !sid.is_empty()), "{claims}");
    assert!(claims["jti"].is_string() && claims.get("nonce").is_none(), "{claims}");
    claims
}

pub(crate) async fn clients_receive_valid_back_channel_logout_tokens(env: TestEnv) {
    let (receiver_url, mut tokens) = logout_receiver().await;
    let carol = env.create_user("carol", &["--claim", "name=Carol Jones"]);
    let config = interactive_config(CLIENT_BASE).replace(
        "client_id = \"quick\"\n",
        &format!("client_id = \"quick\"\nbackchannel_logout_uri = \"{receiver_url}\"\n"),
    );
    let config = env.write_file("backchannel.toml", &config);
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    assert_eq!(
        server.get("/.well-known/openid-configuration", None).await.json()["backchannel_logout_supported"],
        true
    );

    // The user logs out on the logout page: the client hears of it.
    let browser = Browser::new(&server);
    let request = authorization_request(&client);
    code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    let prompt = browser.get("/account/logout").await;
    let token = prompt.csrf_token();
    browser.post("/account/logout", &[("__csrf", &token)]).await;
    let first = valid_logout_token(&server, &mut tokens, &carol).await;

    // An administrator signs the user out from another process: the running server delivers.
    let request = authorization_request(&client);
    code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    env.cli(&["users", "sign-out", "carol"]).ok();
    let second = valid_logout_token(&server, &mut tokens, &carol).await;
    assert_ne!(first["sid"], second["sid"], "each session has its own id");
    assert_ne!(first["jti"], second["jti"]);
}

pub(crate) async fn the_logged_out_page_tells_front_channel_clients(env: TestEnv) {
    env.create_user("carol", &[]);
    let front_channel = format!("{CLIENT_BASE}/front-channel?tenant=1");
    let config = interactive_config(CLIENT_BASE).replace(
        "client_id = \"quick\"\n",
        &format!("client_id = \"quick\"\nfrontchannel_logout_uri = \"{front_channel}\"\n"),
    );
    let config = env.write_file("frontchannel.toml", &config);
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let discovery = server.get("/.well-known/openid-configuration", None).await.json();
    assert_eq!(
        (&discovery["frontchannel_logout_supported"], &discovery["frontchannel_logout_session_supported"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let browser = Browser::new(&server);
    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    let id_token = exchange_code(&client, &server, &request, code).await.id_token().expect("an id token").to_string();
    let sid = jwt_payload(&id_token)["sid"].as_str().expect("a sid").to_owned();

    let prompt = browser.get("/account/logout").await;
    let frames = |page: &crate::interactive::Page| {
        page.headers["content-security-policy"].to_str().expect("ascii").contains("frame-src")
    };
    assert!(!frames(&prompt), "no page but the logged-out one allows frames");
    let token = prompt.csrf_token();
    let logged_out = browser.post("/account/logout", &[("__csrf", &token)]).await;
    let page = browser.get(logged_out.redirect()).await;
    let iss = form_urlencoded::byte_serialize(server.address.as_bytes()).collect::<String>();
    let src = format!("src=\"{front_channel}&#38;iss={iss}&#38;sid={sid}\"");
    assert!(page.body.contains(&src), "{src} in {}", page.body);
    let policy = page.headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.ends_with(&format!("; frame-src {CLIENT_BASE}")), "exactly the client's origin: {policy}");
    assert!(!page.body.contains("http-equiv=\"refresh\""), "the user asked: no automatic redirect");
}

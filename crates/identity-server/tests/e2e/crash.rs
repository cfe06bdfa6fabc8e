//! SIGKILL in the middle of a stream of writes: registrations through the register page and
//! password changes through the manage page run back to back while the server is killed
//! (`kill -9`) at a different moment in each round; the next server on the same database must
//! hold every change it acknowledged (each registered user signs in with the password it chose;
//! carol signs in with the last password she was told was saved, or with the one whose change was
//! in flight), no partial user (every user has a password hash and a security stamp), and the
//! same signing keys, so that a token issued before the first kill is still accepted after the
//! last. dave's refresh token is rotated meanwhile: no family is ever left half-rotated (every
//! family keeps exactly one live token), and the last token handed out still works unless its
//! rotation's answer was lost in a kill. SQLite runs in WAL mode; both backends run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use test_support::http::{TestClient, form};

use crate::interactive::{CLIENT_BASE, Page, interactive_config};
use crate::support::{PASSWORD, PASSWORD_CLIENT, Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::crash,
    cases: [a_killed_server_keeps_every_acknowledged_change_and_no_partial_one],
}

/// How many times the server is killed.
const ROUNDS: u64 = 3;
/// carol's passwords, changed back and forth (the first is the one she was created with).
const CAROL_PASSWORDS: [&str; 2] = [PASSWORD, "Carol-pw-222"];
/// The issuer of every instance: the pages' forms come from its origin.
const ISSUER: &str = "http://identity.test";
/// The password every registered user chooses.
const NEW_USER_PASSWORD: &str = "Newbie-pw-123";

/// carol's password as far as the test knows it: the one the server last acknowledged, and the
/// one a change still in flight would set.
#[derive(Debug)]
struct CarolPassword {
    acknowledged: &'static str,
    in_flight: Option<&'static str>,
}

pub(crate) async fn a_killed_server_keeps_every_acknowledged_change_and_no_partial_one(env: TestEnv) {
    env.create_user("carol", &["--email", "carol@example.com", "--email-confirmed"]);
    // dave's token must outlive the kills: his security stamp, unlike carol's, never changes.
    env.create_user("dave", &["--email", "dave@example.com", "--email-confirmed"]);
    let config = format!(
        "{}\n[account]\nallow_registration = true\nrequire_confirmed_email = false\n\n[user]\nrequire_unique_email = true\n\n[throttling]\nemails_per_address = 100000\n",
        interactive_config(CLIENT_BASE)
    ) + &password_client();
    let config = env.write_file("crash.toml", &config);
    // One issuer for every instance, as behind one name, so that tokens outlive the instance.
    let arguments = ["--config", config.to_str().expect("UTF-8 path"), "--issuer", ISSUER];
    let first = env.serve(&arguments);
    let (early_token, refresh_token) = first.password_grant("dave", &["openid", "offline_access"]).await;
    let refresh_token = refresh_token.expect("offline_access gives a refresh token").secret().clone();
    let keys = first.get("/.well-known/jwks", None).await.ok_json();
    drop(first);

    let registered = Mutex::new(Vec::new());
    let carol = Mutex::new(CarolPassword { acknowledged: CAROL_PASSWORDS[0], in_flight: None });
    let dave = Mutex::new(DaveRefreshToken { acknowledged: refresh_token, lost_answer: false });
    for round in 0..ROUNDS {
        let server = env.serve(&arguments);
        let killed = AtomicBool::new(false);
        let kill = async {
            tokio::time::sleep(Duration::from_millis(400 + 250 * round)).await;
            let status = std::process::Command::new("kill").args(["-9", &server.id().to_string()]).status();
            assert!(status.expect("kill runs").success(), "the server was killed");
            killed.store(true, Ordering::Relaxed);
        };
        tokio::join!(
            kill,
            register_until_killed(&server, round, &killed, &registered),
            change_until_killed(&server, &killed, &carol),
            rotate_until_killed(&server, &killed, &dave)
        );
        drop(server);
    }

    let server = env.serve(&arguments);
    let registered = registered.into_inner().expect("the registrations");
    assert!(!registered.is_empty(), "some registration was acknowledged before a kill");
    for user_name in &registered {
        assert_eq!(server.raw_password_grant(user_name, NEW_USER_PASSWORD).await.status, 200, "{user_name} signs in");
    }
    let carol = carol.into_inner().expect("carol's password");
    let mut passwords = vec![carol.acknowledged];
    passwords.extend(carol.in_flight);
    let mut signed_in = false;
    for password in passwords {
        signed_in |= server.raw_password_grant("carol", password).await.status == 200;
    }
    assert!(signed_in, "carol signs in with {carol:?}");
    assert_eq!(count(env.database_url(), PARTIAL_USERS), 0, "no user without a password hash or security stamp");
    assert_eq!(count(env.database_url(), HALF_ROTATED_FAMILIES), 0, "every refresh family has one live token");
    let dave = dave.into_inner().expect("dave's refresh token");
    let refreshed = server.refresh(&oauth2::RefreshToken::new(dave.acknowledged.clone())).await;
    assert!(refreshed.status == 200 || dave.lost_answer, "the last acknowledged refresh token works: {refreshed:?}");
    assert_eq!(server.get("/.well-known/jwks", None).await.ok_json(), keys, "the same keys");
    let userinfo = server.get("/connect/userinfo", Some(&early_token)).await;
    assert_eq!(userinfo.status, 200, "an old token still verifies: {userinfo:?}\n{}", server.log());
}

/// dave's refresh token as far as the test knows it: the last one the server handed out, and
/// whether a rotation of it was under way when the server was killed (its answer lost, so the
/// token may be consumed and its successor unknown).
#[derive(Debug)]
struct DaveRefreshToken {
    acknowledged: String,
    lost_answer: bool,
}

/// The demo configuration's password client, so that users can be checked by a password grant.
fn password_client() -> String {
    let (id, secret) = PASSWORD_CLIENT;
    format!(
        "\n[[clients]]\nclient_id = \"{id}\"\nsecrets = [\"{secret}\"]\ngrant_types = [\"password\"]\n\
         scopes = [\"openid\", \"profile\", \"offline_access\"]\nrefresh_token_usage = \"one_time\"\n"
    )
}

/// Registers new users one after another until the server is gone; records each one whose
/// registration the server acknowledged (a redirect with the new session's cookie).
async fn register_until_killed(server: &Server, round: u64, killed: &AtomicBool, registered: &Mutex<Vec<String>>) {
    for index in 0.. {
        let browser = TestClient::with_cookies(server.address.clone());
        let user_name = format!("newbie-{round}-{index}");
        let Some(page) = get_text(&browser, "/account/register").await else { break };
        let token = csrf_token(&page);
        let fields = [
            ("__csrf", token.as_str()),
            ("username", user_name.as_str()),
            ("email", &format!("{user_name}@example.com")),
            ("password", NEW_USER_PASSWORD),
            ("confirmPassword", NEW_USER_PASSWORD),
        ];
        match post_status(&browser, "/account/register", &form(&fields)).await {
            Some((303, _)) => registered.lock().expect("the registrations").push(user_name),
            Some((status, errors)) => {
                assert!(killed.load(Ordering::Relaxed), "registration answered {status}: {errors}")
            }
            None => break,
        }
    }
}

/// Changes carol's password back and forth until the server is gone, keeping [`CarolPassword`]
/// true at every step.
async fn change_until_killed(server: &Server, killed: &AtomicBool, carol: &Mutex<CarolPassword>) {
    let browser = TestClient::with_cookies(server.address.clone());
    let current = carol.lock().expect("carol").acknowledged;
    let Some(login) = get_text(&browser, "/account/login").await else { return };
    let token = csrf_token(&login);
    let fields = [("__csrf", token.as_str()), ("username", "carol"), ("password", current), ("button", "login")];
    if !matches!(post_status(&browser, "/account/login", &form(&fields)).await, Some((300..=399, _))) {
        return;
    }
    loop {
        let current = carol.lock().expect("carol").acknowledged;
        let new = CAROL_PASSWORDS.into_iter().find(|password| *password != current).expect("another password");
        let Some(page) = get_text(&browser, "/account/manage/change-password").await else { return };
        let token = csrf_token(&page);
        let fields =
            [("__csrf", token.as_str()), ("currentPassword", current), ("newPassword", new), ("confirmPassword", new)];
        carol.lock().expect("carol").in_flight = Some(new);
        match post_status(&browser, "/account/manage/change-password", &form(&fields)).await {
            Some((303, _)) => *carol.lock().expect("carol") = CarolPassword { acknowledged: new, in_flight: None },
            Some((status, errors)) => {
                assert!(killed.load(Ordering::Relaxed), "the change answered {status}: {errors}");
                return;
            }
            None => return,
        }
    }
}

/// Rotates dave's refresh token until the server is gone, keeping [`DaveRefreshToken`] true; after
/// a lost answer, a refused token starts a new family with a password grant.
async fn rotate_until_killed(server: &Server, killed: &AtomicBool, dave: &Mutex<DaveRefreshToken>) {
    loop {
        let current = dave.lock().expect("dave").acknowledged.clone();
        let rotation = [("grant_type", "refresh_token"), ("refresh_token", current.as_str())];
        let Some((status, answer)) = token_request(server, &rotation).await else {
            dave.lock().expect("dave").lost_answer = true;
            return;
        };
        let lost_answer = dave.lock().expect("dave").lost_answer;
        let answer = match status {
            200 => answer,
            400 if lost_answer => {
                let password = [
                    ("grant_type", "password"),
                    ("username", "dave"),
                    ("password", PASSWORD),
                    ("scope", "openid offline_access"),
                ];
                match token_request(server, &password).await {
                    Some((200, answer)) => answer,
                    _ => return,
                }
            }
            _ => {
                assert!(killed.load(Ordering::Relaxed), "the rotation answered {status}: {answer}");
                return;
            }
        };
        let next = answer["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
        *dave.lock().expect("dave") = DaveRefreshToken { acknowledged: next, lost_answer: false };
    }
}

/// A token request of the password client: its status and JSON answer, or `None` once the server
/// is gone.
async fn token_request(server: &Server, pairs: &[(&str, &str)]) -> Option<(u16, serde_json::Value)> {
    let (id, secret) = PASSWORD_CLIENT;
    let request = server
        .http
        .post(server.url("/connect/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.text().await.ok()?;
    test_support::secrets::remember_response(&reqwest::header::HeaderMap::new(), &body);
    Some((status, serde_json::from_str(&body).unwrap_or_default()))
}

/// A page's text, or `None` once the server is gone.
async fn get_text(browser: &TestClient, path: &str) -> Option<String> {
    let response = browser.http().get(browser.url(path)).send().await.ok()?;
    if response.status() != 200 {
        return None;
    }
    response.text().await.ok()
}

/// The status of a form POST from the server's own page (with the page's error text when it
/// answers with the form again), or `None` once the server is gone.
async fn post_status(browser: &TestClient, path: &str, body: &str) -> Option<(u16, String)> {
    let request = browser
        .http()
        .post(browser.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ISSUER)
        .body(body.to_owned());
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    // The whole answer must arrive: a status line alone is not an acknowledgement.
    let page = response.text().await.ok()?;
    let errors = page.lines().filter(|line| line.contains("error")).collect::<Vec<_>>().join("\n");
    Some((status, errors))
}

/// The CSRF form token of a page's text.
fn csrf_token(body: &str) -> String {
    Page { status: 200, headers: reqwest::header::HeaderMap::new(), body: body.to_owned() }.csrf_token()
}

/// One count.
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// Users without a password hash or a security stamp: half-made.
const PARTIAL_USERS: &str =
    "SELECT COUNT(*) AS count FROM \"AspNetUsers\" WHERE \"PasswordHash\" IS NULL OR \"SecurityStamp\" IS NULL";

/// Refresh-token families without exactly one live (unconsumed) token: half-rotated. A family
/// revoked for a replay has no rows at all.
pub(crate) const HALF_ROTATED_FAMILIES: &str = "SELECT COUNT(*) AS count FROM (SELECT family_id FROM oidc_persisted_grants \
     WHERE grant_type = 'refresh_token' GROUP BY family_id \
     HAVING SUM(CASE WHEN consumed_time IS NULL THEN 1 ELSE 0 END) <> 1) AS families";

/// The count `query` reads, with Diesel, as another application sharing the database would.
pub(crate) fn count(database_url: &str, query: &str) -> i64 {
    let query = diesel::sql_query(query);
    let rows: Vec<Count> = match database_url.strip_prefix("sqlite://") {
        Some(path) => query.load(&mut diesel::SqliteConnection::establish(path).expect("SQLite opens")),
        None => query.load(&mut diesel::PgConnection::establish(database_url).expect("PostgreSQL connects")),
    }
    .expect("the count");
    rows.first().map_or(0, |row| row.count)
}

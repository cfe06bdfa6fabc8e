//! A read-only SQLite database (`chmod 0400 identity.db*`): the server still starts on it, every
//! request that must write fails at once with the answer its protocol defines (`503`
//! `temporarily_unavailable` and `Retry-After: 1` at the token endpoint, the "busy" page with 503
//! on the pages, never a 500), what only reads is served as before (discovery, JWKS, userinfo
//! with a token issued earlier, client credentials, the login page), readiness answers 503 with
//! `"database": "read_only"`, and once the files are writable again the server serves every
//! request by itself, without a restart. The refused requests leave nothing behind: no failed
//! sign-in counted, no refresh token consumed or half-rotated, no session.
//!
//! Root ignores file modes, so when the tests run as root (as CI does) the servers run as
//! `nobody`, which must exist (a missing one fails the test, never skips it), and the test
//! directory and the database files are given to `nobody`. The servers drop to `nobody` through
//! `Command::uid` and `gid` rather than `runuser`, which forks and waits: killing `runuser` would
//! leave the server running. As any other user the servers run as the test's own user, and the
//! modes alone make the files read-only.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::{Connection as _, RunQueryDsl as _};
use test_support::Backend;
use test_support::http::Response;

use crate::crash::{HALF_ROTATED_FAMILIES, count};
use crate::interactive::{Browser, Page};
use crate::support::{ALL_SCOPES, M2M_CLIENT, PASSWORD, PASSWORD_CLIENT, Server, TestEnv, field};

/// The issuer of both instances, as behind one name, so that a token outlives its instance; the
/// pages' forms come from its origin.
const ISSUER: &str = "http://identity.test";
/// The store-call bound the servers run with.
const OPERATION_TIMEOUT: (&str, &str) = ("IDENTITY_DATABASE__OPERATION_TIMEOUT", "1");
/// The longest the refused requests may take together: nothing waits for a read-only file, so
/// the bound with 10x slack is plenty.
const FAIL_FAST: Duration = Duration::from_secs(10);
/// How long the server may take to notice that the files are writable again.
const RECOVERY: Duration = Duration::from_secs(10);
/// SQLite's files: the database (`TestDatabase::sqlite` names it `identity.db`) and, in WAL mode,
/// its log and shared-memory index, which SQLite creates with the database's mode.
const DATABASE_FILES: [&str; 3] = ["identity.db", "identity.db-wal", "identity.db-shm"];

/// Refresh-token families: one per password grant with `offline_access`, whatever its rotations.
const FAMILIES: &str =
    "SELECT COUNT(DISTINCT family_id) AS count FROM oidc_persisted_grants WHERE grant_type = 'refresh_token'";
/// Browser sign-in sessions.
const SESSIONS: &str = "SELECT COUNT(*) AS count FROM oidc_server_sessions";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_database_refuses_writes_with_503_serves_reads_and_recovers_by_itself() {
    let owner = server_owner();
    let env = crate::support::env(Backend::Sqlite).await;
    let carol = env.create_user("carol", &[]);
    give_to(&env, owner);
    let arguments = ["--issuer", ISSUER];

    // A first run on the writable file creates the signing keys and hands out the tokens that
    // must outlive the read-only spell.
    let first = env.serve_as(owner, &arguments, &[OPERATION_TIMEOUT]);
    let (access_token, refresh_token) = first.password_grant("carol", ALL_SCOPES).await;
    let refresh_token = refresh_token.expect("offline_access gives a refresh token");
    drop(first);

    set_writable(&env, false);
    let server = env.serve_as(owner, &arguments, &[OPERATION_TIMEOUT]);

    // Every write is refused at once, as its protocol defines.
    let started = Instant::now();
    let offline =
        [("grant_type", "password"), ("username", "carol"), ("password", PASSWORD), ("scope", "openid offline_access")];
    let grant = server.post_form("/connect/token", PASSWORD_CLIENT, &offline).await;
    assert_unavailable(&grant, "a password grant, which reserves a sign-in and stores a refresh token");
    let plain = server.raw_password_grant("carol", PASSWORD).await;
    assert_unavailable(&plain, "a password grant without offline_access, which still reserves a sign-in");
    let wrong = server.raw_password_grant("carol", "Wrong123$").await;
    assert_unavailable(&wrong, "a wrong password, which counts toward lockout");
    assert_unavailable(&server.refresh(&refresh_token).await, "a refresh-token rotation");
    let browser = Browser::new(&server);
    let login = log_in(&browser).await;
    assert_eq!(login.status, 503, "the busy page: {login:#?}");
    assert!(login.body.contains("busy"), "{}", login.body);
    assert_eq!(login.headers.get("retry-after").and_then(|value| value.to_str().ok()), Some("1"));
    assert!(started.elapsed() < FAIL_FAST, "five refusals took {:?}", started.elapsed());

    // What only reads is served as before.
    let discovery = server.get("/.well-known/openid-configuration", None).await.ok_json();
    assert_eq!(discovery["issuer"], ISSUER);
    let keys = server.get("/.well-known/jwks", None).await.ok_json();
    assert!(keys["keys"].as_array().is_some_and(|keys| !keys.is_empty()), "{keys}");
    let userinfo = server.get("/connect/userinfo", Some(&access_token)).await;
    assert_eq!(userinfo.ok_json()["sub"], carol.as_str(), "a token of the first run still verifies");
    let machine = [("grant_type", "client_credentials"), ("scope", "scope1")];
    server.post_form("/connect/token", M2M_CLIENT, &machine).await.ok_json();
    assert_eq!(server.get("/account/login", None).await.status, 200, "the login page reads nothing");

    // Readiness tells that the instance cannot sign anyone in.
    let ready = server.get("/health/ready", None).await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    let expected = serde_json::json!({"status": "unavailable", "database": "read_only", "signing_key": "ok"});
    assert_eq!(ready.json(), expected);

    // Writable again: the same process serves every request.
    set_writable(&env, true);
    wait_until_ready(&server).await;
    server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    assert_eq!(field(&env.show_user("carol"), "access_failed_count"), "1", "the refused attempts counted nothing");
    server.refresh(&refresh_token).await.ok_json();
    let (_, second) = server.password_grant("carol", ALL_SCOPES).await;
    assert!(second.is_some(), "a refresh token is stored again");
    assert_eq!(log_in(&Browser::new(&server)).await.redirect(), "/", "the login page signs in again");
    assert_eq!(server.get("/connect/userinfo", Some(&access_token)).await.status, 200);
    drop(server);

    // Nothing half-written: only what the served requests wrote, and a sound file.
    let url = env.database_url();
    assert_eq!(count(url, FAMILIES), 2, "the first run's family and the new grant's, no other");
    assert_eq!(count(url, HALF_ROTATED_FAMILIES), 0, "every refresh family has one live token");
    assert_eq!(count(url, SESSIONS), 1, "the refused sign-in left no session");
    assert_eq!(integrity_check(&env), "ok");
}

/// Who the servers run as: `None` (the test's own user) unless the test runs as root, whom file
/// modes do not bind; then `nobody`'s uid and gid. Fails, never skips, when `nobody` is missing.
fn server_owner() -> Option<(u32, u32)> {
    if id(&["-u"]).unwrap_or_else(|reason| panic!("{reason}")) != 0 {
        return None;
    }
    let nobody = |args: &[&str]| {
        id(args).unwrap_or_else(|reason| {
            panic!("as root, whom file modes do not bind, the read-only test runs its servers as `nobody`: {reason}")
        })
    };
    Some((nobody(&["-u", "nobody"]), nobody(&["-g", "nobody"])))
}

/// The number `id ARGS` prints, or why there is none.
fn id(args: &[&str]) -> Result<u32, String> {
    let shown = format!("`id {}`", args.join(" "));
    let output = Command::new("id").args(args).output().map_err(|error| format!("{shown} cannot run: {error}"))?;
    if !output.status.success() {
        return Err(format!("{shown} failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().map_err(|_| format!("{shown} printed `{}`", text.trim()))
}

/// Gives the test directory and the database files to `owner` (when the servers run as another
/// user), after checking that it can reach the directory (the servers run from a copy of the
/// binary in it).
fn give_to(env: &TestEnv, owner: Option<(u32, u32)>) {
    let Some((uid, gid)) = owner else { return };
    for path in env.dir().ancestors().skip(1) {
        let mode = std::fs::metadata(path).map_or(0, |metadata| metadata.permissions().mode());
        assert!(
            mode & 0o001 != 0,
            "the read-only test runs its servers as `nobody`, who cannot pass {} (mode {:o}): keep TMPDIR where \
             every user may pass",
            path.display(),
            mode & 0o7777
        );
    }
    let paths = std::iter::once(env.dir().to_owned()).chain(database_files(env));
    for path in paths {
        std::os::unix::fs::chown(&path, Some(uid), Some(gid))
            .unwrap_or_else(|error| panic!("chown {}: {error}", path.display()));
    }
}

/// The database files that exist now.
fn database_files(env: &TestEnv) -> Vec<PathBuf> {
    DATABASE_FILES.iter().map(|name| env.dir().join(name)).filter(|path| path.exists()).collect()
}

/// Makes the database files read-only (0400) or writable again (0600), as an administrator would
/// with `chmod u-w identity.db*`: SQLite gives `-wal` and `-shm` the database's mode, so a database
/// is writable only when all three are. The directory stays writable.
fn set_writable(env: &TestEnv, writable: bool) {
    let mode = if writable { 0o600 } else { 0o400 };
    for path in database_files(env) {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|error| panic!("chmod {mode:o} {}: {error}", path.display()));
    }
}

/// carol signs in on the login page, the form sent from the issuer's origin.
async fn log_in(browser: &Browser<'_>) -> Page {
    let page = browser.get("/account/login").await;
    assert_eq!(page.status, 200, "{page:#?}");
    let token = page.csrf_token();
    let form = [
        ("__csrf", token.as_str()),
        ("returnUrl", ""),
        ("username", "carol"),
        ("password", PASSWORD),
        ("button", "login"),
    ];
    browser.post_from("/account/login", &form, &[("origin", ISSUER)]).await
}

/// Asserts `503 temporarily_unavailable` in RFC 6749's error shape, with `Retry-After: 1`.
fn assert_unavailable(response: &Response, request: &str) {
    assert_eq!(response.status, 503, "{request}: {}", response.body);
    response.assert_oauth_error(503, "temporarily_unavailable");
    assert_eq!(response.header("retry-after"), Some("1"), "{request}");
}

/// Polls readiness until the server reports the database writable again.
async fn wait_until_ready(server: &Server) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let ready = server.get("/health/ready", None).await;
        if ready.status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "not ready {RECOVERY:?} after the files became writable: {}", ready.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One row of `PRAGMA integrity_check`.
#[derive(diesel::QueryableByName)]
struct Integrity {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// What `PRAGMA integrity_check` says of the database file ("ok" when sound).
fn integrity_check(env: &TestEnv) -> String {
    let path = env.database_url().strip_prefix("sqlite://").expect("a SQLite URL");
    let mut connection = diesel::SqliteConnection::establish(path).expect("SQLite opens");
    let rows: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check").load(&mut connection).expect("checked");
    rows.into_iter().map(|row| row.integrity_check).collect::<Vec<_>>().join("\n")
}

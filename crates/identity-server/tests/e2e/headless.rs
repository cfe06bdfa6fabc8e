//! The interactive sign-in in a real browser: headless Chromium, driven through ChromeDriver
//! (W3C WebDriver, spoken by the small client below over plain HTTP), opens an authorization
//! request of a client whose redirect URI is a tiny HTTP listener of this test, gets the login
//! page of the real binary, fills it in and submits it, then the two-factor page with a code from
//! the user's authenticator key; the browser must arrive at the listener with a code and the
//! state, and the code must redeem. A second test signs in to two clients and logs out at one:
//! the other is told by the logged-out page's front-channel iframe, the first through the back
//! channel.
//!
//! Without `chromium` and `chromedriver` on the `PATH` (Debian's `chromium` and
//! `chromium-driver` packages) the test is skipped with a loud message, except under `CI=true`,
//! where it fails.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openidconnect::TokenResponse as _;
use serde_json::{Value, json};

use test_support::Backend;

use crate::interactive::{QUICK, authorization_request, code_from, exchange_code, interactive_config, relying_party};
use crate::sessions::{logout_receiver, valid_logout_token};
use crate::support::field;
use crate::two_factor::{current_code, enroll_sql};
use test_support::http::jwt_payload;

/// How long the browser may take for one step.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The W3C WebDriver key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `name` on the `PATH`, if it is there.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|directory| directory.join(name)).find(|candidate| candidate.is_file())
}

/// ChromeDriver in a process group of its own, with the browser it starts: the whole group is
/// ended when dropped, so no browser outlives a failed test.
struct Driver(Child);

impl Driver {
    fn start(chromedriver: PathBuf, port: u16) -> Self {
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Self(child)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 (free when this returns; good enough for a child to bind next).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

/// The client application's redirect target: answers every request with a small page and
/// reports each request target (`/callback?code=…`).
fn callback_listener() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // The rest of the request head, up to the blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let body = "<!DOCTYPE html><title>client</title><p>signed in</p>";
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = (&stream).write_all(response.as_bytes());
            if let Some(target) = request_line.split(' ').nth(1) {
                let _ = sender.send(target.to_owned());
            }
        }
    });
    (base, receiver)
}

/// A WebDriver session on a running ChromeDriver.
struct Session {
    http: reqwest::Client,
    url: String,
}

impl Session {
    async fn call(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
        let mut request = http.request(method, url).timeout(STEP_TIMEOUT);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap_or_else(|error| panic!("WebDriver {url}: {error}"));
        let status = response.status();
        let text = response.text().await.expect("a WebDriver answer");
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("WebDriver {url}: {text}"));
        assert!(status.is_success(), "WebDriver {url} answered {status}: {answer}");
        answer["value"].clone()
    }

    /// Waits for ChromeDriver at `driver` and starts headless Chromium `binary`.
    async fn start(driver: &str, binary: &str, profile: &str) -> Self {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let status = http.get(format!("{driver}/status")).send().await;
            if status.is_ok_and(|response| response.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "ChromeDriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let arguments = [
            "--headless=new",
            "--window-size=900,720",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={profile}"),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": arguments},
        }}});
        let session = Self::call(&http, reqwest::Method::POST, &format!("{driver}/session"), Some(capabilities)).await;
        let id = session["sessionId"].as_str().unwrap_or_else(|| panic!("no session id in {session}"));
        Self { url: format!("{driver}/session/{id}"), http }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        Self::call(&self.http, reqwest::Method::POST, &format!("{}{path}", self.url), Some(body)).await
    }

    async fn navigate(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn get(&self, path: &str) -> String {
        let value = Self::call(&self.http, reqwest::Method::GET, &format!("{}{path}", self.url), None).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    async fn current_url(&self) -> String {
        self.get("/url").await
    }

    /// The element that `selector` (CSS) finds, its WebDriver path.
    async fn element(&self, selector: &str) -> String {
        let element = self.post("/element", json!({"using": "css selector", "value": selector})).await;
        let id = element[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element {selector}: {element}"));
        format!("/element/{id}")
    }

    async fn type_into(&self, selector: &str, text: &str) {
        let element = self.element(selector).await;
        self.post(&format!("{element}/clear"), json!({})).await;
        self.post(&format!("{element}/value"), json!({ "text": text })).await;
    }

    async fn click(&self, selector: &str) {
        let element = self.element(selector).await;
        self.post(&format!("{element}/click"), json!({})).await;
    }

    /// Saves a PNG of the window as `name` in `IDENTITY_TEST_SCREENSHOTS`, when that is set
    /// (how `docs/images` is made: see `docs/account.md`).
    async fn screenshot(&self, name: &str) {
        let Some(directory) = std::env::var_os("IDENTITY_TEST_SCREENSHOTS") else { return };
        use base64::Engine as _;
        let image = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD.decode(image).expect("a base64 PNG");
        std::fs::write(PathBuf::from(directory).join(name), png).expect("the screenshot is written");
    }

    /// Waits until the browser is at a URL starting with `prefix`.
    async fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let url = self.current_url().await;
            if url.starts_with(prefix) {
                return url;
            }
            assert!(Instant::now() < deadline, "the browser did not reach {prefix}; it is at {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn end(self) {
        Self::call(&self.http, reqwest::Method::DELETE, &self.url, None).await;
    }
}

/// ChromeDriver and a headless Chromium session under it, with its profile directory; `None`
/// (after a loud message) when either program is missing, which fails under `CI=true`.
async fn headless_chromium() -> Option<(Driver, Session, tempfile::TempDir)> {
    let (Some(chromium), Some(chromedriver)) = (program("chromium"), program("chromedriver")) else {
        let message = "chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}: the browser test cannot run under CI=true");
        eprintln!("\n!!! SKIPPED the headless-browser test: {message} !!!\n");
        return None;
    };
    let port = free_port();
    let driver = Driver::start(chromedriver, port);
    let profile = tempfile::tempdir().expect("a profile directory");
    let browser = Session::start(
        &format!("http://127.0.0.1:{port}"),
        chromium.to_str().expect("UTF-8 path"),
        profile.path().to_str().expect("UTF-8 path"),
    )
    .await;
    Some((driver, browser, profile))
}

/// Signs alice in on the login page the browser is at.
async fn log_in_as_alice(browser: &Session) {
    browser.type_into("#username", "alice").await;
    browser.type_into("#password", "Pass123$").await;
    browser.click("button[value=login]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_browser_signs_in_through_the_login_and_two_factor_pages() {
    let Some((driver, browser, _profile)) = headless_chromium().await else { return };
    let (base, callbacks) = callback_listener();
    let env = crate::support::env(Backend::Sqlite).await;
    env.cli(&["seed"]).ok();
    let alice = field(&env.show_user("alice"), "id").to_owned();
    env.execute_sql(&enroll_sql(&alice));
    let config = env.write_file("browser.toml", &interactive_config(&base));
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let client = relying_party(&server, QUICK, &base).await;
    let request = authorization_request(&client);

    browser.navigate(&request.url).await;
    let login = browser.current_url().await;
    assert!(login.starts_with(&server.url("/account/login?returnUrl=")), "the login page: {login}");
    browser.screenshot("login.png").await;
    log_in_as_alice(&browser).await;
    browser.wait_for_url(&server.url("/account/login/two-factor?returnUrl=")).await;
    browser.screenshot("two-factor.png").await;
    browser.type_into("#code", &current_code()).await;
    browser.click("button[value=verify]").await;

    let Ok(target) = callbacks.recv_timeout(STEP_TIMEOUT) else {
        let (url, source) = (browser.current_url().await, browser.get("/source").await);
        panic!("the browser did not reach the client's redirect URI; it is at {url}:\n{source}\n{}", server.log());
    };
    let code = code_from(&format!("{base}{target}"), &request, &base);
    let arrived = browser.current_url().await;
    assert!(arrived.starts_with(&format!("{base}/callback?code=")), "the browser is at the client: {arrived}");
    browser.end().await;
    drop(driver);

    let tokens = exchange_code(&client, &server, &request, code).await;
    let id_token = tokens.id_token().expect("an id token");
    let claims = id_token.claims(&client.id_token_verifier(), &request.nonce).expect("a valid id token");
    assert!(claims.auth_time().is_some(), "an interactive sign-in has an auth_time");
    let amr: Vec<String> = claims.auth_method_refs().expect("amr").iter().map(|method| method.to_string()).collect();
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
}

/// The client told of logouts through the browser, next to the interactive configuration's.
const FRONT: (&str, &str) = ("front", "front-secret-for-the-e2e-tests");

/// The next request the client's listener receives whose target starts with `prefix` (the
/// browser's other requests, such as for a favicon, are passed over).
fn next_request(requests: &mpsc::Receiver<String>, prefix: &str, server: &crate::support::Server) -> String {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match requests.recv_timeout(left) {
            Ok(target) if target.starts_with(prefix) => return target,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("the client never received {prefix}; the server's log:\n{}", server.log())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_browser_logs_out_of_two_clients_through_both_channels() {
    let Some((driver, browser, _profile)) = headless_chromium().await else { return };
    let (base, requests) = callback_listener();
    let (receiver_url, mut logout_tokens) = logout_receiver().await;
    let env = crate::support::env(Backend::Sqlite).await;
    env.cli(&["seed"]).ok();
    let alice = field(&env.show_user("alice"), "id").to_owned();
    let front = format!(
        "\n[[clients]]\nclient_id = \"{}\"\nsecrets = [\"{}\"]\ngrant_types = [\"authorization_code\"]\n\
         redirect_uris = [\"{base}/callback\"]\nscopes = [\"openid\", \"profile\", \"scope2\", \"offline_access\"]\n\
         frontchannel_logout_uri = \"{base}/front-channel-logout\"\n",
        FRONT.0, FRONT.1
    );
    let config = interactive_config(&base).replace(
        "client_id = \"quick\"\n",
        &format!("client_id = \"quick\"\nbackchannel_logout_uri = \"{receiver_url}\"\n"),
    );
    let config = env.write_file("two-clients.toml", &format!("{config}{front}"));
    let server = env.serve(&["--config", config.to_str().expect("UTF-8 path")]);
    let (quick, front) = (relying_party(&server, QUICK, &base).await, relying_party(&server, FRONT, &base).await);

    // Signed in to the back-channel client, then (with the same session) to the front-channel one.
    let request = authorization_request(&quick);
    browser.navigate(&request.url).await;
    log_in_as_alice(&browser).await;
    let code = code_from(&format!("{base}{}", next_request(&requests, "/callback?", &server)), &request, &base);
    let tokens = exchange_code(&quick, &server, &request, code).await;
    let id_token = tokens.id_token().expect("an id token").to_string();
    let sid = jwt_payload(&id_token)["sid"].as_str().expect("a sid").to_owned();
    let front_request = authorization_request(&front);
    browser.navigate(&front_request.url).await;
    code_from(&format!("{base}{}", next_request(&requests, "/callback?", &server)), &front_request, &base);

    // The back-channel client logs the user out; the logged-out page tells the other one.
    let end_session = test_support::http::form(&[
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", &format!("{base}/signed-out")),
        ("state", "bye"),
    ]);
    browser.navigate(&server.url(&format!("/connect/endsession?{end_session}"))).await;
    let iframe = next_request(&requests, "/front-channel-logout?", &server);
    let expected = test_support::http::form(&[("iss", server.address.as_str()), ("sid", sid.as_str())]);
    assert_eq!(iframe, format!("/front-channel-logout?{expected}"), "iss and sid, as the client requires");
    assert_eq!(next_request(&requests, "/signed-out", &server), "/signed-out?state=bye", "then on to the client");
    let claims = valid_logout_token(&server, &mut logout_tokens, &alice).await;
    assert_eq!(claims["sid"], sid, "the same session, through the back channel");
    browser.end().await;
    drop(driver);
}

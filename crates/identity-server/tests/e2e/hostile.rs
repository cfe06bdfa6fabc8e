//! Hostile input against every endpoint and page of the real binary, on every backend: one table
//! of raw HTTP requests ([`table`]) with oversized and truncated bodies, repeated and missing
//! parameters, invalid UTF-8, NUL and control characters, 10,000-character values, SQL
//! metacharacters, malformed `Authorization` and `Cookie` headers, forged, expired, re-audienced,
//! re-issued and `alg: none` JWTs, PKCE downgrades, redirect-URI variants and open-redirect
//! attempts. Each request goes on its own connection exactly as written (no client library
//! normalises it), and each must get the answer of its RFC (or of the page's documented
//! behaviour), never a 5xx, a panic, internals in the body, a foreign `Location`, unescaped
//! markup or a CORS grant; the server logs no error and no panic meanwhile.
//!
//! Every table of the database is read before and after (each row as one line of text, with
//! Diesel, as another application sharing the database would): the refused requests of the table
//! change no row at all. The refusals that exist to write ([`refusals_make_only_the_write_they_exist_for`])
//! make exactly that write and no other: a replayed code or refresh token revokes its family, a
//! code redeemed wrongly is used up, a wrong password is counted on its user's row.

mod database;
mod table;

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::TokenResponse as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use test_support::http::{form, query_param};

use self::database::{Db, changes};
use crate::interactive::{
    Browser, CLIENT_BASE, INVALID_CREDENTIALS, QUICK, WEB, authorization_request, authorize, code_from, exchange_code,
    interactive_config, relying_party,
};
use crate::support::{M2M_CLIENT, PASSWORD, PASSWORD_CLIENT, Server, TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::hostile,
    cases: [hostile_requests_get_their_rfc_answer_and_change_no_row, refusals_make_only_the_write_they_exist_for],
}

/// The token endpoint.
const TOKEN: &str = "/connect/token";
/// A public client (no secret) of the code flow, redirecting to `CLIENT_BASE/spa`.
const PUBLIC_CLIENT: &str = "spa";
/// The request timeout the server runs with, in seconds: a body shorter than its
/// `Content-Length` is answered 408 after it.
const REQUEST_TIMEOUT: &str = "5";
/// How long a probe waits for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// What an answer must never show: panics, database and source internals, unescaped markup.
const LEAKS: &[&str] =
    &["panicked", "stack backtrace", "diesel", "sqlx", "SQLITE", "syntax error", "src/", ".rs:", "<script"];
/// Links and refreshes that would send the browser to the attacker's site.
const FOREIGN_LINKS: &[&str] = &[
    "href=\"https://evil",
    "href=\"//evil",
    "href=\"javascript:",
    "action=\"https://evil",
    "src=\"https://evil",
    "url=https://evil",
];

/// The interactive clients, the password and machine clients of the demo configuration, a
/// public client, open registration (so its form is probed too) and room for many e-mail forms.
fn config() -> String {
    let (password_id, password_secret) = PASSWORD_CLIENT;
    let (m2m_id, m2m_secret) = M2M_CLIENT;
    format!(
        "{}\n[[api_scopes]]\nname = \"scope1\"\n\n\
         [[clients]]\nclient_id = \"{password_id}\"\nsecrets = [\"{password_secret}\"]\n\
         grant_types = [\"password\", \"refresh_token\"]\nscopes = [\"openid\", \"profile\", \"offline_access\"]\n\n\
         [[clients]]\nclient_id = \"{m2m_id}\"\nsecrets = [\"{m2m_secret}\"]\n\
         grant_types = [\"client_credentials\"]\nscopes = [\"scope1\"]\n\n\
         [[clients]]\nclient_id = \"{PUBLIC_CLIENT}\"\nrequire_client_secret = false\n\
         grant_types = [\"authorization_code\"]\nredirect_uris = [\"{CLIENT_BASE}/spa\"]\nscopes = [\"openid\"]\n\n\
         [account]\nallow_registration = true\nrequire_confirmed_email = false\n\n\
         [user]\nrequire_unique_email = true\n\n[throttling]\nemails_per_address = 1000\n",
        interactive_config(CLIENT_BASE)
    )
}

/// A server on [`config`] with the user carol; returns carol's id and the server.
fn start(env: &TestEnv) -> (String, Server) {
    let carol = env.create_user("carol", &["--email", "carol@example.com", "--email-confirmed"]);
    let path = env.write_file("hostile.toml", &config());
    let timeout = [("IDENTITY_LIMITS__REQUEST_TIMEOUT", REQUEST_TIMEOUT)];
    (carol, env.serve_with_env(&["--config", path.to_str().expect("UTF-8 path")], &timeout))
}

/// The answer a probe must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// An RFC 6749 §5.2 JSON error with this status and `error`, not cacheable; a 401 names its
    /// scheme in `WWW-Authenticate`.
    OAuth(u16, &'static str),
    /// An RFC 6750 §3 `Bearer` challenge with this status and `error` (none: a bare challenge).
    Bearer(u16, Option<&'static str>),
    /// RFC 7662 §2.2: `{"active": false}` and nothing else.
    Inactive,
    /// This status.
    Status(u16),
    /// RFC 6749 §4.1.2.1: the authorize (or end-session) endpoint's own 400 page naming `error`,
    /// never a redirect, as the client or redirect URI is not to be trusted.
    ErrorPage(&'static str),
    /// RFC 6749 §4.1.2.1: a redirect to the client's registered redirect URI with `error`.
    ErrorRedirect(&'static str),
    /// A redirect (302 or 303) to a local URL starting with this.
    Redirect(&'static str),
    /// A redirect (302 or 303) to exactly this local URL.
    RedirectTo(&'static str),
    /// A page with this status that contains this text, not a redirect.
    Page(u16, &'static str),
    /// RFC 9110 §15.5.14: 413, or the connection closed without reading the rest.
    TooLarge,
    /// Any 4xx.
    ClientError,
}

impl Expect {
    /// Why `answer` is not this answer, if it is not.
    fn unmet(self, answer: &Answer) -> Option<String> {
        let json = || serde_json::from_str::<Value>(&answer.body).unwrap_or(Value::Null);
        let location = answer.header("location");
        let redirected = [302, 303].contains(&answer.status);
        let met = match self {
            Self::OAuth(status, error) => {
                answer.status == status
                    && json()["error"] == error
                    && answer.header("cache-control").is_some_and(|value| value.contains("no-store"))
                    && (status != 401 || answer.header("www-authenticate").is_some())
            }
            Self::Bearer(status, error) => {
                let challenge = answer.header("www-authenticate").unwrap_or_default();
                answer.status == status
                    && challenge.starts_with("Bearer")
                    && match error {
                        Some(error) => challenge.contains(&format!("error=\"{error}\"")),
                        None => !challenge.contains("error="),
                    }
            }
            Self::Inactive => answer.status == 200 && json() == serde_json::json!({"active": false}),
            Self::Status(status) => answer.status == status,
            Self::ErrorPage(error) => {
                answer.status == 400 && location.is_none() && answer.body.starts_with(&format!("{error}:"))
            }
            Self::ErrorRedirect(error) => {
                redirected
                    && location.is_some_and(|location| {
                        location.starts_with(&format!("{CLIENT_BASE}/"))
                            && query_param(location, "error").as_deref() == Some(error)
                    })
            }
            Self::Redirect(prefix) => redirected && location.is_some_and(|location| location.starts_with(prefix)),
            Self::RedirectTo(target) => redirected && location == Some(target),
            Self::Page(status, text) => answer.status == status && location.is_none() && answer.body.contains(text),
            Self::TooLarge => answer.status == 413,
            Self::ClientError => (400..500).contains(&answer.status),
        };
        (!met).then(|| {
            format!("expected {self:?}, got {} (location {location:?}): {}", answer.status, shorten(&answer.body, 300))
        })
    }
}

/// One hostile request, exactly as it goes on the wire, and the answer it must get.
#[derive(Debug)]
struct Probe {
    /// What it tries, for the list of failures.
    name: String,
    /// The request method.
    method: &'static str,
    /// The request target as sent: no normalisation, so `..` and bad escapes arrive as written.
    target: String,
    /// Header names and raw values (invalid UTF-8 included), in order, repeats kept.
    headers: Vec<(&'static str, Vec<u8>)>,
    /// The raw body, if any; `Content-Length` is added unless a header frames the body.
    body: Option<Vec<u8>>,
    /// The answer it must get.
    expect: Expect,
}

impl Probe {
    /// A GET of `target`.
    fn get(name: impl Into<String>, target: impl Into<String>, expect: Expect) -> Self {
        Self { name: name.into(), method: "GET", target: target.into(), headers: Vec::new(), body: None, expect }
    }

    /// A POST of `body` to `target` as `application/x-www-form-urlencoded`.
    fn post(name: impl Into<String>, target: impl Into<String>, body: impl Into<Vec<u8>>, expect: Expect) -> Self {
        let probe = Self { method: "POST", body: Some(body.into()), ..Self::get(name, target, expect) };
        probe.header("content-type", "application/x-www-form-urlencoded")
    }

    /// The probe with another method.
    fn method(self, method: &'static str) -> Self {
        Self { method, ..self }
    }

    /// The probe with one more header (a repeated name adds a second header).
    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The probe without the headers named `name`.
    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(header, _)| !header.eq_ignore_ascii_case(name));
        self
    }

    /// The probe with HTTP Basic client authentication (RFC 6749 §2.3.1).
    fn basic(self, (id, secret): (&str, &str)) -> Self {
        self.header("authorization", format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))))
    }

    /// The probe with a bearer token.
    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// The request's bytes for the server at `host`, on a connection it closes after answering.
    fn wire(&self, host: &str) -> Vec<u8> {
        let mut request =
            format!("{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", self.method, self.target).into_bytes();
        for (name, value) in &self.headers {
            request.extend_from_slice(format!("{name}: ").as_bytes());
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        let framed = self.headers.iter().any(|(name, _)| {
            name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
        });
        if let (Some(body), false) = (&self.body, framed) {
            request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(self.body.as_deref().unwrap_or_default());
        request
    }
}

/// An answer as read from the connection; status 0 when none came.
#[derive(Debug, Default)]
struct Answer {
    /// The status code.
    status: u16,
    /// Header names in lower case, and values.
    headers: Vec<(String, String)>,
    /// The body (de-chunked), as text.
    body: String,
}

impl Answer {
    /// The first value of header `name` (lower case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(header, _)| header == name).map(|(_, value)| value.as_str())
    }
}

/// Sends `probe` to the server at `host` on a new connection; its answer.
async fn send(host: &str, probe: &Probe) -> Answer {
    let (host, request) = (host.to_owned(), probe.wire(host));
    tokio::task::spawn_blocking(move || exchange(&host, request)).await.expect("the probe's thread ends")
}

/// Writes `request` while reading the answer until the server closes the connection.
fn exchange(host: &str, request: Vec<u8>) -> Answer {
    let mut stream = TcpStream::connect(host).unwrap_or_else(|error| panic!("cannot connect to {host}: {error}"));
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).expect("a read timeout");
    stream.set_write_timeout(Some(ANSWER_TIMEOUT)).expect("a write timeout");
    let mut writer = stream.try_clone().expect("a second handle on the connection");
    // On its own thread: the server may answer, and stop reading, before the body is all sent.
    let writing = std::thread::spawn(move || writer.write_all(&request));
    let mut received = Vec::new();
    // Ends at the server's close, a reset or the timeout; whatever arrived is kept either way.
    let _ = stream.read_to_end(&mut received);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = writing.join();
    parse(&received)
}

/// The answer in `raw` (status 0 when there is no complete head).
fn parse(raw: &[u8]) -> Answer {
    let Some(end) = raw.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Answer::default();
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked { dechunk(&raw[end + 4..]) } else { raw[end + 4..].to_vec() };
    Answer { status: status.unwrap_or(0), headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The content of a chunked body, as far as it is well formed.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..line_end]);
        let Ok(size) = usize::from_str_radix(size.split(';').next().unwrap_or_default().trim(), 16) else { break };
        let start = line_end + 2;
        if size == 0 || rest.len() < start + size {
            break;
        }
        body.extend_from_slice(&rest[start..start + size]);
        rest = rest.get(start + size + 2..).unwrap_or_default();
    }
    body
}

/// `body` as the chunks of a chunked request body: the whole, then the last chunk.
fn chunked(body: &str) -> Vec<u8> {
    format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).into_bytes()
}

/// At most `limit` characters of `text`, for messages.
fn shorten(text: &str, limit: usize) -> String {
    let mut short: String = text.chars().take(limit).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Whether a `Location` stays on the server at `address`: a path (not `//…` or `/\…`) or a URL
/// of the server.
fn is_local(location: &str, address: &str) -> bool {
    (location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'))
        || location.starts_with(&format!("{address}/"))
}

/// What is wrong with `answer` to `probe` from the server at `address`.
fn problems(probe: &Probe, answer: &Answer, address: &str) -> Vec<String> {
    if answer.status == 0 {
        let closed = matches!(probe.expect, Expect::TooLarge);
        return if closed { Vec::new() } else { vec!["no answer: the connection closed".to_owned()] };
    }
    let mut problems = Vec::new();
    if answer.status >= 500 {
        problems.push(format!("a server error: {} {}", answer.status, shorten(&answer.body, 300)));
    }
    for marker in LEAKS.iter().chain(FOREIGN_LINKS).filter(|marker| answer.body.contains(**marker)) {
        problems.push(format!("the body shows `{marker}`: {}", shorten(&answer.body, 300)));
    }
    if let Some(origin) = answer.header("access-control-allow-origin") {
        problems.push(format!("a CORS grant to {origin}"));
    }
    if let Some(location) = answer.header("location") {
        let to_client = matches!(probe.expect, Expect::ErrorRedirect(_)) && location.starts_with(CLIENT_BASE);
        if !to_client && !is_local(location, address) {
            problems.push(format!("a redirect off the server: {location}"));
        }
    }
    problems.extend(probe.expect.unmet(answer));
    problems
}

/// Sends every probe in turn; the failures, each naming its probe.
async fn run_all(server: &Server, probes: &[Probe]) -> Vec<String> {
    let host = server.address.trim_start_matches("http://");
    let mut failures = Vec::new();
    for probe in probes {
        let answer = send(host, probe).await;
        let found = problems(probe, &answer, &server.address);
        failures.extend(found.into_iter().map(|problem| format!("{}: {problem}", probe.name)));
    }
    failures
}

/// The storage key of a handle as the token server derives it: base64url(SHA-256(handle ":" type)).
fn grant_key(handle: &str, grant_type: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(handle.as_bytes());
    hasher.update(b":");
    hasher.update(grant_type.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// The string member `name` of a successful token response of `client` for `pairs`.
async fn token(server: &Server, client: (&str, &str), pairs: &[(&str, &str)], name: &str) -> String {
    let response = server.post_form(TOKEN, client, pairs).await.ok_json();
    response[name].as_str().unwrap_or_else(|| panic!("no {name} in {response}")).to_owned()
}

/// A CSRF cookie (`name=value`) and the form token that goes with it, as the login page gives them.
async fn csrf(server: &Server) -> (String, String) {
    let page = Browser::new(server).get("/account/login").await;
    let cookie = page.set_cookie("idsrv.csrf").and_then(|cookie| cookie.split(';').next()).expect("a CSRF cookie");
    (cookie.to_owned(), page.csrf_token())
}

/// What the probes forge from: real tokens, and a CSRF cookie with its token, so that a form is
/// refused for what it carries and not for lacking one.
#[derive(Debug)]
struct Fixtures {
    /// carol's user id.
    carol: String,
    /// carol's access token of the password client, with `openid`.
    access_token: String,
    /// The machine client's access token: no user, no `openid`.
    client_token: String,
    /// carol's refresh token of the password client.
    refresh_token: String,
    /// carol's id token for [`QUICK`].
    id_token: String,
    /// The CSRF cookie, `name=value`.
    csrf_cookie: String,
    /// The form token that goes with it.
    csrf_token: String,
}

impl Fixtures {
    /// Signs carol in every way the probes forge from.
    async fn gather(server: &Server, carol: String) -> Self {
        let password =
            |scope| [("grant_type", "password"), ("username", "carol"), ("password", PASSWORD), ("scope", scope)];
        let access_token = token(server, PASSWORD_CLIENT, &password("openid"), "access_token").await;
        let refresh_token = token(server, PASSWORD_CLIENT, &password("openid offline_access"), "refresh_token").await;
        let machine = [("grant_type", "client_credentials"), ("scope", "scope1")];
        let client_token = token(server, M2M_CLIENT, &machine, "access_token").await;
        let browser = Browser::new(server);
        let quick = relying_party(server, QUICK, CLIENT_BASE).await;
        let request = authorization_request(&quick);
        let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
        let id_token = exchange_code(&quick, server, &request, code).await.id_token().expect("an id token").to_string();
        let (csrf_cookie, csrf_token) = csrf(server).await;
        Self { carol, access_token, client_token, refresh_token, id_token, csrf_cookie, csrf_token }
    }
}

/// Asserts that there are no `failures`, listing them all.
fn assert_none(failures: &[String], probes: usize) {
    assert!(failures.is_empty(), "{} failures over {probes} probes:\n{}", failures.len(), failures.join("\n"));
}

/// Every probe of the table gets its answer, the log shows no error or panic, and no row of any
/// table changed.
pub(crate) async fn hostile_requests_get_their_rfc_answer_and_change_no_row(env: TestEnv) {
    let (carol, server) = start(&env);
    let fixtures = Fixtures::gather(&server, carol).await;
    let probes = table::probes(&fixtures);
    let mut db = Db::open(env.database_url());
    let log_start = server.log().len();
    let before = db.snapshot();
    let mut failures = run_all(&server, &probes).await;
    let after = db.snapshot();
    let written = changes(&before, &after, |_, _| false);
    failures.extend(written.into_iter().map(|change| format!("a refused request wrote {change}")));
    let log = server.log();
    let logged = log.get(log_start..).unwrap_or_default().lines();
    // A line at level ERROR (`TIMESTAMP ERROR target: …`), forged or not, or a panic.
    let alarming = logged.filter(|line| line.contains("panicked") || line.split_whitespace().nth(1) == Some("ERROR"));
    failures.extend(alarming.map(|line| format!("the server logged: {line}")));
    assert_none(&failures, probes.len());
}

/// A redemption of `code` by `client` at `redirect_uri`, with `verifier` when given, that must be
/// refused with `invalid_grant`.
fn redemption(name: &str, client: (&str, &str), code: &str, redirect_uri: &str, verifier: Option<&str>) -> Probe {
    let mut pairs = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
    pairs.extend(verifier.map(|verifier| ("code_verifier", verifier)));
    Probe::post(name, TOKEN, form(&pairs), Expect::OAuth(400, "invalid_grant")).basic(client)
}

/// The refusals that exist to write make exactly that write: a PKCE downgrade uses the code up
/// and its replay revokes the code's family; a code redeemed at another redirect URI or by another
/// client is used up; a replayed refresh token revokes its family (the rotated token with it); a
/// wrong password, at the token endpoint and on the login page, is counted on the user's row.
/// Nothing else changes.
pub(crate) async fn refusals_make_only_the_write_they_exist_for(env: TestEnv) {
    let (carol, server) = start(&env);
    let browser = Browser::new(&server);
    let quick = relying_party(&server, QUICK, CLIENT_BASE).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let request = authorization_request(&quick);
        let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
        codes.push((code, request.verifier.secret().clone()));
    }
    let carol_with =
        |password, scope| [("grant_type", "password"), ("username", "carol"), ("password", password), ("scope", scope)];
    let offline = carol_with(PASSWORD, "openid offline_access");
    let replayed = token(&server, PASSWORD_CLIENT, &offline, "refresh_token").await;
    let rotation = [("grant_type", "refresh_token"), ("refresh_token", replayed.as_str())];
    let rotated = token(&server, PASSWORD_CLIENT, &rotation, "refresh_token").await;
    let (csrf_cookie, csrf_token) = csrf(&server).await;

    let mut db = Db::open(env.database_url());
    let code_keys: Vec<String> = codes.iter().map(|(code, _)| grant_key(code, "authorization_code")).collect();
    let mut families: Vec<String> = code_keys.iter().map(|key| db.family(key)).collect();
    families.push(db.family(&grant_key(&replayed, "refresh_token")));
    let callback = format!("{CLIENT_BASE}/callback");
    let elsewhere = format!("{CLIENT_BASE}/elsewhere");
    let [(first, first_verifier), (second, second_verifier), (third, third_verifier)] =
        [0, 1, 2].map(|index| (codes[index].0.as_str(), codes[index].1.as_str()));
    let refresh = |name: &str, handle: &str| {
        let pairs = [("grant_type", "refresh_token"), ("refresh_token", handle)];
        Probe::post(name, TOKEN, form(&pairs), Expect::OAuth(400, "invalid_grant")).basic(PASSWORD_CLIENT)
    };
    let wrong_password = carol_with("Wrong123$", "openid");
    let login = form(&[("returnUrl", ""), ("username", "carol"), ("password", "Wrong123$"), ("button", "login")]);
    let login = format!("__csrf={csrf_token}&{login}");
    let probes = vec![
        redemption("PKCE downgrade: the code without its verifier", QUICK, first, &callback, None),
        redemption("the downgraded code replayed with its verifier", QUICK, first, &callback, Some(first_verifier)),
        redemption("a redirect_uri other than the request's", QUICK, second, &elsewhere, Some(second_verifier)),
        redemption("another client's code", WEB, third, &callback, Some(third_verifier)),
        refresh("a replayed refresh token", &replayed),
        refresh("the rotated refresh token of a replayed family", &rotated),
        Probe::post("a wrong password", TOKEN, form(&wrong_password), Expect::OAuth(400, "invalid_grant"))
            .basic(PASSWORD_CLIENT),
        Probe::post("a wrong password, login page", "/account/login", login, Expect::Page(200, INVALID_CREDENTIALS))
            .header("cookie", csrf_cookie.as_str()),
    ];
    let before = db.snapshot();
    let mut failures = run_all(&server, &probes).await;
    let after = db.snapshot();
    // The writes the refusals exist to make: the grants of the codes and refresh tokens refused
    // (used up or revoked), and carol's failed-access count (on her row).
    let allowed = |table: &str, row: &str| match table {
        "oidc_persisted_grants" => families.iter().any(|family| row.contains(family.as_str())),
        "AspNetUsers" => row.contains(carol.as_str()),
        _ => false,
    };
    let written = changes(&before, &after, allowed);
    failures.extend(written.into_iter().map(|change| format!("a write no refusal exists to make: {change}")));
    for (what, family) in [("the replayed code", &families[0]), ("the replayed refresh token", &families[3])] {
        let left = db.family_size(family);
        if left != "0" {
            failures.push(format!("{what}: {left} grants of its family are left, none should be"));
        }
    }
    for (what, key) in [("the code redeemed elsewhere", &code_keys[1]), ("the code of another client", &code_keys[2])] {
        let consumption = db.consumption(key);
        if consumption != ["used"] {
            failures.push(format!("{what} is not used up: {consumption:?}"));
        }
    }
    let count = field(&env.show_user("carol"), "access_failed_count").to_owned();
    if count != "2" {
        failures.push(format!("two wrong passwords counted {count}, not 2"));
    }
    assert_none(&failures, probes.len());
}

//! The interactive sign-in through the real binary, on every backend: the authorization-code
//! flow with PKCE through the login and consent pages, driven by a cookie-keeping HTTP client
//! that follows redirects by hand, with the `openidconnect` crate as the client application;
//! the pages' defences (CSRF, open redirects, one failure message); and the end of sessions by
//! logout and by a changed password.

use std::collections::BTreeMap;
use std::sync::Mutex;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::url::Url;
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};

use test_support::http::{Response, form};

use crate::support::{PASSWORD, Server, TestEnv};

/// Where the test clients' browsers are sent back to. Nothing listens there: the tests read the
/// `Location` header.
pub(crate) const CLIENT_BASE: &str = "http://127.0.0.1:9";
/// The client that asks for consent.
pub(crate) const WEB: (&str, &str) = ("web", "web-secret-for-the-e2e-tests");
/// The client that does not.
pub(crate) const QUICK: (&str, &str) = ("quick", "quick-secret-for-the-e2e-tests");
/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "idsrv.session";
/// The one message of every failed login.
pub(crate) const INVALID_CREDENTIALS: &str = "Invalid username or password";

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::interactive,
    cases: [
        the_code_flow_runs_through_login_consent_tokens_and_logout,
        code_redemption_needs_the_registered_redirect_and_the_pkce_verifier,
        the_pages_refuse_forged_forms_foreign_return_urls_and_wrong_passwords,
        a_changed_password_ends_the_browser_session,
    ],
}

/// A configuration with the two clients, both redirecting to [`CLIENT_BASE`] (or `base`).
pub(crate) fn interactive_config(base: &str) -> String {
    let client = |(id, secret): (&str, &str), consent: bool| {
        format!(
            "[[clients]]\nclient_id = \"{id}\"\nclient_name = \"The {id} app\"\nsecrets = [\"{secret}\"]\n\
             grant_types = [\"authorization_code\"]\nredirect_uris = [\"{base}/callback\"]\n\
             post_logout_redirect_uris = [\"{base}/signed-out\"]\n\
             scopes = [\"openid\", \"profile\", \"scope2\", \"offline_access\"]\nrequire_consent = {consent}\n\n"
        )
    };
    format!("{}{}[[api_scopes]]\nname = \"scope2\"\n", client(WEB, true), client(QUICK, false))
}

/// A response, read completely.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The `Location` header, if any.
    pub(crate) fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|value| value.to_str().ok())
    }

    /// The `Location` header of a redirect.
    pub(crate) fn redirect(&self) -> &str {
        assert!((300..400).contains(&self.status), "expected a redirect, got {self:#?}");
        self.location().expect("a Location header")
    }

    /// The CSRF token of the page's form.
    pub(crate) fn csrf_token(&self) -> String {
        let marker = "name=\"__csrf\" value=\"";
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no CSRF field in {}", self.body)) + marker.len();
        self.body[start..].split('"').next().expect("a closing quote").to_owned()
    }

    /// The `Set-Cookie` header for `name`, if any.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with(&format!("{name}=")))
    }
}

/// The value of query parameter `name` in a URL (absolute or relative).
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let url = Url::parse(url).or_else(|_| Url::parse("http://relative.invalid")?.join(url)).expect("a URL");
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// A browser: keeps cookies by name, does not follow redirects by itself.
pub(crate) struct Browser<'a> {
    server: &'a Server,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl<'a> Browser<'a> {
    /// A browser without cookies, talking to `server`.
    pub(crate) fn new(server: &'a Server) -> Self {
        Self { server, cookies: Mutex::new(BTreeMap::new()) }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') { self.server.url(url) } else { url.to_owned() }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().expect("cookies");
        cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    /// Another browser holding copies of this one's cookies, as a thief would.
    pub(crate) fn copy(&self) -> Self {
        self.copy_to(self.server)
    }

    /// A browser holding copies of this one's cookies, talking to `server` (another instance
    /// behind the same name).
    pub(crate) fn copy_to<'b>(&self, server: &'b Server) -> Browser<'b> {
        Browser { server, cookies: Mutex::new(self.cookies.lock().expect("cookies").clone()) }
    }

    /// Whether the browser holds a cookie named `name`.
    pub(crate) fn has_cookie(&self, name: &str) -> bool {
        self.cookies.lock().expect("cookies").contains_key(name)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let response = request.header("cookie", self.cookie_header()).send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set_cookie in headers.get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()) {
            let (pair, attributes) = set_cookie.split_once(';').unwrap_or((set_cookie, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            let mut cookies = self.cookies.lock().expect("cookies");
            if attributes.contains("Max-Age=0") {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.expect("body");
        test_support::secrets::remember_response(&headers, &body);
        Page { status, headers, body }
    }

    /// GETs a path or URL.
    pub(crate) async fn get(&self, url: &str) -> Page {
        self.send(self.server.http.get(self.absolute(url))).await
    }

    /// POSTs a form as a page of the server does (with its `Origin`).
    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, &[("origin", self.server.address.as_str())]).await
    }

    /// POSTs an already encoded form body as a page of the server does.
    pub(crate) async fn post_encoded(&self, path: &str, body: String) -> Page {
        let request = self
            .server
            .http
            .post(self.absolute(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.server.address.as_str())
            .body(body.clone());
        test_support::http::remember_form_body(&body);
        self.send(request).await
    }

    /// POSTs a form with the given extra headers.
    pub(crate) async fn post_from(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut request = self
            .server
            .http
            .post(self.absolute(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// Follows redirects on the server until a page, or a redirect that leaves the server (to a
    /// client); returns that response.
    pub(crate) async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            match page.location() {
                Some(location) if (300..400).contains(&page.status) && self.is_local(location) => {
                    page = self.get(location).await;
                }
                _ => return page,
            }
        }
        panic!("too many redirects: {page:#?}");
    }

    fn is_local(&self, location: &str) -> bool {
        (location.starts_with('/') && !location.starts_with("//")) || location.starts_with(&self.server.address)
    }

    /// Signs in on the login page at `login` (a URL with `returnUrl`); returns the response
    /// to the form.
    pub(crate) async fn log_in(&self, login: &str, user_name: &str, password: &str) -> Page {
        let page = self.get(login).await;
        assert_eq!(page.status, 200, "{page:#?}");
        let return_url = query_param(login, "returnUrl").unwrap_or_default();
        let token = page.csrf_token();
        self.post(
            "/account/login",
            &[
                ("__csrf", &token),
                ("returnUrl", &return_url),
                ("username", user_name),
                ("password", password),
                ("button", "login"),
            ],
        )
        .await
    }
}

/// The `openidconnect` client application for a test client.
pub(crate) type RelyingParty =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The client application `(id, secret)`, configured by discovery, redirecting to `base`.
pub(crate) async fn relying_party(server: &Server, (id, secret): (&str, &str), base: &str) -> RelyingParty {
    let issuer = IssuerUrl::new(server.address.clone()).expect("issuer");
    let metadata = CoreProviderMetadata::discover_async(issuer, &server.http).await.expect("discovered");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.to_owned()),
        Some(ClientSecret::new(secret.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{base}/callback")).expect("redirect URI"))
}

/// An authorization request of the client app, with PKCE and a nonce.
pub(crate) struct Request {
    pub(crate) url: String,
    pub(crate) state: CsrfToken,
    pub(crate) nonce: Nonce,
    pub(crate) verifier: PkceCodeVerifier,
}

/// A new authorization request for `openid profile scope2 offline_access`.
pub(crate) fn authorization_request(client: &RelyingParty) -> Request {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(["profile", "scope2", "offline_access"].map(|scope| Scope::new(scope.to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    Request { url: url.to_string(), state, nonce, verifier }
}

/// Starts an authorization request of `client` in `browser`, which has no session yet: the
/// request, the login page URL the server sent the browser to, and the return URL in it.
pub(crate) async fn begin_authorization(browser: &Browser<'_>, client: &RelyingParty) -> (Request, String, String) {
    let request = authorization_request(client);
    let login = browser.get(&request.url).await.redirect().to_owned();
    let return_url = query_param(&login, "returnUrl").expect("returnUrl");
    (request, login, return_url)
}

/// Asserts that `location` is the client's callback with a code and `state`; returns the code.
/// Redeems `code` with the request's PKCE verifier through openidconnect.
pub(crate) async fn exchange_code(
    client: &RelyingParty,
    server: &Server,
    request: &Request,
    code: String,
) -> openidconnect::core::CoreTokenResponse {
    client
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint")
        .set_pkce_verifier(PkceCodeVerifier::new(request.verifier.secret().clone()))
        .request_async(&server.http)
        .await
        .unwrap_or_else(|error| panic!("code exchange: {error:?}\n{}", server.log()))
}

pub(crate) fn code_from(location: &str, request: &Request, base: &str) -> String {
    assert!(location.starts_with(&format!("{base}/callback?")), "{location}");
    assert_eq!(query_param(location, "state").as_deref(), Some(request.state.secret().as_str()), "{location}");
    query_param(location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// Says yes on the consent page `page` to every scope (as a browser submits it), remembered or not.
pub(crate) async fn consent(browser: &Browser<'_>, page: &Page, return_url: &str, remember: bool) -> Page {
    assert_eq!(page.status, 200, "{page:#?}");
    for scope in ["openid", "profile", "scope2", "offline_access"] {
        assert!(page.body.contains(&format!("value=\"{scope}\"")), "{scope} listed: {}", page.body);
    }
    let token = page.csrf_token();
    let mut form = vec![("__csrf", token.as_str()), ("returnUrl", return_url), ("button", "yes")];
    form.extend(["openid", "profile", "scope2", "offline_access"].map(|scope| ("scope", scope)));
    if remember {
        form.push(("rememberConsent", "true"));
    }
    browser.post("/consent", &form).await
}

/// The `sub` of a new user `carol` and a server on the interactive configuration.
pub(crate) fn start(env: &TestEnv, variables: &[(&str, &str)]) -> (String, Server) {
    let id = env.create_user("carol", &["--claim", "name=Carol Jones"]);
    let config = env.write_file("interactive.toml", &interactive_config(CLIENT_BASE));
    let server = env.serve_with_env(&["--config", config.to_str().expect("UTF-8 path")], variables);
    (id, server)
}

pub(crate) async fn the_code_flow_runs_through_login_consent_tokens_and_logout(env: TestEnv) {
    let (id, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, WEB, CLIENT_BASE).await;
    let (request, login, return_url) = begin_authorization(&browser, &client).await;
    assert!(login.starts_with("/account/login?returnUrl="), "{login}");
    let signed_in = browser.log_in(&login, "carol", PASSWORD).await;
    assert_eq!(signed_in.redirect(), return_url, "back to the authorize request");
    assert!(browser.has_cookie(SESSION_COOKIE));

    let consent_page = browser.follow(browser.get(&return_url).await).await;
    assert!(consent_page.body.contains("The web app"), "{}", consent_page.body);
    let consented = consent(&browser, &consent_page, &return_url, false).await;
    assert_eq!(consented.redirect(), return_url);
    let callback = browser.follow(browser.get(&return_url).await).await;
    let code = code_from(callback.redirect(), &request, CLIENT_BASE);

    let tokens = exchange_code(&client, &server, &request, code.clone()).await;
    let id_token = tokens.id_token().expect("an id token");
    let claims = id_token.claims(&client.id_token_verifier(), &request.nonce).expect("a valid id token");
    assert_eq!(claims.subject().as_str(), id);
    assert!(claims.auth_time().is_some());
    assert!(tokens.refresh_token().is_some(), "offline_access was consented");
    let userinfo: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .expect("a userinfo endpoint")
        .request_async(&server.http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), id);
    assert_eq!(userinfo.preferred_username().map(|name| name.as_str()), Some("carol"));

    let replay = server
        .post_form(
            "/connect/token",
            WEB,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &format!("{CLIENT_BASE}/callback")),
                ("code_verifier", request.verifier.secret()),
            ],
        )
        .await;
    replay.assert_error("invalid_grant");

    let home = browser.get("/").await;
    assert!(home.body.contains("Signed in as <strong>carol</strong>"), "{}", home.body);
    let end_session = format!(
        "/connect/endsession?{}",
        form(&[
            ("id_token_hint", &id_token.to_string()),
            ("post_logout_redirect_uri", &format!("{CLIENT_BASE}/signed-out")),
            ("state", "bye"),
        ])
    );
    let signed_out = browser.get(&end_session).await;
    assert_eq!(signed_out.redirect(), format!("{CLIENT_BASE}/signed-out?state=bye"));
    assert!(signed_out.set_cookie(SESSION_COOKIE).is_some_and(|cookie| cookie.contains("Max-Age=0")));
    assert!(!browser.has_cookie(SESSION_COOKIE));
    let again = browser.get(&authorization_request(&client).url).await;
    assert!(again.redirect().starts_with("/account/login?"), "signed out: {again:#?}");

    let log = server.log();
    for secret in [PASSWORD, code.as_str(), tokens.access_token().secret().as_str()] {
        assert!(!log.contains(secret), "the log holds no password, code or token:\n{log}");
    }
}

/// carol's login form: the CSRF token first, then the return URL, the credentials and the
/// login button.
fn login_form<'a>(token: &'a str, return_url: &'a str) -> [(&'a str, &'a str); 5] {
    [("__csrf", token), ("returnUrl", return_url), ("username", "carol"), ("password", PASSWORD), ("button", "login")]
}

/// Runs an authorization request in the browser, signing carol in and consenting (remembered)
/// whenever a page asks; returns where the browser finally goes outside the server.
pub(crate) async fn authorize(browser: &Browser<'_>, url: &str) -> String {
    let mut page = browser.get(url).await;
    for _ in 0..10 {
        let location = page.redirect().to_owned();
        page = if location.starts_with("/account/login?") {
            browser.log_in(&location, "carol", PASSWORD).await
        } else if location.starts_with("/consent?") {
            let return_url = query_param(&location, "returnUrl").expect("returnUrl");
            consent(browser, &browser.get(&location).await, &return_url, true).await
        } else if browser.is_local(&location) {
            browser.get(&location).await
        } else {
            return location;
        };
    }
    panic!("too many redirects: {page:#?}");
}

/// A raw code redemption by [`WEB`], with the verifier when given.
async fn redeem(server: &Server, code: &str, verifier: Option<&str>) -> Response {
    let redirect_uri = format!("{CLIENT_BASE}/callback");
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", &redirect_uri)];
    form.extend(verifier.map(|verifier| ("code_verifier", verifier)));
    server.post_form("/connect/token", WEB, &form).await
}

pub(crate) async fn code_redemption_needs_the_registered_redirect_and_the_pkce_verifier(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, WEB, CLIENT_BASE).await;

    let foreign = relying_party(&server, WEB, "http://127.0.0.1:9/elsewhere").await;
    let wrong_redirect = browser.get(&authorization_request(&foreign).url).await;
    assert_eq!(wrong_redirect.status, 400, "{wrong_redirect:#?}");
    assert!(wrong_redirect.location().is_none(), "never a redirect to an unregistered URI");

    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    redeem(&server, &code, None).await.assert_error("invalid_grant");

    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    redeem(&server, &code, Some(other_verifier.secret())).await.assert_error("invalid_grant");

    let request = authorization_request(&client);
    let code = code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);
    redeem(&server, &code, Some(request.verifier.secret())).await.ok_json();
    redeem(&server, &code, Some(request.verifier.secret())).await.assert_error("invalid_grant");
}

pub(crate) async fn the_pages_refuse_forged_forms_foreign_return_urls_and_wrong_passwords(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, WEB, CLIENT_BASE).await;
    let (request, login, return_url) = begin_authorization(&browser, &client).await;

    let page = browser.get(&login).await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
    }
    let policy = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).expect("a CSP");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self' http://127.0.0.1:9"));
    assert!(page.set_cookie("idsrv.csrf").is_some_and(|cookie| cookie.contains("SameSite=Strict")));

    for (user_name, password) in [("carol", "Wrong123$"), ("nobody", PASSWORD)] {
        let failed = browser.log_in(&login, user_name, password).await;
        assert_eq!(failed.status, 200, "{failed:#?}");
        assert!(failed.body.contains(INVALID_CREDENTIALS), "{}", failed.body);
        assert!(failed.body.contains(&format!("value=\"{user_name}\"")), "the user name is kept");
        assert!(!browser.has_cookie(SESSION_COOKIE));
    }

    let token = browser.get(&login).await.csrf_token();
    let missing = browser.post("/account/login", &login_form(&token, &return_url)[1..]).await;
    assert_eq!(missing.status, 400, "no token: {missing:#?}");
    let wrong = browser.post("/account/login", &login_form("AAAA", &return_url)).await;
    assert_eq!(wrong.status, 400, "a wrong token: {wrong:#?}");
    let evil = [("origin", "https://evil.example")];
    let cross_origin = browser.post_from("/account/login", &login_form(&token, &return_url), &evil).await;
    assert_eq!(cross_origin.status, 400, "another origin: {cross_origin:#?}");
    let cross_site = [("sec-fetch-site", "cross-site")];
    let cross_site = browser.post_from("/account/login", &login_form(&token, &return_url), &cross_site).await;
    assert_eq!(cross_site.status, 400, "cross-site: {cross_site:#?}");
    assert!(!browser.has_cookie(SESSION_COOKIE), "no refused form signed anyone in");
    assert!(browser.get(&request.url).await.redirect().starts_with("/account/login?"));

    let consent_without_session = browser.get(&format!("/consent?{}", form(&[("returnUrl", &return_url)]))).await;
    assert_eq!(consent_without_session.redirect(), login, "the consent page needs a session");

    let cancel = browser
        .post("/account/login", &[("__csrf", token.as_str()), ("returnUrl", &return_url), ("button", "cancel")])
        .await;
    let denied = cancel.redirect();
    assert!(denied.starts_with(&format!("{CLIENT_BASE}/callback?")), "{denied}");
    assert_eq!(query_param(denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(denied, "state").as_deref(), Some(request.state.secret().as_str()));

    for foreign in
        ["https://evil.example/steal", "//evil.example/steal", "/\\evil.example", "/connect/authorize?client_id=web"]
    {
        let signed_in = browser.post("/account/login", &login_form(&token, foreign)).await;
        assert_eq!(signed_in.redirect(), "/", "{foreign} is not followed");
        assert!(browser.has_cookie(SESSION_COOKIE));
    }
}

pub(crate) async fn a_changed_password_ends_the_browser_session(env: TestEnv) {
    let (_, server) = start(&env, &[]);
    let browser = Browser::new(&server);
    let client = relying_party(&server, QUICK, CLIENT_BASE).await;
    let request = authorization_request(&client);
    code_from(&authorize(&browser, &request.url).await, &request, CLIENT_BASE);

    let request = authorization_request(&client);
    let revalidated = browser.get(&request.url).await;
    code_from(revalidated.redirect(), &request, CLIENT_BASE);

    env.cli_with_stdin(&["users", "set-password", "carol", "--password-stdin"], "Changed123$\n").ok();
    let after = browser.get(&authorization_request(&client).url).await;
    assert!(after.redirect().starts_with("/account/login?"), "the old session ended: {after:#?}");
    assert!(!browser.has_cookie(SESSION_COOKIE), "its cookie was deleted");
}

//! The host's pages: login, consent, logout, signed out, error and home, served next to the
//! token server's endpoints, as the template's Razor pages are (see each module).
//!
//! | path | what |
//! | --- | --- |
//! | `GET/POST /account/login?returnUrl=…` | user name and password ([`login`]) |
//! | `GET/POST /account/login/two-factor?returnUrl=…` | authenticator code ([`two_factor`]) |
//! | `GET/POST /account/login/recovery-code?returnUrl=…` | recovery code ([`two_factor`]) |
//! | `GET/POST /account/register?returnUrl=…` | a new account, when open; also where `prompt=create` leads ([`register`]) |
//! | `GET /account/confirm-email?userId=…&code=…`, `GET/POST /account/resend-confirmation` | e-mail confirmation ([`register`]) |
//! | `GET/POST /account/forgot-password`, `GET/POST /account/reset-password?code=…` | a forgotten password ([`password_reset`]) |
//! | `GET/POST /consent?returnUrl=…` | the scopes a client asks for ([`consent`]) |
//! | `GET/POST /account/logout?logoutId=…` | "Would you like to log out?" ([`logout`]) |
//! | `GET /account/logout/loggedout?logoutId=…` | "You are now logged out", and the clients' front-channel logout iframes |
//! | `GET/POST /account/manage` | the user's profile and the links to the pages below ([`profile`]) |
//! | `GET/POST /account/manage/sessions` | the user's sessions ([`sessions`]) |
//! | `GET/POST /account/manage/grants` | the applications the user gave access to, each revocable ([`grants`]) |
//! | `GET/POST /account/manage/email`, `GET /account/confirm-email-change?…` | change the e-mail address ([`manage_email`]) |
//! | `GET/POST /account/manage/personal-data` | download it, or delete the account ([`personal_data`]) |
//! | `GET/POST /account/manage/change-password`, `GET/POST /account/manage/set-password` | change the password, or set a first one ([`manage_password`]) |
//! | `GET/POST /account/manage/two-factor` | two-factor status, off, new recovery codes ([`manage_two_factor`]) |
//! | `GET/POST /account/manage/authenticator` | add an authenticator app ([`manage_two_factor`]) |
//! | `GET /` and `GET /error` | home page and plain error page ([`home`]) |
//! | `GET /css/…`, `GET /img/…` | the stylesheet and images ([`assets`]) |
//!
//! Every page is server-rendered HTML without JavaScript. Every response carries the template's
//! security headers (`X-Content-Type-Options`, `X-Frame-Options`, a content security policy,
//! `Referrer-Policy`) and `Cache-Control: no-store`; every form is CSRF-protected ([`csrf`]);
//! and a return URL is followed only when it is a local path, and, when it points at the
//! authorize endpoint, a valid authorization request ([`Pages::return_target`]), so a foreign
//! URL never becomes a `Location`.

mod assets;
mod consent;
mod csrf;
mod grants;
mod home;
mod html;
mod login;
mod logout;
mod manage_email;
mod manage_password;
mod manage_two_factor;
mod password_reset;
mod personal_data;
mod profile;
mod register;
mod sessions;
mod throttle;
mod two_factor;

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::get;
use identity_core::{IdentityUser, SignInManager, UserManager};
use identity_oidc::local_session_subject;
use oidc_server::{AuthorizationContext, Client, CurrentSession, OidcServer, UserSession};

use self::csrf::{Csrf, Refusal, web_origin};
pub(crate) use self::register::REGISTER_PATH;
use self::throttle::{Action, ClientAddress, Throttle};
use crate::clients::{ClientCatalog, ClientSnapshot};
use crate::config::ThrottlingConfig;
use crate::email::{EmailMessage, Outbox};
use crate::events::Events;

/// The largest form a page accepts.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// The query parameter that carries the URL to go back to.
const RETURN_URL: &str = "returnUrl";
/// The query parameter that carries the end-session endpoint's logout id.
const LOGOUT_ID: &str = "logoutId";
/// The login page's path (the token server's default `login_url`).
const LOGIN_PATH: &str = "/account/login";

/// The summary above a form with errors next to its fields.
const CORRECT_THE_ERRORS: &str = "Please correct the errors below.";
/// The error next to a password confirmation that differs.
const PASSWORDS_DO_NOT_MATCH: &str = "The password and confirmation password do not match.";

/// The descriptions of `result`'s errors whose code starts with one of `prefixes` (the errors
/// that belong next to one field).
fn errors_with(result: &identity_core::IdentityResult, prefixes: &[&str]) -> Vec<String> {
    result
        .errors()
        .iter()
        .filter(|error| prefixes.iter().any(|prefix| error.code.starts_with(prefix)))
        .map(|error| error.description.clone())
        .collect()
}

/// What a page handler returns: a page, or a page that ends it early (an error, a redirect).
type PageResult = Result<Response, Response>;

/// The pages' shared state. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Pages {
    inner: Arc<Inner>,
}

struct Inner {
    server: OidcServer,
    sign_in: SignInManager<()>,
    csrf: Csrf,
    /// Every client: their redirect origins and logos are in the content security policy.
    clients: Arc<ClientCatalog>,
    /// The policy of the clients as last read.
    content_security_policy: Mutex<Option<(Arc<ClientSnapshot>, HeaderValue)>>,
    /// `[ui] static_dir`, whose files replace or add to the compiled-in ones.
    static_dir: Option<PathBuf>,
    /// The self-service settings.
    account: AccountSettings,
    /// Where the pages' e-mail goes.
    outbox: Outbox,
    /// Counts of attempts and e-mails per client address and account.
    throttle: Throttle,
    /// Where sign-in outcomes are reported.
    events: Events,
}

/// `[account]`, as the pages need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccountSettings {
    /// Whether `/account/register` is open.
    pub(crate) allow_registration: bool,
}

/// What the pages are configured with, besides the token server and the users.
#[derive(Debug)]
pub(crate) struct PageSettings<'a> {
    /// The session secret, which keys the CSRF tokens.
    pub(crate) session_secret: Option<&'a [u8]>,
    /// Every client: forms may reach their redirect origins, and pages show their logos.
    pub(crate) clients: Arc<ClientCatalog>,
    /// `[ui] static_dir`.
    pub(crate) static_dir: Option<PathBuf>,
    /// `[account]`.
    pub(crate) account: AccountSettings,
    /// Where the pages' e-mail goes.
    pub(crate) outbox: Outbox,
    /// `[throttling]`.
    pub(crate) throttling: ThrottlingConfig,
    /// Where sign-in outcomes are reported.
    pub(crate) events: Events,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("server", &self.inner.server)
            .field("csrf", &self.inner.csrf)
            .finish_non_exhaustive()
    }
}

/// Decoded `application/x-www-form-urlencoded` pairs: a query string or a form body.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body. Malformed escapes stay as they are, but a name or
    /// value that is not UTF-8 once decoded makes it `None`: refused (with [`undecodable`]),
    /// never decoded lossily into something else.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        oidc_server::decode_form(bytes).map(Self)
    }

    /// The query string of a request.
    fn query(query: Option<String>) -> Option<Self> {
        query.map_or_else(|| Some(Self::default()), |query| Self::parse(query.as_bytes()))
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value of `name` (checkboxes).
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// The `returnUrl` of a page's query string (empty when absent); the 400 page when the query is
/// not UTF-8.
#[expect(clippy::result_large_err, reason = "the error is the page handlers' own response type")]
fn query_return_url(query: Option<String>) -> Result<String, Response> {
    let query = Params::query(query).ok_or_else(undecodable)?;
    Ok(query.get(RETURN_URL).unwrap_or_default().to_owned())
}

/// `path?name=value`, the value URL-encoded.
fn with_param(path: &str, name: &str, value: &str) -> String {
    with_params(path, &[(name, value)])
}

/// `path?name=value&…`, the values URL-encoded.
fn with_params(path: &str, pairs: &[(&str, &str)]) -> String {
    format!("{path}?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}

/// A path on this host, and nothing a browser could read as another host: `/…`, but not `//…`
/// or `/\…`, and without backslashes, whitespace or control characters.
fn is_local_url(url: &str) -> bool {
    url.starts_with('/')
        && !url.starts_with("//")
        && !url.chars().any(|character| character == '\\' || character.is_whitespace() || character.is_control())
}

/// Whether a local URL points at the authorize endpoint.
fn is_authorize_url(url: &str) -> bool {
    url.split(['?', '#']).next().is_some_and(|path| path.ends_with("/connect/authorize"))
}

/// A 303 redirect (the browser follows it with a GET).
fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// `response` with `Set-Cookie` headers appended.
fn with_cookies(mut response: Response, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The error page for a failure the user cannot fix; the cause goes to the log only. A failure
/// that retrying shortly may cure (the database unreachable or busy beyond its timeout, password
/// hashing at its bound, which refuses before anything is done) gets a "busy, try again" page
/// instead: 503 with `Retry-After`.
fn internal_error<E: Display + 'static>(error: E) -> Response {
    if is_temporary(&error) {
        tracing::warn!(%error, "page refused: the server is temporarily unavailable");
        let text = "The server is busy right now. Please try again in a moment.";
        let mut page = html::message(StatusCode::SERVICE_UNAVAILABLE, "Busy", text);
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return page;
    }
    tracing::error!(%error, "page failed");
    html::message(StatusCode::INTERNAL_SERVER_ERROR, "Error", "Sorry, there was an error. Please try again later.")
}

/// Whether `error` (of any of the crates the pages call) says that retrying shortly may succeed.
fn is_temporary(error: &dyn Any) -> bool {
    let identity = |error: &identity_core::Error| error.is_retryable();
    error.downcast_ref::<identity_core::Error>().is_some_and(identity)
        || error
            .downcast_ref::<oidc_server::Error>()
            .is_some_and(|error| matches!(error, oidc_server::Error::Unavailable(_)))
        || error.downcast_ref::<identity_oidc::Error>().is_some_and(identity_oidc::Error::is_retryable)
}

/// The 400 page for parameters that are not UTF-8.
fn undecodable() -> Response {
    bad_request("The request could not be read: its parameters are not valid UTF-8.")
}

/// The 400 page for a request that is not what a page expects.
fn bad_request(text: &str) -> Response {
    html::message(StatusCode::BAD_REQUEST, "Error", text)
}

/// The 400 page for a form refused by the CSRF check; nothing was changed.
fn refused(refusal: Refusal) -> Response {
    tracing::warn!(?refusal, "form refused by the CSRF check");
    bad_request(match refusal {
        Refusal::CrossOrigin => "The form was sent from another site.",
        Refusal::BadToken => {
            "The form has expired or was not sent from this site. Go back, reload the page and try again."
        }
    })
}

/// A `form-action` source for a client's redirect URI: its origin, or for a custom scheme
/// (native apps) the scheme; `None` for anything that is not safe inside the header.
fn form_action_source(uri: &str) -> Option<String> {
    let source = if uri.starts_with("https://") || uri.starts_with("http://") {
        web_origin(uri)?
    } else {
        let scheme = uri.split_once(':')?.0;
        let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid {
            return None;
        }
        format!("{scheme}:")
    };
    source.chars().all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '\'' | '"')).then_some(source)
}

/// The origins of the http(s) URLs among `uris`, for a directive of the policy.
fn web_origins<'a>(uris: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    uris.filter(|uri| uri.starts_with("https://") || uri.starts_with("http://"))
        .filter_map(form_action_source)
        .collect()
}

/// `'self'` followed by `sources`, for a directive of the policy.
fn self_and(sources: BTreeSet<String>) -> String {
    let mut directive = String::from("'self'");
    for source in sources {
        directive.push(' ');
        directive.push_str(&source);
    }
    directive
}

/// The template's content security policy, with the clients' redirect origins as form targets
/// (a form post that redirects to the client, such as the login form's, must be allowed to) and
/// the origins of their logos as image sources.
fn content_security_policy(clients: &[&Client]) -> HeaderValue {
    let form_targets =
        clients.iter().flat_map(|client| &client.redirect_uris).filter_map(|uri| form_action_source(uri)).collect();
    let logo_origins = web_origins(clients.iter().filter_map(|client| client.logo_uri.as_deref()));
    let policy = format!(
        "default-src 'self'; img-src {}; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action {}",
        self_and(logo_origins),
        self_and(form_targets)
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
    })
}

/// Adds the security headers to every page response, unless a handler set them.
async fn security_headers(State(pages): State<Pages>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(HeaderName, HeaderValue); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::CONTENT_SECURITY_POLICY, pages.content_security_policy().await),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    for (name, value) in fixed {
        headers.entry(name).or_insert(value);
    }
    response
}

impl Pages {
    /// The pages of `server`, signing users in through `users`.
    pub(crate) fn new(server: OidcServer, users: Arc<UserManager<()>>, settings: PageSettings<'_>) -> Self {
        let csrf = Csrf::new(server.issuer(), settings.session_secret);
        let inner = Inner {
            server,
            sign_in: SignInManager::new(users),
            csrf,
            clients: settings.clients,
            content_security_policy: Mutex::new(None),
            static_dir: settings.static_dir,
            account: settings.account,
            outbox: settings.outbox,
            throttle: Throttle::new(settings.throttling),
            events: settings.events,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The routes of the pages, to merge with the token server's router.
    pub(crate) fn router(self) -> Router {
        Router::new()
            .route("/", get(home::home))
            .route("/error", get(home::error))
            .route(LOGIN_PATH, get(login::show).post(login::submit))
            .route(REGISTER_PATH, get(register::show).post(register::submit))
            .route(register::CONFIRM_EMAIL_PATH, get(register::confirm))
            .route(register::RESEND_PATH, get(register::show_resend).post(register::resend))
            .route(password_reset::FORGOT_PATH, get(password_reset::show_forgot).post(password_reset::forgot))
            .route(password_reset::RESET_PATH, get(password_reset::show_reset).post(password_reset::reset))
            .route(two_factor::TWO_FACTOR_PATH, get(two_factor::show).post(two_factor::submit))
            .route(two_factor::RECOVERY_CODE_PATH, get(two_factor::show_recovery).post(two_factor::submit_recovery))
            .route("/consent", get(consent::show).post(consent::submit))
            .route("/account/logout", get(logout::show).post(logout::submit))
            .route("/account/logout/loggedout", get(logout::logged_out))
            .route(profile::PROFILE_PATH, get(profile::show).post(profile::submit))
            .route(sessions::SESSIONS_PATH, get(sessions::show).post(sessions::submit))
            .route(grants::GRANTS_PATH, get(grants::show).post(grants::submit))
            .route(manage_email::MANAGE_EMAIL_PATH, get(manage_email::show).post(manage_email::submit))
            .route(manage_email::CONFIRM_EMAIL_CHANGE_PATH, get(manage_email::confirm))
            .route(personal_data::PERSONAL_DATA_PATH, get(personal_data::show).post(personal_data::submit))
            .route(manage_password::CHANGE_PASSWORD_PATH, get(manage_password::show).post(manage_password::submit))
            .route(manage_password::SET_PASSWORD_PATH, get(manage_password::show).post(manage_password::submit))
            .route(
                manage_two_factor::MANAGE_TWO_FACTOR_PATH,
                get(manage_two_factor::show).post(manage_two_factor::submit),
            )
            .route(
                manage_two_factor::AUTHENTICATOR_PATH,
                get(manage_two_factor::show_authenticator).post(manage_two_factor::submit_authenticator),
            )
            .route("/css/{*path}", get(assets::css))
            .route("/img/{*path}", get(assets::img))
            .layer(axum::middleware::map_response_with_state(self.clone(), security_headers))
            .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
            .with_state(self)
    }

    fn server(&self) -> &OidcServer {
        &self.inner.server
    }

    fn users(&self) -> &UserManager<()> {
        self.inner.sign_in.user_manager()
    }

    /// A page with a form: `page` gets the CSRF token for the form; the response (re)sets the
    /// CSRF cookie.
    fn form_page<T: askama::Template>(&self, headers: &HeaderMap, page: impl FnOnce(String) -> T) -> Response {
        let (token, cookie) = self.inner.csrf.issue(headers);
        with_cookies(html::render(StatusCode::OK, &page(token)), [cookie])
    }

    /// The content security policy of a page that loads `urls` in iframes: the pages' policy,
    /// with exactly those URLs' origins allowed as frames.
    async fn policy_with_frames(&self, urls: &[String]) -> HeaderValue {
        let origins: Vec<String> = web_origins(urls.iter().map(String::as_str)).into_iter().collect();
        let sources = if origins.is_empty() { "'none'".to_owned() } else { origins.join(" ") };
        let base = &self.content_security_policy().await;
        // The base policy is built from header-safe parts, and so is `sources`.
        let policy = base.to_str().ok().map(|base| format!("{base}; frame-src {sources}"));
        policy.and_then(|policy| HeaderValue::from_str(&policy).ok()).unwrap_or_else(|| base.clone())
    }

    /// The pages' content security policy for the clients as they are now.
    async fn content_security_policy(&self) -> HeaderValue {
        self.inner.clients.derive(&self.inner.content_security_policy, content_security_policy).await
    }

    /// Checks a form's CSRF token and origin (see [`refused`] for the answer to a refusal).
    fn check_csrf(&self, headers: &HeaderMap, form: &Params) -> Result<(), Refusal> {
        self.inner.csrf.verify(headers, form)
    }

    /// The request's sign-in session (renewed or deleted cookies go on the response).
    async fn session(&self, headers: &HeaderMap) -> Result<CurrentSession, Response> {
        self.server().current_session(headers).await.map_err(internal_error)
    }

    /// The request's session, or the login page that comes back to `path` (a page of the
    /// signed-in user's own).
    async fn signed_in(&self, headers: &HeaderMap, path: &str) -> Result<UserSession, Response> {
        match self.session(headers).await?.session {
            Some(session) => Ok(session),
            None => Err(see_other(&with_param(LOGIN_PATH, RETURN_URL, path))),
        }
    }

    /// The signed-in user and their session, or the login page that comes back to `path`.
    async fn signed_in_user(&self, headers: &HeaderMap, path: &str) -> Result<(UserSession, IdentityUser), Response> {
        let session = self.signed_in(headers, path).await?;
        match self.users().find_by_id(&session.subject.subject_id).await.map_err(internal_error)? {
            Some(user) => Ok((session, user)),
            None => Err(see_other(&with_param(LOGIN_PATH, RETURN_URL, path))),
        }
    }

    /// After the user changed a credential (which rotated their security stamp): their other
    /// sessions and refresh tokens end and this browser gets a new session, with the same `amr`;
    /// returns its cookie.
    async fn renew_sign_in(&self, session: &UserSession, user: &IdentityUser) -> Result<HeaderValue, Response> {
        self.renew_sign_in_adding(session, user, &[]).await
    }

    /// [`Self::renew_sign_in`], the new session's `amr` also holding `added` methods (the user
    /// has just proved another factor).
    async fn renew_sign_in_adding(
        &self,
        session: &UserSession,
        user: &IdentityUser,
        added: &[&str],
    ) -> Result<HeaderValue, Response> {
        let mut methods: Vec<&str> = session.subject.authentication_methods.iter().map(String::as_str).collect();
        for method in added {
            if !methods.contains(method) {
                methods.push(method);
            }
        }
        let subject =
            local_session_subject(self.users(), user, &methods, self.server().now()).await.map_err(internal_error)?;
        let renewed = self.server().renew_sign_in(session, subject).await.map_err(internal_error)?;
        Ok(renewed.set_cookie)
    }

    /// Queues `message` for the outbox (the response never waits for it), unless its address
    /// has had its share of messages in this window (then it is dropped and logged: the page
    /// answers the same).
    fn send_email(&self, message: EmailMessage) {
        let recipient = self.users().normalize_email(&message.to);
        if !self.inner.throttle.allow(Action::EmailToAccount, &recipient, self.server().now()) {
            tracing::warn!("throttled: too many messages to one address; a message was dropped");
            return;
        }
        self.inner.outbox.send(message);
    }

    /// A POSTed form, accepted: decoded (400 when not UTF-8), CSRF-checked (400 when refused),
    /// and, with `throttle`, counted against the client's limit for that action (429 over it).
    async fn posted_form(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        throttle: Option<(Action, ClientAddress)>,
    ) -> Result<Params, Response> {
        let form = Params::parse(body).ok_or_else(undecodable)?;
        self.check_csrf(headers, &form).map_err(refused)?;
        if let Some((action, address)) = throttle
            && let Some(refusal) = self.inner.throttle.refusal(action, address, self.server().now())
        {
            return Err(refusal);
        }
        Ok(form)
    }

    /// An absolute URL of this server for `path_and_query` (links in e-mail).
    fn absolute_url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.server().issuer().trim_end_matches('/'))
    }

    /// The authorization request behind a return URL, if it is one.
    async fn authorization_context(&self, return_url: &str) -> Result<Option<AuthorizationContext>, Response> {
        if return_url.is_empty() {
            return Ok(None);
        }
        self.server().authorization_context(return_url).await.map_err(internal_error)
    }

    /// Where a page may send the browser after it is done: `return_url` when it is a local path
    /// and, if it points at the authorize endpoint, a valid authorization request.
    async fn return_target(&self, return_url: &str) -> Option<String> {
        let valid = is_local_url(return_url)
            && (!is_authorize_url(return_url) || self.server().is_valid_return_url(return_url).await);
        if !valid && !return_url.is_empty() {
            tracing::warn!("a return URL that is not local or not a valid authorization request was ignored");
        }
        valid.then(|| return_url.to_owned())
    }

    /// Sends the browser back to `return_url`, or home when it may not go there.
    async fn return_to(&self, return_url: &str) -> Response {
        see_other(&self.return_target(return_url).await.unwrap_or_else(|| "/".to_owned()))
    }

    /// The user refused (login cancelled, consent denied): the client learns `access_denied`
    /// when `return_url` is an authorization request; otherwise home.
    async fn deny(&self, return_url: &str) -> PageResult {
        let target = self.server().deny_authorization(return_url).await.map_err(internal_error)?;
        Ok(see_other(target.as_deref().unwrap_or("/")))
    }

    /// The user name of a session's user, if the user still exists.
    async fn user_name(&self, session: &UserSession) -> Result<Option<String>, Response> {
        let user = self.users().find_by_id(&session.subject.subject_id).await.map_err(internal_error)?;
        Ok(user.and_then(|user| user.user_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_local_paths_are_local() {
        for local in ["/", "/consent?returnUrl=%2Fx", "/connect/authorize?client_id=a"] {
            assert!(is_local_url(local), "{local}");
        }
        for foreign in ["", "https://evil.example/", "//evil.example", "/\\evil.example", "/a b", "/\t/evil", "x/y"] {
            assert!(!is_local_url(foreign), "{foreign:?}");
        }
        assert!(is_authorize_url("/connect/authorize?x=1"));
        assert!(!is_authorize_url("/account/login?returnUrl=/connect/authorize"));
    }

    #[test]
    fn the_policy_allows_forms_to_reach_registered_redirect_origins_only() {
        let mut web = Client::new("web");
        web.redirect_uris =
            vec!["https://app.example.com/signin-oidc".into(), "com.example.app:/callback".into(), "x y:z".into()];
        web.logo_uri = Some("https://cdn.example.com/logo.svg".into());
        let policy = content_security_policy(&[&web]);
        assert_eq!(
            policy,
            "default-src 'self'; img-src 'self' https://cdn.example.com; object-src 'none'; frame-ancestors 'none'; \
             base-uri 'self'; form-action 'self' com.example.app: https://app.example.com"
        );
    }

    #[test]
    fn parameters_keep_every_value_in_order() {
        let params = Params::parse(b"scope=openid&scope=profile&returnUrl=%2Fconnect%2Fauthorize%3Fa%3D1&bad=%zz")
            .expect("UTF-8");
        assert_eq!(params.all("scope").collect::<Vec<_>>(), ["openid", "profile"]);
        assert_eq!(params.get("returnUrl"), Some("/connect/authorize?a=1"));
        assert_eq!(params.get("bad"), Some("%zz"));
        assert_eq!(with_param("/account/login", "returnUrl", "/a?b=c&d"), "/account/login?returnUrl=%2Fa%3Fb%3Dc%26d");
        assert!(Params::parse(b"username=al%FFice").is_none(), "not UTF-8");
        assert_eq!(undecodable().status(), StatusCode::BAD_REQUEST);
    }
}

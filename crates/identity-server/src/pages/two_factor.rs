//! The second step of a two-factor sign-in (the reference UI's `Account/LoginWith2fa` and
//! `Account/LoginWithRecoveryCode`): after the right password of a user to whom two-factor
//! applies, the login page leaves the user in a sealed cookie (.NET's `Identity.TwoFactorUserId`,
//! 5 minutes, never in the URL) and sends the browser here, for an authenticator code or a
//! recovery code. A user whose only second factor is their confirmed e-mail address (the
//! `Email` provider, as .NET offers it) asks for a code by e-mail here instead; a user with an
//! authenticator app is never offered the weaker e-mail code. Phone-only users use recovery codes
//! (no SMS sender is built). Wrong codes count toward lockout; "remember this browser" keeps a sealed cookie
//! for 14 days that skips this step until the user's security stamp changes.
//!
//! The session's `amr` (and so the id token's) says how the user signed in, as RFC 8176 names
//! it: `pwd otp mfa` after an authenticator or e-mailed code, `pwd mfa` after a recovery code,
//! and `pwd` alone on a remembered browser (as .NET does).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use identity_core::options::EMAIL_PROVIDER;
use identity_core::{IdentityUser, SignInResult, TwoFactorClientToken};

use crate::events::SignInStep;
use identity_oidc::local_session_subject;
use oidc_server::authentication_methods::{MULTIPLE_FACTORS, ONE_TIME_PASSWORD, PASSWORD};
use serde::{Deserialize, Serialize};

use super::html::message;
use super::login::login_redirect;
use super::throttle::{Action, ClientAddress};
use super::{PageResult, Pages, RETURN_URL, internal_error, query_return_url, see_other, with_cookies};
use crate::email::EmailMessage;

/// The authenticator-code page.
pub(super) const TWO_FACTOR_PATH: &str = "/account/login/two-factor";
/// The recovery-code page.
pub(super) const RECOVERY_CODE_PATH: &str = "/account/login/recovery-code";
/// The cookie that carries the user between the password and the second factor.
const PENDING_COOKIE: &str = "idsrv.2fa";
const PENDING_PURPOSE: &str = "two-factor pending user v1";
/// The cookie of a browser remembered for two-factor.
const REMEMBER_COOKIE: &str = "idsrv.2fa.remember";
const REMEMBER_PURPOSE: &str = "two-factor remembered browser v1";
/// The message for a wrong authenticator code, as the reference UI words it.
const INVALID_CODE: &str = "Invalid authenticator code.";
/// The message for a wrong e-mailed code.
const INVALID_EMAIL_CODE: &str = "Invalid verification code.";
/// What the page says once an e-mailed code is on its way.
const CODE_SENT: &str = "We sent a verification code to your email. It is valid for a few minutes.";
/// The message for a wrong recovery code, as the reference UI words it.
const INVALID_RECOVERY_CODE: &str = "Invalid recovery code entered.";

/// How long a user who gave the right password has for the second factor.
fn pending_lifetime() -> TimeDelta {
    TimeDelta::minutes(5)
}

/// How long a browser stays remembered for two-factor.
fn remember_lifetime() -> TimeDelta {
    TimeDelta::days(14)
}

/// A user between the password and the second factor.
#[derive(Serialize, Deserialize)]
struct PendingSignIn {
    user_id: String,
    /// Whether "remember my login" was ticked on the login page.
    remember_login: bool,
}

/// The authenticator-code form.
#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage<'a> {
    title: &'a str,
    csrf: String,
    return_url: &'a str,
    recovery_url: String,
    /// The second factor the page asks for.
    factor: Factor,
    status: Option<&'a str>,
    error: Option<&'a str>,
}

/// The second factor a user signs in with on the code page (recovery codes aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Factor {
    /// A code from their authenticator app.
    Authenticator,
    /// A code sent to their confirmed e-mail address, only when they have no authenticator.
    Email,
    /// None this server can check: recovery codes only.
    RecoveryCodesOnly,
}

/// The recovery-code form.
#[derive(Template)]
#[template(path = "recovery_code.html")]
struct RecoveryCodePage<'a> {
    title: &'a str,
    csrf: String,
    return_url: &'a str,
    error: Option<&'a str>,
}

/// The login page's answer to `TwoFactorRequired`: the pending-user cookie, and the code page.
pub(super) fn begin(pages: &Pages, user: &IdentityUser, remember_login: bool, return_url: &str) -> Response {
    let pending = PendingSignIn { user_id: user.id.clone(), remember_login };
    match pages.server().protected_cookie(PENDING_COOKIE, PENDING_PURPOSE, &pending, pending_lifetime()) {
        Ok(cookie) => with_cookies(see_other(&super::with_param(TWO_FACTOR_PATH, RETURN_URL, return_url)), [cookie]),
        Err(error) => internal_error(error),
    }
}

/// The browser's remembered-for-two-factor token, if it has a valid cookie.
fn remembered_token(pages: &Pages, headers: &HeaderMap) -> Option<TwoFactorClientToken> {
    pages.server().read_protected_cookie(headers, REMEMBER_COOKIE, REMEMBER_PURPOSE)
}

/// Whether this browser was remembered for two-factor by the user that `login` names (a user
/// name, or an e-mail address with e-mail login), with the user's current security stamp.
pub(super) async fn is_browser_remembered(pages: &Pages, headers: &HeaderMap, login: &str) -> Result<bool, Response> {
    let Some(token) = remembered_token(pages, headers) else {
        return Ok(false);
    };
    let sign_in = &pages.inner.sign_in;
    match sign_in.find_user(login).await.map_err(internal_error)? {
        Some(user) if user.id == token.user_id => {
            sign_in.is_two_factor_client_remembered(&user, Some(&token)).await.map_err(internal_error)
        }
        _ => Ok(false),
    }
}

/// Whether this browser is remembered for two-factor by `user`.
pub(super) async fn is_browser_remembered_for(
    pages: &Pages,
    headers: &HeaderMap,
    user: &IdentityUser,
) -> Result<bool, Response> {
    let token = remembered_token(pages, headers);
    pages.inner.sign_in.is_two_factor_client_remembered(user, token.as_ref()).await.map_err(internal_error)
}

/// The `Set-Cookie` value that forgets this browser for two-factor.
pub(super) fn forget_browser(pages: &Pages) -> oidc_server::Result<HeaderValue> {
    pages.server().clear_protected_cookie(REMEMBER_COOKIE)
}

/// The pending user, if the browser has a valid pending cookie and the user still exists.
async fn pending(pages: &Pages, headers: &HeaderMap) -> Result<Option<(PendingSignIn, IdentityUser)>, Response> {
    let Some(pending) = pages.server().read_protected_cookie::<PendingSignIn>(headers, PENDING_COOKIE, PENDING_PURPOSE)
    else {
        return Ok(None);
    };
    let user = pages.users().find_by_id(&pending.user_id).await.map_err(internal_error)?;
    Ok(user.map(|user| (pending, user)))
}

/// The pending user, or the login page (the cookie expired or never was).
async fn pending_or_login(
    pages: &Pages,
    headers: &HeaderMap,
    return_url: &str,
) -> Result<(PendingSignIn, IdentityUser), Response> {
    pending(pages, headers).await?.ok_or_else(|| login_redirect(return_url))
}

/// The factor the code page asks `user` for: their authenticator app, else their e-mail when
/// this server sends e-mail (otherwise the code would go nowhere).
async fn factor_of(pages: &Pages, user: &IdentityUser) -> Result<Factor, Response> {
    let users = pages.users();
    let providers = users.get_valid_two_factor_providers(user).await.map_err(internal_error)?;
    Ok(if providers.contains(&users.options().tokens.authenticator_token_provider) {
        Factor::Authenticator
    } else if providers.iter().any(|provider| provider == EMAIL_PROVIDER) && pages.inner.outbox.is_configured() {
        Factor::Email
    } else {
        Factor::RecoveryCodesOnly
    })
}

/// The code page for `factor`, with `status` or `error` above the form.
fn code_page(
    pages: &Pages,
    headers: &HeaderMap,
    factor: Factor,
    return_url: &str,
    (status, error): (Option<&str>, Option<&str>),
) -> Response {
    let recovery_url = super::with_param(RECOVERY_CODE_PATH, RETURN_URL, return_url);
    pages.form_page(headers, |csrf| TwoFactorPage {
        title: "Two-factor authentication",
        csrf,
        return_url,
        recovery_url,
        factor,
        status,
        error,
    })
}

/// Mails `user` a two-factor code (throttled per address like every message).
async fn send_email_code(pages: &Pages, user: &IdentityUser) -> Result<(), Response> {
    let code = pages.users().generate_two_factor_token(user, EMAIL_PROVIDER).await.map_err(internal_error)?;
    let Some(to) = user.email.clone() else {
        return Err(internal_error("the e-mail provider applies to a user without an address"));
    };
    pages.send_email(EmailMessage {
        to,
        subject: "Your security code".into(),
        text: "Your security code is below. If you did not try to log in, change your password.".into(),
        secret: Some(code),
    });
    tracing::info!(user_id = %user.id, "a two-factor code was e-mailed");
    Ok(())
}

/// The recovery-code page, with `error` above the form.
fn recovery_page(pages: &Pages, headers: &HeaderMap, return_url: &str, error: Option<&str>) -> Response {
    pages.form_page(headers, |csrf| RecoveryCodePage { title: "Recovery code verification", csrf, return_url, error })
}

/// Signs the user in after the second factor: the session with `methods` as its `amr`, the
/// pending cookie deleted, the browser remembered when asked, and back to the return URL.
async fn finish(
    pages: &Pages,
    user: &IdentityUser,
    pending: &PendingSignIn,
    methods: &[&str],
    remember_browser: bool,
    return_url: &str,
) -> PageResult {
    let subject =
        local_session_subject(pages.users(), user, methods, pages.server().now()).await.map_err(internal_error)?;
    let session = pages.server().sign_in(subject, pending.remember_login).await.map_err(internal_error)?;
    let mut cookies =
        vec![session.set_cookie, pages.server().clear_protected_cookie(PENDING_COOKIE).map_err(internal_error)?];
    if remember_browser {
        let token = pages.inner.sign_in.remember_two_factor_client(user).await.map_err(internal_error)?;
        let cookie = pages
            .server()
            .protected_cookie(REMEMBER_COOKIE, REMEMBER_PURPOSE, &token, remember_lifetime())
            .map_err(internal_error)?;
        cookies.push(cookie);
    }
    Ok(with_cookies(pages.return_to(return_url).await, cookies))
}

/// The answer to a locked-out account: only someone who gave its right password gets here.
fn locked_out(pages: &Pages) -> Response {
    tracing::warn!("two-factor sign-in refused: the account is locked out");
    let page = message(StatusCode::OK, "Locked out", "This account has been locked out, please try again later.");
    match pages.server().clear_protected_cookie(PENDING_COOKIE) {
        Ok(clear) => with_cookies(page, [clear]),
        Err(error) => internal_error(error),
    }
}

/// `GET /account/login/two-factor?returnUrl=…`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    let return_url = &query_return_url(query)?;
    let (_, user) = pending_or_login(&pages, &headers, return_url).await?;
    let factor = factor_of(&pages, &user).await?;
    Ok(code_page(&pages, &headers, factor, return_url, (None, None)))
}

/// `POST /account/login/two-factor`: the code and "remember this browser", or (`send-email`) a
/// request for an e-mailed code.
pub(super) async fn submit(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::Code, address))).await?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    let (pending, mut user) = pending_or_login(&pages, &headers, return_url).await?;
    let factor = factor_of(&pages, &user).await?;
    let provider = match factor {
        Factor::Authenticator => pages.users().options().tokens.authenticator_token_provider.clone(),
        Factor::Email if form.get("button") == Some("send-email") => {
            send_email_code(&pages, &user).await?;
            return Ok(code_page(&pages, &headers, factor, return_url, (Some(CODE_SENT), None)));
        }
        Factor::Email => EMAIL_PROVIDER.to_owned(),
        Factor::RecoveryCodesOnly => return Ok(code_page(&pages, &headers, factor, return_url, (None, None))),
    };
    let code = form.get("code").unwrap_or_default();
    let result = pages.inner.sign_in.two_factor_sign_in(&mut user, &provider, code).await.map_err(internal_error)?;
    pages.inner.events.sign_in(SignInStep::TwoFactor, result, Some(&user.id));
    match result {
        SignInResult::Success => {
            let remember = form.get("rememberMachine") == Some("true");
            let methods = [PASSWORD, ONE_TIME_PASSWORD, MULTIPLE_FACTORS];
            finish(&pages, &user, &pending, &methods, remember, return_url).await
        }
        SignInResult::LockedOut => Ok(locked_out(&pages)),
        result => {
            tracing::info!(%result, ?factor, "two-factor code refused");
            let error = if factor == Factor::Email { INVALID_EMAIL_CODE } else { INVALID_CODE };
            Ok(code_page(&pages, &headers, factor, return_url, (None, Some(error))))
        }
    }
}

/// `GET /account/login/recovery-code?returnUrl=…`.
pub(super) async fn show_recovery(
    State(pages): State<Pages>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PageResult {
    let return_url = &query_return_url(query)?;
    pending_or_login(&pages, &headers, return_url).await?;
    Ok(recovery_page(&pages, &headers, return_url, None))
}

/// `POST /account/login/recovery-code`: a recovery code, consumed when right.
pub(super) async fn submit_recovery(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::Code, address))).await?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    let (pending, mut user) = pending_or_login(&pages, &headers, return_url).await?;
    let code = form.get("recoveryCode").unwrap_or_default();
    let result = pages.inner.sign_in.two_factor_recovery_code_sign_in(&mut user, code).await.map_err(internal_error)?;
    pages.inner.events.sign_in(SignInStep::RecoveryCode, result, Some(&user.id));
    match result {
        SignInResult::Success => {
            tracing::info!(user_id = %user.id, "user signed in with a recovery code");
            finish(&pages, &user, &pending, &[PASSWORD, MULTIPLE_FACTORS], false, return_url).await
        }
        SignInResult::LockedOut => Ok(locked_out(&pages)),
        result => {
            tracing::info!(%result, "recovery code refused");
            Ok(recovery_page(&pages, &headers, return_url, Some(INVALID_RECOVERY_CODE)))
        }
    }
}

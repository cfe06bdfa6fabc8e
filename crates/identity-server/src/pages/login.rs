//! The login page (the template's `Account/Login`): user name, password and "remember me",
//! checked by `SignInManager::password_sign_in` with lockout on failure. Every failure (unknown
//! user, wrong password, locked out, not allowed) shows the same message; an unknown user name
//! costs a dummy password verification like a known one. Only the right password of a user to
//! whom two-factor applies goes on, to the code page ([`super::two_factor`]), unless this browser
//! is remembered for that user. "Cancel" tells the client `access_denied`.
//!
//! For a client that requires two-factor (`require_two_factor`), a remembered browser does not
//! skip the code, and a user without two-factor is signed in with the password and sent to add
//! an authenticator app first ([`super::manage_two_factor`]), coming back here afterwards.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use identity_core::SignInResult;
use identity_oidc::password_session_subject;

use crate::events::SignInStep;

use super::html::ClientDisplay;
use super::manage_two_factor::AUTHENTICATOR_PATH;
use super::throttle::{Action, ClientAddress};
use super::two_factor;
use super::{LOGIN_PATH, PageResult, Pages, RETURN_URL, internal_error, query_return_url, see_other, with_cookies};

/// The message of every failed sign-in, as the template words it.
const INVALID_CREDENTIALS: &str = "Invalid username or password";

/// The login form.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    title: &'a str,
    csrf: String,
    return_url: &'a str,
    user_name: &'a str,
    client: Option<ClientDisplay>,
    error: Option<&'a str>,
    /// The right password of an account whose e-mail is not confirmed yet.
    needs_confirmation: bool,
    allow_registration: bool,
    /// The login field's label: what it accepts.
    login_label: &'a str,
}

/// What went wrong with the last attempt, if anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Nothing yet.
    Blank,
    /// Any failure: the one message.
    Failed,
    /// The right password of an account that must confirm its e-mail first.
    NeedsConfirmation,
}

/// The form for `return_url`: the user name as typed, or else the request's `login_hint`.
async fn form_page(
    pages: &Pages,
    headers: &HeaderMap,
    return_url: &str,
    user_name: Option<&str>,
    outcome: Outcome,
) -> PageResult {
    let context = pages.authorization_context(return_url).await?;
    let user_name =
        user_name.or_else(|| context.as_ref().and_then(|context| context.login_hint.as_deref())).unwrap_or_default();
    let client = context.as_ref().map(ClientDisplay::of);
    Ok(pages.form_page(headers, |csrf| LoginPage {
        title: "Login",
        csrf,
        return_url,
        user_name,
        client,
        error: (outcome == Outcome::Failed).then_some(INVALID_CREDENTIALS),
        needs_confirmation: outcome == Outcome::NeedsConfirmation,
        allow_registration: pages.inner.account.allow_registration,
        login_label: if pages.users().options().sign_in.allow_email_login { "Username or email" } else { "Username" },
    }))
}

/// `GET /account/login?returnUrl=…`: the form, the user name prefilled from the request's
/// `login_hint`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    form_page(&pages, &headers, &query_return_url(query)?, None, Outcome::Blank).await
}

/// `POST /account/login`: signs in and goes back to the return URL, or shows the one message.
pub(super) async fn submit(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::SignIn, address))).await?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    if form.get("button") == Some("cancel") {
        return pages.deny(return_url).await;
    }
    let user_name = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let remember = form.get("rememberLogin") == Some("true");
    let context = pages.authorization_context(return_url).await?;
    let require_two_factor = context.is_some_and(|context| context.require_two_factor);
    let remembered = !require_two_factor && two_factor::is_browser_remembered(&pages, &headers, user_name).await?;
    let (result, user) =
        pages.inner.sign_in.password_sign_in(user_name, password, true, remembered).await.map_err(internal_error)?;
    pages.inner.events.sign_in(SignInStep::Password, result, user.as_ref().map(|user| user.id.as_str()));
    match (result, user) {
        (SignInResult::Success, Some(user)) => {
            let users = pages.users();
            let subject = password_session_subject(users, &user, pages.server().now()).await.map_err(internal_error)?;
            let session = pages.server().sign_in(subject, remember).await.map_err(internal_error)?;
            let next = if require_two_factor {
                // Two-factor does not apply to this user (else the result would say so): enrol.
                tracing::info!(user_id = %user.id, "the client requires two-factor: the user adds an authenticator first");
                see_other(&super::with_param(AUTHENTICATOR_PATH, RETURN_URL, return_url))
            } else {
                pages.return_to(return_url).await
            };
            Ok(with_cookies(next, [session.set_cookie]))
        }
        // Only after the right password: the second step may be revealed.
        (SignInResult::TwoFactorRequired, Some(user)) => Ok(two_factor::begin(&pages, &user, remember, return_url)),
        // Only after the right password: the account must confirm its e-mail first (not a phone
        // number or an account confirmation, which the generic message covers).
        (SignInResult::NotAllowed, Some(user))
            if pages.users().options().sign_in.require_confirmed_email && !user.email_confirmed =>
        {
            tracing::info!(?user_name, "login refused until the e-mail is confirmed");
            form_page(&pages, &headers, return_url, Some(user_name), Outcome::NeedsConfirmation).await
        }
        (result, _) => {
            tracing::info!(?user_name, %result, "login failed");
            form_page(&pages, &headers, return_url, Some(user_name), Outcome::Failed).await
        }
    }
}

/// The login page for a user who must sign in before going on to `return_url`.
pub(super) fn login_redirect(return_url: &str) -> axum::response::Response {
    see_other(&super::with_param(LOGIN_PATH, RETURN_URL, return_url))
}

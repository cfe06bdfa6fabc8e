//! A forgotten password (the reference UI's `Account/ForgotPassword` and `Account/ResetPassword`):
//! `/account/forgot-password` always answers "check your e-mail" and mails a reset link only to
//! a confirmed address of an account; the link leads to `/account/reset-password`, where the
//! address and a new password complete the reset (an unknown address gets the success page too).
//! A reset rotates the security stamp (so the link works once) and signs the user out
//! everywhere: sessions end and refresh tokens are revoked.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity_core::IdentityResult;

use super::html::message;
use super::register::{EmailFormPage, check_your_email};
use super::throttle::{Action, ClientAddress};
use super::{
    CORRECT_THE_ERRORS, PASSWORDS_DO_NOT_MATCH, PageResult, Pages, Params, errors_with, internal_error, undecodable,
    with_param,
};
use crate::email::EmailMessage;

/// The page that asks for the address.
pub(super) const FORGOT_PATH: &str = "/account/forgot-password";
/// Where reset links point.
pub(super) const RESET_PATH: &str = "/account/reset-password";
/// The answer after a reset.
const RESET_DONE: &str = "Your password has been reset. You can now log in with it.";
/// The answer to a wrong or used code, and to an address without an account.
const INVALID_LINK: &str =
    "The link is invalid or has expired (it works once), or the address is not the account's. Ask for a new one.";

/// The reset form.
#[derive(Template, Default)]
#[template(path = "reset_password.html")]
struct ResetPage<'a> {
    title: &'a str,
    csrf: String,
    code: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    password_errors: Vec<String>,
    confirm_error: Option<&'a str>,
}

/// `GET /account/forgot-password`.
pub(super) async fn show_forgot(State(pages): State<Pages>, headers: HeaderMap) -> Response {
    pages.form_page(&headers, |csrf| EmailFormPage {
        title: "Forgot your password?",
        csrf,
        intro: "Enter your email address and we will send you a link to reset your password.",
        action: FORGOT_PATH,
        button: "Reset password",
    })
}

/// `POST /account/forgot-password`: the same answer for every address.
pub(super) async fn forgot(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::EmailRequest, address))).await?;
    let users = pages.users();
    let user = users.find_by_email(form.get("email").unwrap_or_default()).await.map_err(internal_error)?;
    // Mail only a confirmed address: an unconfirmed one may not be its owner's (.NET does the same).
    if let Some(user) = user
        && let Some(email) = user.email.clone()
        && users.is_email_confirmed(&user).await.map_err(internal_error)?
    {
        let code = users.generate_password_reset_token(&user).await.map_err(internal_error)?;
        pages.send_email(EmailMessage {
            to: email,
            subject: "Reset your password".into(),
            text: "Someone, perhaps you, asked to reset the password of your account. To choose a new one, open this link:"
                .into(),
            secret: Some(pages.absolute_url(&with_param(RESET_PATH, "code", &code))),
        });
        tracing::info!(user_id = %user.id, "a password reset link was sent");
    }
    Ok(check_your_email(&pages, "Forgot password confirmation", "Please check your email to reset your password."))
}

/// `GET /account/reset-password?code=…`.
pub(super) async fn show_reset(
    State(pages): State<Pages>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    let Some(code) = query.get("code").filter(|code| !code.is_empty()) else {
        return Ok(message(StatusCode::BAD_REQUEST, "Reset password", "A code must be supplied for password reset."));
    };
    Ok(pages.form_page(&headers, |csrf| ResetPage { title: "Reset password", csrf, code, ..ResetPage::default() }))
}

/// `POST /account/reset-password`.
pub(super) async fn reset(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::EmailRequest, address))).await?;
    let field = |name| form.get(name).unwrap_or_default();
    let (code, email, password) = (field("code"), field("email"), field("password"));
    let mut page = ResetPage { title: "Reset password", code, email, ..ResetPage::default() };
    if password != field("confirmPassword") {
        page.confirm_error = Some(PASSWORDS_DO_NOT_MATCH);
        page.error = Some(CORRECT_THE_ERRORS);
        return Ok(pages.form_page(&headers, |csrf| ResetPage { csrf, ..page }));
    }
    let users = pages.users();
    // An address without an account gets what a wrong code gets: the page tells nothing.
    let result = match users.find_by_email(email).await.map_err(internal_error)? {
        Some(mut user) => (users.reset_password(&mut user, code, password).await.map_err(internal_error)?, Some(user)),
        None => (IdentityResult::failed([users.describer().invalid_token()]), None),
    };
    let (result, Some(user)) = result else {
        page.error = Some(INVALID_LINK);
        return Ok(pages.form_page(&headers, |csrf| ResetPage { csrf, ..page }));
    };
    if !result.succeeded() {
        page.password_errors = errors_with(&result, &["Password"]);
        page.error = Some(if page.password_errors.is_empty() { INVALID_LINK } else { CORRECT_THE_ERRORS });
        return Ok(pages.form_page(&headers, |csrf| ResetPage { csrf, ..page }));
    }
    pages.server().sign_out_everywhere(&user.id).await.map_err(internal_error)?;
    tracing::info!(user_id = %user.id, "a user reset their password");
    Ok(message(StatusCode::OK, "Reset password", RESET_DONE))
}

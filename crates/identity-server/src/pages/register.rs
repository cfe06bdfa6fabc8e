//! Registration and e-mail confirmation (the reference UI's `Account/Register`,
//! `Account/ConfirmEmail` and `Account/ResendEmailConfirmation`).
//!
//! `/account/register` is open only with `[account] allow_registration = true`. When accounts
//! must confirm their e-mail (the default with registration), a new account gets a link to
//! `/account/confirm-email` and signs in only once it is followed; otherwise it is signed in at
//! once. Registering with an address that already has an account answers exactly as a success
//! (the same page, after the same password hash) and tells that address's owner instead, so the
//! page reveals no account; a taken user name is shown on the form, since a name must be chosen.
//! The resend page answers the same whether or not the address has an account.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity_core::IdentityUser;
use identity_oidc::password_session_subject;

use super::html::message;
use super::login::login_redirect;
use super::throttle::{Action, ClientAddress};
use super::{
    CORRECT_THE_ERRORS, PASSWORDS_DO_NOT_MATCH, PageResult, Pages, Params, RETURN_URL, errors_with, internal_error,
    query_return_url, undecodable, with_cookies, with_params,
};
use crate::email::{EmailMessage, is_bare_address};

/// The registration page.
pub(crate) const REGISTER_PATH: &str = "/account/register";
/// Where confirmation links point.
pub(super) const CONFIRM_EMAIL_PATH: &str = "/account/confirm-email";
/// The page that sends the confirmation link again.
pub(super) const RESEND_PATH: &str = "/account/resend-confirmation";

/// The registration form and what went wrong with the last submission.
#[derive(Template, Default)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    title: &'a str,
    csrf: String,
    return_url: &'a str,
    user_name: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    user_name_errors: Vec<String>,
    email_errors: Vec<String>,
    password_errors: Vec<String>,
    confirm_error: Option<&'a str>,
}

/// A form that asks for an e-mail address only.
#[derive(Template)]
#[template(path = "email_form.html")]
pub(super) struct EmailFormPage<'a> {
    pub(super) title: &'a str,
    pub(super) csrf: String,
    pub(super) intro: &'a str,
    pub(super) action: &'a str,
    pub(super) button: &'a str,
}

/// The page shown after a message was (or would have been) sent: `text`, and a word when e-mail
/// is not configured, so that a developer knows to look in the log.
pub(super) fn check_your_email(pages: &Pages, title: &str, text: &str) -> Response {
    if pages.inner.outbox.is_configured() {
        return message(StatusCode::OK, title, text);
    }
    let text =
        format!("{text} (E-mail is not configured on this server: the message went to its log, without its link.)");
    message(StatusCode::OK, title, &text)
}

/// The 404 page of a closed registration.
fn registration_closed() -> Response {
    message(StatusCode::NOT_FOUND, "Register", "Registration is not open on this server.")
}

/// Sends the confirmation link of `user`'s e-mail address; the link carries `return_url` (an
/// authorization request the user registered during, or empty), so that confirming goes on to
/// the login for it.
pub(super) async fn send_confirmation(pages: &Pages, user: &IdentityUser, return_url: &str) -> Result<(), Response> {
    let Some(email) = user.email.clone() else { return Ok(()) };
    let code = pages.users().generate_email_confirmation_token(user).await.map_err(internal_error)?;
    let mut params = vec![("userId", user.id.as_str()), ("code", code.as_str())];
    if !return_url.is_empty() {
        params.push((RETURN_URL, return_url));
    }
    let link = pages.absolute_url(&with_params(CONFIRM_EMAIL_PATH, &params));
    pages.send_email(EmailMessage {
        to: email,
        subject: "Confirm your email".into(),
        text: "Please confirm your account by opening this link:".into(),
        secret: Some(link),
    });
    Ok(())
}

/// `GET /account/register?returnUrl=…`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    if !pages.inner.account.allow_registration {
        return Ok(registration_closed());
    }
    let return_url = &query_return_url(query)?;
    Ok(pages.form_page(&headers, |csrf| RegisterPage {
        title: "Register",
        csrf,
        return_url,
        ..RegisterPage::default()
    }))
}

/// `POST /account/register`.
pub(super) async fn submit(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    if !pages.inner.account.allow_registration {
        return Ok(registration_closed());
    }
    let form = pages.posted_form(&headers, &body, Some((Action::EmailRequest, address))).await?;
    let field = |name| form.get(name).unwrap_or_default();
    let (return_url, user_name, email, password) =
        (field(RETURN_URL), field("username"), field("email"), field("password"));
    let mut page = RegisterPage { title: "Register", return_url, user_name, email, ..RegisterPage::default() };
    let users = pages.users();
    let mut user = IdentityUser::new(user_name);
    user.email = Some(email.to_owned());
    // Every check but "is the address taken" first, whatever the address: the form's errors
    // must not depend on whether it has an account.
    let confirming = users.options().sign_in.require_confirmed_email;
    let validation = users.validate_user(&user).await.map_err(internal_error)?;
    page.user_name_errors = errors_with(&validation, &["DuplicateUserName", "InvalidUserName"]);
    // Without confirmation a new account is signed in at once, which tells a taken address
    // apart anyway: the validator says so, as in .NET's default UI.
    page.email_errors =
        errors_with(&validation, if confirming { &["InvalidEmail"] } else { &["DuplicateEmail", "InvalidEmail"] });
    if !is_bare_address(email) && page.email_errors.is_empty() {
        page.email_errors.push(users.describer().invalid_email(email).description);
    }
    page.password_errors = errors_with(&users.validate_password(&user, password).await.map_err(internal_error)?, &[""]);
    if password != field("confirmPassword") {
        page.confirm_error = Some(PASSWORDS_DO_NOT_MATCH);
    }
    if !page.user_name_errors.is_empty()
        || !page.email_errors.is_empty()
        || !page.password_errors.is_empty()
        || page.confirm_error.is_some()
    {
        page.error = Some(CORRECT_THE_ERRORS);
        return Ok(pages.form_page(&headers, |csrf| RegisterPage { csrf, ..page }));
    }
    let sent = "Please check your email to confirm your account.";
    if let Some(owner) = users.find_by_email(email).await.map_err(internal_error)? {
        // The same cost and the same answer as a new account; the owner hears of it.
        users.hashing_pool().hash(password).await.map_err(internal_error)?;
        tracing::info!("a registration named an address that already has an account; its owner was told");
        pages.send_email(EmailMessage {
            to: owner.email.clone().unwrap_or_else(|| email.to_owned()),
            subject: "Someone tried to register with your email".into(),
            text: "Someone, perhaps you, tried to create an account with this email address, which already has one. \
                   If it was you, log in, or reset your password here:"
                .into(),
            secret: Some(pages.absolute_url(super::password_reset::FORGOT_PATH)),
        });
        return Ok(check_your_email(&pages, "Register confirmation", sent));
    }
    let result = users.create_with_password(&mut user, password).await.map_err(internal_error)?;
    if !result.succeeded() {
        // A race with another registration of the same name or address.
        page.user_name_errors = errors_with(&result, &["DuplicateUserName", "InvalidUserName"]);
        page.error = Some(CORRECT_THE_ERRORS);
        return Ok(pages.form_page(&headers, |csrf| RegisterPage { csrf, ..page }));
    }
    tracing::info!(user_id = %user.id, "a user registered");
    if users.options().sign_in.require_confirmed_email {
        send_confirmation(&pages, &user, return_url).await?;
        return Ok(check_your_email(&pages, "Register confirmation", sent));
    }
    let subject = password_session_subject(users, &user, pages.server().now()).await.map_err(internal_error)?;
    let session = pages.server().sign_in(subject, false).await.map_err(internal_error)?;
    Ok(with_cookies(pages.return_to(return_url).await, [session.set_cookie]))
}

/// `GET /account/confirm-email?userId=…&code=…&returnUrl=…`: the link of the confirmation
/// e-mail; with a valid return URL (the registration came from an application), on to the login
/// for it.
pub(super) async fn confirm(State(pages): State<Pages>, RawQuery(query): RawQuery) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    let (user_id, code) = (query.get("userId").unwrap_or_default(), query.get("code").unwrap_or_default());
    let users = pages.users();
    let confirmed = match users.find_by_id(user_id).await.map_err(internal_error)? {
        Some(mut user) if !code.is_empty() => {
            users.confirm_email(&mut user, code).await.map_err(internal_error)?.succeeded()
        }
        _ => false,
    };
    if !confirmed {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Confirm email",
            "Error confirming your email: the link is invalid or has expired.",
        ));
    }
    tracing::info!(%user_id, "a user confirmed their e-mail address");
    if let Some(target) = pages.return_target(query.get(RETURN_URL).unwrap_or_default()).await {
        return Ok(login_redirect(&target));
    }
    Ok(message(StatusCode::OK, "Confirm email", "Thank you for confirming your email. You can now log in."))
}

/// The resend form.
fn resend_form(pages: &Pages, headers: &HeaderMap) -> Response {
    pages.form_page(headers, |csrf| EmailFormPage {
        title: "Resend email confirmation",
        csrf,
        intro: "Enter your email address to receive the confirmation link again.",
        action: RESEND_PATH,
        button: "Resend",
    })
}

/// `GET /account/resend-confirmation`.
pub(super) async fn show_resend(State(pages): State<Pages>, headers: HeaderMap) -> Response {
    resend_form(&pages, &headers)
}

/// `POST /account/resend-confirmation`: the same answer whether or not the address has an
/// unconfirmed account.
pub(super) async fn resend(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::EmailRequest, address))).await?;
    let users = pages.users();
    if let Some(user) = users.find_by_email(form.get("email").unwrap_or_default()).await.map_err(internal_error)?
        && !users.is_email_confirmed(&user).await.map_err(internal_error)?
    {
        send_confirmation(&pages, &user, "").await?;
    }
    Ok(check_your_email(&pages, "Resend email confirmation", "Verification email sent. Please check your email."))
}

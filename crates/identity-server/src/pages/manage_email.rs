//! `/account/manage/email` (the reference UI's `Manage/Email` and `Account/ConfirmEmailChange`):
//! the signed-in user's address, a new confirmation link for an unconfirmed one, and a change of
//! address, which happens only when the link mailed to the new address is opened (so nobody can
//! move an account to an address they do not own). The change confirms the new address, rotates
//! the security stamp and signs the user out everywhere; they log in again.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};

use super::html::message;
use super::register::{check_your_email, send_confirmation};
use super::throttle::{Action, ClientAddress};
use super::{PageResult, Pages, Params, internal_error, undecodable, with_params};
use crate::email::{EmailMessage, is_bare_address};

/// The page's path.
pub(super) const MANAGE_EMAIL_PATH: &str = "/account/manage/email";
/// Where change links point.
pub(super) const CONFIRM_EMAIL_CHANGE_PATH: &str = "/account/confirm-email-change";

/// The user's address and the change form.
#[derive(Template)]
#[template(path = "manage_email.html")]
struct EmailPage<'a> {
    title: &'a str,
    csrf: String,
    email: String,
    has_email: bool,
    confirmed: bool,
    error: Option<&'a str>,
}

/// `GET /account/manage/email`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let (_, user) = pages.signed_in_user(&headers, MANAGE_EMAIL_PATH).await?;
    let confirmed = pages.users().is_email_confirmed(&user).await.map_err(internal_error)?;
    Ok(pages.form_page(&headers, |csrf| EmailPage {
        title: "Manage email",
        csrf,
        email: user.email.clone().unwrap_or_else(|| "none".to_owned()),
        has_email: user.email.is_some(),
        confirmed,
        error: None,
    }))
}

/// `POST /account/manage/email`: `change` mails a link to the new address; `verify` mails the
/// confirmation link of the current one again.
pub(super) async fn submit(
    State(pages): State<Pages>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = pages.posted_form(&headers, &body, Some((Action::EmailRequest, address))).await?;
    let (_, user) = pages.signed_in_user(&headers, MANAGE_EMAIL_PATH).await?;
    if form.get("button") == Some("verify") {
        send_confirmation(&pages, &user, "").await?;
        return Ok(check_your_email(&pages, "Manage email", "Verification email sent. Please check your email."));
    }
    let new_email = form.get("newEmail").unwrap_or_default().trim();
    let users = pages.users();
    if !is_bare_address(new_email) {
        return Ok(message(StatusCode::BAD_REQUEST, "Manage email", "That is not one email address."));
    }
    if user.email.as_deref().is_some_and(|email| users.normalize_email(email) == users.normalize_email(new_email)) {
        return Ok(message(StatusCode::OK, "Manage email", "Your email is unchanged."));
    }
    let code = users.generate_change_email_token(&user, new_email).await.map_err(internal_error)?;
    let link = with_params(CONFIRM_EMAIL_CHANGE_PATH, &[("userId", &user.id), ("email", new_email), ("code", &code)]);
    pages.send_email(EmailMessage {
        to: new_email.to_owned(),
        subject: "Confirm your new email".into(),
        text: "Someone, perhaps you, asked to move an account to this email address. To confirm, open this link:"
            .into(),
        secret: Some(pages.absolute_url(&link)),
    });
    tracing::info!(user_id = %user.id, "an e-mail change link was sent to the new address");
    Ok(check_your_email(&pages, "Manage email", "Confirmation link to change email sent. Please check your email."))
}

/// `GET /account/confirm-email-change?userId=…&email=…&code=…`: the link of the change e-mail.
pub(super) async fn confirm(State(pages): State<Pages>, RawQuery(query): RawQuery) -> PageResult {
    let query = Params::query(query).ok_or_else(undecodable)?;
    let field = |name| query.get(name).unwrap_or_default();
    let users = pages.users();
    let changed = match users.find_by_id(field("userId")).await.map_err(internal_error)? {
        Some(mut user) if !field("code").is_empty() && !field("email").is_empty() => {
            let result = users.change_email(&mut user, field("email"), field("code")).await.map_err(internal_error)?;
            result.succeeded().then_some(user)
        }
        _ => None,
    };
    let Some(user) = changed else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Confirm email change",
            "Error changing email: the link is invalid, has expired, or the address is taken.",
        ));
    };
    pages.server().sign_out_everywhere(&user.id).await.map_err(internal_error)?;
    tracing::info!(user_id = %user.id, "a user changed their e-mail address");
    Ok(message(
        StatusCode::OK,
        "Confirm email change",
        "Thank you for confirming your email change. Please log in again.",
    ))
}

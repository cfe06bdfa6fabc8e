//! `/account/manage/change-password`: the signed-in user changes their password (the reference
//! UI's `Manage/ChangePassword`), and `/account/manage/set-password`: sets a first one when they
//! have none (`Manage/SetPassword`, for users who sign in another way); each page sends the
//! browser to the other when it is the wrong one for the user. Errors show next to their field
//! and in the form's summary.
//!
//! The current password is checked as a sign-in attempt (`check_password_sign_in` with lockout),
//! so a stolen session cannot guess it faster than the login page allows. A new password rotates
//! the security stamp: the user's other sessions and refresh tokens end, and this browser is
//! signed in again.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use identity_core::{IdentityResult, IdentityUser, SignInResult};

use super::{
    CORRECT_THE_ERRORS, PASSWORDS_DO_NOT_MATCH, PageResult, Pages, errors_with, internal_error, see_other, with_cookies,
};

/// The page for users with a password.
pub(super) const CHANGE_PASSWORD_PATH: &str = "/account/manage/change-password";
/// The page for users without one.
pub(super) const SET_PASSWORD_PATH: &str = "/account/manage/set-password";
/// The query that shows the success message after a change.
const CHANGED: &str = "status=changed";
/// The query that shows the success message after a first password was set.
const SET: &str = "status=set";

/// The form and what went wrong with the last submission.
#[derive(Template, Default)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    title: &'a str,
    csrf: String,
    user_name: String,
    has_password: bool,
    /// Where the form posts: this page.
    action: &'a str,
    status: Option<&'a str>,
    error: Option<&'a str>,
    current_error: Option<&'a str>,
    new_errors: Vec<String>,
    confirm_error: Option<&'a str>,
}

impl PasswordPage<'_> {
    fn has_errors(&self) -> bool {
        self.current_error.is_some() || !self.new_errors.is_empty() || self.confirm_error.is_some()
    }
}

/// The form for `user`, with `status` above it.
fn form_for<'a>(user: &IdentityUser, has_password: bool, status: Option<&'a str>) -> PasswordPage<'a> {
    PasswordPage {
        title: if has_password { "Change password" } else { "Set password" },
        action: path_for(has_password),
        user_name: user.user_name.clone().unwrap_or_default(),
        has_password,
        status,
        ..PasswordPage::default()
    }
}

/// The page for a user who has a password, or not.
fn path_for(has_password: bool) -> &'static str {
    if has_password { CHANGE_PASSWORD_PATH } else { SET_PASSWORD_PATH }
}

/// `GET /account/manage/change-password` and `GET /account/manage/set-password`.
pub(super) async fn show(
    State(pages): State<Pages>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PageResult {
    let (_, user) = pages.signed_in_user(&headers, uri.path()).await?;
    let has_password = pages.users().has_password(&user).await.map_err(internal_error)?;
    if uri.path() != path_for(has_password) {
        return Ok(see_other(path_for(has_password)));
    }
    let status = match query.as_deref() {
        Some(CHANGED) => Some("Your password has been changed."),
        Some(SET) => Some("Your password has been set."),
        _ => None,
    };
    let page = form_for(&user, has_password, status);
    Ok(pages.form_page(&headers, |csrf| PasswordPage { csrf, ..page }))
}

/// `POST /account/manage/change-password` and `POST /account/manage/set-password`: what the
/// user can do (change when they have a password, set when not), whichever page posted.
pub(super) async fn submit(State(pages): State<Pages>, uri: Uri, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let (session, mut user) = pages.signed_in_user(&headers, uri.path()).await?;
    let users = pages.users();
    let has_password = users.has_password(&user).await.map_err(internal_error)?;
    let (current, new) = (form.get("currentPassword").unwrap_or_default(), form.get("newPassword").unwrap_or_default());
    let mut page = form_for(&user, has_password, None);
    if new != form.get("confirmPassword").unwrap_or_default() {
        page.confirm_error = Some(PASSWORDS_DO_NOT_MATCH);
    } else if has_password {
        match pages.inner.sign_in.check_password_sign_in(&mut user, current, true).await.map_err(internal_error)? {
            // NotAllowed comes only with the right password (an unconfirmed e-mail, say).
            SignInResult::Success | SignInResult::NotAllowed => {
                let result = users.change_password(&mut user, current, new).await.map_err(internal_error)?;
                page.new_errors = errors_of(&result);
            }
            SignInResult::LockedOut => page.current_error = Some("Too many wrong passwords. Try again later."),
            _ => page.current_error = Some("Incorrect password."),
        }
    } else {
        page.new_errors = errors_of(&users.add_password(&mut user, new).await.map_err(internal_error)?);
    }
    if page.has_errors() {
        page.error = Some(CORRECT_THE_ERRORS);
        return Ok(pages.form_page(&headers, |csrf| PasswordPage { csrf, ..page }));
    }
    let status = if has_password { CHANGED } else { SET };
    tracing::info!(user_id = %user.id, has_password, "the user saved a new password");
    let cookie = pages.renew_sign_in(&session, &user).await?;
    Ok(with_cookies(see_other(&format!("{CHANGE_PASSWORD_PATH}?{status}")), [cookie]))
}

/// The descriptions of a result's errors (none when it succeeded).
fn errors_of(result: &IdentityResult) -> Vec<String> {
    errors_with(result, &[""])
}

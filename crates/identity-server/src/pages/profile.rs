//! `/account/manage` (the reference UI's `Manage/Index`): the signed-in user's profile, the user
//! name shown and the phone number editable, with the links to every other account page.
//!
//! A new phone number is unconfirmed and rotates the security stamp (as .NET's
//! `SetPhoneNumberAsync`), so this browser is signed in again and the user's other sessions end.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use identity_core::IdentityUser;

use super::{CORRECT_THE_ERRORS, PageResult, Pages, internal_error, see_other, with_cookies};

/// The page's path.
pub(super) const PROFILE_PATH: &str = "/account/manage";
/// The query that shows the success message after the redirect.
const UPDATED: &str = "status=updated";
/// The longest phone number accepted (E.164 numbers have at most 15 digits; room for spacing).
const MAX_PHONE_NUMBER_LENGTH: usize = 32;

/// The profile form.
#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    title: &'a str,
    csrf: String,
    user_name: String,
    phone_number: String,
    status: Option<&'a str>,
    error: Option<&'a str>,
    phone_error: Option<&'a str>,
}

/// The form for `user`.
fn profile_of<'a>(user: &IdentityUser, status: Option<&'a str>) -> ProfilePage<'a> {
    ProfilePage {
        title: "Profile",
        csrf: String::new(),
        user_name: user.user_name.clone().unwrap_or_default(),
        phone_number: user.phone_number.clone().unwrap_or_default(),
        status,
        error: None,
        phone_error: None,
    }
}

/// Whether `number` reads as a phone number: digits, with an optional leading `+` and the usual
/// spacing characters, as .NET's `[Phone]` attribute accepts.
fn is_phone_number(number: &str) -> bool {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let body = number.strip_prefix('+').unwrap_or(number);
    number.len() <= MAX_PHONE_NUMBER_LENGTH
        && digits >= 3
        && body.chars().all(|character| character.is_ascii_digit() || " -.()".contains(character))
}

/// `GET /account/manage`.
pub(super) async fn show(State(pages): State<Pages>, RawQuery(query): RawQuery, headers: HeaderMap) -> PageResult {
    let (_, user) = pages.signed_in_user(&headers, PROFILE_PATH).await?;
    let status = (query.as_deref() == Some(UPDATED)).then_some("Your profile has been updated.");
    let page = profile_of(&user, status);
    Ok(pages.form_page(&headers, |csrf| ProfilePage { csrf, ..page }))
}

/// `POST /account/manage`: saves a changed phone number (an empty field removes it).
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let (session, mut user) = pages.signed_in_user(&headers, PROFILE_PATH).await?;
    let number = form.get("phoneNumber").unwrap_or_default().trim();
    let wanted = (!number.is_empty()).then_some(number);
    if wanted == user.phone_number.as_deref() {
        return Ok(see_other(PROFILE_PATH));
    }
    if wanted.is_some_and(|number| !is_phone_number(number)) {
        let mut page = profile_of(&user, None);
        page.phone_number = number.to_owned();
        page.error = Some(CORRECT_THE_ERRORS);
        page.phone_error = Some("The Phone number field is not a valid phone number.");
        return Ok(pages.form_page(&headers, |csrf| ProfilePage { csrf, ..page }));
    }
    let result = pages.users().set_phone_number(&mut user, wanted).await.map_err(internal_error)?;
    if !result.succeeded() {
        return Err(internal_error(format!("the phone number could not be saved: {result}")));
    }
    tracing::info!(user_id = %user.id, "the user changed their phone number");
    let cookie = pages.renew_sign_in(&session, &user).await?;
    Ok(with_cookies(see_other(&format!("{PROFILE_PATH}?{UPDATED}")), [cookie]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_digits_with_the_usual_spacing() {
        for valid in ["+1 (425) 555-0100", "0612345678", "+44 20 7946 0958", "425.555.0100"] {
            assert!(is_phone_number(valid), "{valid}");
        }
        for invalid in ["12", "call me", "+1 425 555 0100 ext. 4", "++14255550100", "1+2", &"1".repeat(33)] {
            assert!(!is_phone_number(invalid), "{invalid}");
        }
    }
}

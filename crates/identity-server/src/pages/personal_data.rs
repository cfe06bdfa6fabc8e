//! `/account/manage/personal-data` (the reference UI's `Manage/PersonalData`,
//! `DownloadPersonalData` and `DeletePersonalData`): the signed-in user downloads what the
//! account holds about them as JSON, or deletes the account. Deleting asks for the password
//! again (checked as a sign-in attempt, so wrong guesses count toward lockout) or, for a user
//! without one, a sign-in in the last five minutes; it then signs the user out everywhere.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::TimeDelta;
use identity_core::{IdentityUser, SignInResult};
use oidc_server::UserSession;
use serde_json::{Map, Value, json};

use super::html::message;
use super::{PageResult, Pages, internal_error, with_cookies};

/// The page's path.
pub(super) const PERSONAL_DATA_PATH: &str = "/account/manage/personal-data";

/// The download and delete forms.
#[derive(Template)]
#[template(path = "personal_data.html")]
struct PersonalDataPage<'a> {
    title: &'a str,
    csrf: String,
    user_name: String,
    has_password: bool,
    error: Option<&'a str>,
}

/// How recent a sign-in must be to delete an account without a password.
fn recent_sign_in() -> TimeDelta {
    TimeDelta::minutes(5)
}

/// The page, with `error` above the delete form.
async fn page(pages: &Pages, headers: &HeaderMap, user: &IdentityUser, error: Option<&str>) -> PageResult {
    let has_password = pages.users().has_password(user).await.map_err(internal_error)?;
    Ok(pages.form_page(headers, |csrf| PersonalDataPage {
        title: "Personal data",
        csrf,
        user_name: user.user_name.clone().unwrap_or_default(),
        has_password,
        error,
    }))
}

/// `GET /account/manage/personal-data`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let (_, user) = pages.signed_in_user(&headers, PERSONAL_DATA_PATH).await?;
    page(&pages, &headers, &user, None).await
}

/// What the account holds about the user, as .NET's `DownloadPersonalData` lists it: the
/// personal fields, the claims, the external logins, and the authenticator key.
async fn personal_data(pages: &Pages, user: &IdentityUser) -> Result<Value, Response> {
    let users = pages.users();
    let mut data = Map::new();
    data.insert("Id".into(), json!(user.id));
    data.insert("UserName".into(), json!(user.user_name));
    data.insert("Email".into(), json!(user.email));
    data.insert("EmailConfirmed".into(), json!(user.email_confirmed));
    data.insert("PhoneNumber".into(), json!(user.phone_number));
    data.insert("PhoneNumberConfirmed".into(), json!(user.phone_number_confirmed));
    data.insert("TwoFactorEnabled".into(), json!(user.two_factor_enabled));
    if users.supports_user_claim() {
        let claims = users.get_claims(user).await.map_err(internal_error)?;
        let claims: Vec<Value> =
            claims.iter().map(|claim| json!({"Type": claim.claim_type, "Value": claim.value})).collect();
        data.insert("Claims".into(), Value::Array(claims));
    }
    if users.supports_user_login() {
        for login in users.get_logins(user).await.map_err(internal_error)? {
            data.insert(format!("{} external login provider key", login.login_provider), json!(login.provider_key));
        }
    }
    if users.supports_user_authenticator_key()
        && let Some(key) = users.get_authenticator_key(user).await.map_err(internal_error)?
    {
        data.insert("Authenticator Key".into(), json!(key));
    }
    Ok(Value::Object(data))
}

/// Whether the user proved again who they are: the password, or a recent sign-in without one.
async fn reauthenticated(
    pages: &Pages,
    session: &UserSession,
    user: &mut IdentityUser,
    password: &str,
) -> Result<bool, Response> {
    if pages.users().has_password(user).await.map_err(internal_error)? {
        let result = pages.inner.sign_in.check_password_sign_in(user, password, true).await.map_err(internal_error)?;
        return Ok(matches!(result, SignInResult::Success | SignInResult::NotAllowed));
    }
    Ok(pages.server().now() - session.subject.authentication_time <= recent_sign_in())
}

/// `POST /account/manage/personal-data`: `download` answers the JSON file; `delete` deletes the
/// account after the password (or a recent sign-in).
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let (session, mut user) = pages.signed_in_user(&headers, PERSONAL_DATA_PATH).await?;
    match form.get("button") {
        Some("download") => {
            let data = personal_data(&pages, &user).await?;
            let body = serde_json::to_string_pretty(&data).map_err(internal_error)?;
            tracing::info!(user_id = %user.id, "the user downloaded their personal data");
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"PersonalData.json\""),
            );
            Ok(response)
        }
        Some("delete") => {
            if !reauthenticated(&pages, &session, &mut user, form.get("password").unwrap_or_default()).await? {
                return page(&pages, &headers, &user, Some("Incorrect password.")).await;
            }
            let result = pages.users().delete(&user).await.map_err(internal_error)?;
            if !result.succeeded() {
                tracing::warn!(%result, "an account could not be deleted");
                return page(&pages, &headers, &user, Some("The account could not be deleted. Please try again."))
                    .await;
            }
            pages.server().sign_out_everywhere(&user.id).await.map_err(internal_error)?;
            tracing::info!(user_id = %user.id, "the user deleted their account");
            // The sessions ended above (their clients hear through back-channel logout); this
            // only deletes the cookie.
            let signed_out = pages.server().sign_out(&headers, None).await.map_err(internal_error)?;
            let page = message(StatusCode::OK, "Personal data", "Your account has been deleted.");
            Ok(with_cookies(page, [signed_out.set_cookie]))
        }
        _ => Ok(message(StatusCode::BAD_REQUEST, "Personal data", "Nothing to do.")),
    }
}

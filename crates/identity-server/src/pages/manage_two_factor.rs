//! The signed-in user's two-factor settings (the reference UI's `Manage/TwoFactorAuthentication`,
//! `EnableAuthenticator`, `GenerateRecoveryCodes` and `Disable2fa`): status, turning it off,
//! forgetting this browser, new recovery codes, and adding an authenticator app (the key as text
//! in groups of four, the `otpauth://` URI as a link and a QR code as inline SVG; a code must
//! verify before two-factor is turned on, then ten recovery codes are shown once).
//!
//! For a user with two-factor on, these pages need a session that passed it: a remembered
//! browser (signed in with the password alone) gives a code first, so that it can neither read
//! the key nor turn the second factor off or around.
//!
//! The authenticator page also serves a client that requires two-factor: the login page sends a
//! user without a second factor there with the authorize request as `returnUrl`; once a code
//! verifies, the session counts as a two-factor sign-in (`amr` gains `otp` and `mfa`: the user
//! gave the password and a code from the app) and the recovery-codes page links back.
//!
//! Turning two-factor on or off, or making a key, rotates the security stamp; the user's other
//! sessions and refresh tokens then end and this browser gets a renewed session
//! (`OidcServer::renew_sign_in`). Only POSTs (CSRF-checked) change anything; showing the page
//! never makes a key.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity_core::tokens::without_separators;
use identity_core::{IdentityResult, IdentityUser};
use oidc_server::UserSession;
use oidc_server::authentication_methods::{MULTIPLE_FACTORS, ONE_TIME_PASSWORD};
use qrcode::QrCode;
use qrcode::render::svg;

use super::html::{message, render};
use super::two_factor;
use super::{PageResult, Pages, RETURN_URL, internal_error, query_return_url, see_other, with_cookies};

/// The two-factor settings page.
pub(super) const MANAGE_TWO_FACTOR_PATH: &str = "/account/manage/two-factor";
/// The page that adds an authenticator app.
pub(super) const AUTHENTICATOR_PATH: &str = "/account/manage/authenticator";
/// How many recovery codes a new set has, as the reference UI makes.
const RECOVERY_CODE_COUNT: usize = 10;
/// The message for a code that does not verify, as the reference UI words it.
const INVALID_CODE: &str = "Verification code is invalid.";

/// The two-factor settings.
#[derive(Template)]
#[template(path = "manage_two_factor.html")]
struct ManagePage<'a> {
    title: &'a str,
    csrf: String,
    enabled: bool,
    has_authenticator: bool,
    recovery_codes_left: usize,
    /// Whether this browser is remembered for two-factor.
    remembered: bool,
    error: Option<&'a str>,
}

/// The authenticator set-up page.
#[derive(Template)]
#[template(path = "authenticator.html")]
struct AuthenticatorPage<'a> {
    title: &'a str,
    csrf: String,
    /// The key in groups of four, if the user has one.
    shared_key: Option<String>,
    authenticator_uri: String,
    /// The QR code of `authenticator_uri`, an SVG element generated here (not user input).
    qr_svg: String,
    /// Where to go once two-factor is on (an authorize request), carried by the forms.
    return_url: &'a str,
    /// Whether that request's client requires two-factor (the page says why it is shown).
    client_requires_two_factor: bool,
    error: Option<&'a str>,
}

/// New recovery codes, shown once.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    title: &'a str,
    codes: Vec<String>,
    /// The application the user was on the way to, when enrolment came from the login page.
    continue_url: Option<String>,
}

/// The page for a change the store refused (a validator, or a concurrent change of the user).
fn not_saved() -> Response {
    message(StatusCode::CONFLICT, "Two-factor authentication", "The change could not be saved. Please try again.")
}

/// Whether a change was saved; logs why not.
fn saved(result: &IdentityResult) -> bool {
    if !result.succeeded() {
        tracing::warn!(%result, "a two-factor setting could not be saved");
    }
    result.succeeded()
}

/// The key as the reference UI shows it: lower case, in groups of four.
fn formatted_key(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    let groups: Vec<&str> = lower.as_bytes().chunks(4).filter_map(|chunk| std::str::from_utf8(chunk).ok()).collect();
    groups.join(" ")
}

/// The key URI authenticator apps read (Google's `otpauth://totp/ISSUER:ACCOUNT?…` format, as
/// the reference UI writes it).
fn authenticator_uri(issuer: &str, account: &str, key: &str) -> String {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20");
    format!("otpauth://totp/{}:{}?secret={key}&issuer={}&digits=6", encode(issuer), encode(account), encode(issuer))
}

/// `uri` as an inline SVG QR code (without the XML declaration, which HTML does not take).
fn qr_svg(uri: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::new(uri.as_bytes())?;
    let image = code.render::<svg::Color<'_>>().min_dimensions(192, 192).build();
    Ok(image.find("<svg").map_or(image.clone(), |start| image[start..].to_owned()))
}

/// For a user with two-factor on, a session that did not pass it (a remembered browser, which
/// signed in with the password alone) may neither see nor change the second factor: the user
/// gives a code first, through the two-factor sign-in, which comes back to `path` with a session
/// that did. `None` when the session may go on.
async fn second_factor_first(
    pages: &Pages,
    session: &UserSession,
    user: &IdentityUser,
    path: &str,
) -> Result<Option<Response>, Response> {
    let passed = session.subject.has_authentication_method(MULTIPLE_FACTORS);
    if passed || !pages.users().get_two_factor_enabled(user).await.map_err(internal_error)? {
        return Ok(None);
    }
    tracing::info!(user_id = %user.id, "two-factor settings need a session that passed two-factor");
    Ok(Some(two_factor::begin(pages, user, session.persistent, path)))
}

/// The settings page.
async fn manage_page(pages: &Pages, headers: &HeaderMap, user: &IdentityUser, error: Option<&str>) -> PageResult {
    let users = pages.users();
    let enabled = users.get_two_factor_enabled(user).await.map_err(internal_error)?;
    let has_authenticator =
        users.get_authenticator_key(user).await.map_err(internal_error)?.is_some_and(|key| !key.trim().is_empty());
    let recovery_codes_left = users.count_recovery_codes(user).await.map_err(internal_error)?;
    let remembered = two_factor::is_browser_remembered_for(pages, headers, user).await?;
    Ok(pages.form_page(headers, |csrf| ManagePage {
        title: "Two-factor authentication",
        csrf,
        enabled,
        has_authenticator,
        recovery_codes_left,
        remembered,
        error,
    }))
}

/// `GET /account/manage/two-factor`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let (_, user) = pages.signed_in_user(&headers, MANAGE_TWO_FACTOR_PATH).await?;
    manage_page(&pages, &headers, &user, None).await
}

/// `POST /account/manage/two-factor`: new recovery codes, two-factor off, or forget this browser.
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let (session, mut user) = pages.signed_in_user(&headers, MANAGE_TWO_FACTOR_PATH).await?;
    let users = pages.users();
    if form.get("button") != Some("forget")
        && let Some(step_up) = second_factor_first(&pages, &session, &user, MANAGE_TWO_FACTOR_PATH).await?
    {
        return Ok(step_up);
    }
    match form.get("button") {
        Some("recovery-codes") => {
            if !users.get_two_factor_enabled(&user).await.map_err(internal_error)? {
                return manage_page(&pages, &headers, &user, Some("Turn on two-factor authentication first.")).await;
            }
            recovery_codes(&pages, &mut user).await
        }
        Some("disable") => {
            if !users.get_two_factor_enabled(&user).await.map_err(internal_error)? {
                return Ok(see_other(MANAGE_TWO_FACTOR_PATH));
            }
            if !saved(&users.set_two_factor_enabled(&mut user, false).await.map_err(internal_error)?) {
                return Ok(not_saved());
            }
            tracing::info!(user_id = %user.id, "the user turned two-factor authentication off");
            let cookie = pages.renew_sign_in(&session, &user).await?;
            Ok(with_cookies(see_other(MANAGE_TWO_FACTOR_PATH), [cookie]))
        }
        Some("forget") => {
            let cookie = two_factor::forget_browser(&pages).map_err(internal_error)?;
            Ok(with_cookies(see_other(MANAGE_TWO_FACTOR_PATH), [cookie]))
        }
        _ => Ok(message(StatusCode::BAD_REQUEST, "Two-factor authentication", "Nothing to do.")),
    }
}

/// Replaces the user's recovery codes; `None` when they could not be saved (logged).
async fn new_recovery_codes(pages: &Pages, user: &mut IdentityUser) -> Result<Option<Vec<String>>, Response> {
    let codes = pages.users().generate_new_two_factor_recovery_codes(user, RECOVERY_CODE_COUNT).await;
    let codes = codes.map_err(internal_error)?;
    match &codes {
        Some(_) => tracing::info!(user_id = %user.id, "the user got new recovery codes"),
        None => tracing::warn!(user_id = %user.id, "new recovery codes could not be saved"),
    }
    Ok(codes)
}

/// Replaces the user's recovery codes and shows the new ones once.
async fn recovery_codes(pages: &Pages, user: &mut IdentityUser) -> PageResult {
    match new_recovery_codes(pages, user).await? {
        Some(codes) => Ok(codes_page(codes, None)),
        None => Err(not_saved()),
    }
}

/// The page that shows new recovery codes once, with a link on to `continue_url`.
fn codes_page(codes: Vec<String>, continue_url: Option<String>) -> Response {
    render(StatusCode::OK, &RecoveryCodesPage { title: "Recovery codes", codes, continue_url })
}

/// The authenticator page's own URL, keeping `return_url`.
fn authenticator_path(return_url: &str) -> String {
    if return_url.is_empty() {
        AUTHENTICATOR_PATH.to_owned()
    } else {
        super::with_param(AUTHENTICATOR_PATH, RETURN_URL, return_url)
    }
}

/// The authenticator page: the user's key (text, URI, QR code) and the verification form, or,
/// without a key, the form that makes one.
async fn authenticator_page(
    pages: &Pages,
    headers: &HeaderMap,
    user: &IdentityUser,
    return_url: &str,
    error: Option<&str>,
) -> PageResult {
    let users = pages.users();
    let key = users.get_authenticator_key(user).await.map_err(internal_error)?.filter(|key| !key.trim().is_empty());
    let (shared_key, uri, qr) = match key {
        Some(key) => {
            let account = user.email.as_deref().or(user.user_name.as_deref()).unwrap_or(&user.id);
            let uri = authenticator_uri(&users.options().tokens.authenticator_issuer, account, &key);
            let qr = qr_svg(&uri).map_err(internal_error)?;
            (Some(formatted_key(&key)), uri, qr)
        }
        None => (None, String::new(), String::new()),
    };
    let context = pages.authorization_context(return_url).await?;
    let client_requires_two_factor = context.is_some_and(|context| context.require_two_factor);
    Ok(pages.form_page(headers, |csrf| AuthenticatorPage {
        title: "Configure authenticator app",
        csrf,
        shared_key,
        authenticator_uri: uri,
        qr_svg: qr,
        return_url,
        client_requires_two_factor,
        error,
    }))
}

/// `GET /account/manage/authenticator?returnUrl=…`: shows the key; changes nothing (a key is
/// made by a POST).
pub(super) async fn show_authenticator(
    State(pages): State<Pages>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> PageResult {
    let return_url = &query_return_url(query)?;
    let (session, user) = pages.signed_in_user(&headers, &authenticator_path(return_url)).await?;
    if let Some(step_up) = second_factor_first(&pages, &session, &user, &authenticator_path(return_url)).await? {
        return Ok(step_up);
    }
    authenticator_page(&pages, &headers, &user, return_url, None).await
}

/// `POST /account/manage/authenticator`: `new-key` makes a (new) key, as the reference UI's
/// `ResetAuthenticator` does (two-factor off, a new key, a new security stamp, so this browser's
/// session is renewed); `verify` checks a code from the app and turns two-factor on.
pub(super) async fn submit_authenticator(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let return_url = form.get(RETURN_URL).unwrap_or_default();
    let (session, mut user) = pages.signed_in_user(&headers, &authenticator_path(return_url)).await?;
    if let Some(step_up) = second_factor_first(&pages, &session, &user, &authenticator_path(return_url)).await? {
        return Ok(step_up);
    }
    let users = pages.users();
    if form.get("button") == Some("new-key") {
        if users.get_two_factor_enabled(&user).await.map_err(internal_error)?
            && !saved(&users.set_two_factor_enabled(&mut user, false).await.map_err(internal_error)?)
        {
            return Ok(not_saved());
        }
        if !saved(&users.reset_authenticator_key(&mut user).await.map_err(internal_error)?) {
            return Ok(not_saved());
        }
        tracing::info!(user_id = %user.id, "the user made a new authenticator key");
        let cookie = pages.renew_sign_in(&session, &user).await?;
        return Ok(with_cookies(see_other(&authenticator_path(return_url)), [cookie]));
    }
    let code = without_separators(form.get("code").unwrap_or_default());
    let provider = users.options().tokens.authenticator_token_provider.clone();
    if !users.verify_two_factor_token(&user, &provider, &code).await.map_err(internal_error)? {
        return authenticator_page(&pages, &headers, &user, return_url, Some(INVALID_CODE)).await;
    }
    if !saved(&users.set_two_factor_enabled(&mut user, true).await.map_err(internal_error)?) {
        return Ok(not_saved());
    }
    tracing::info!(user_id = %user.id, "the user turned two-factor authentication on with an authenticator app");
    // Everything that can fail comes before the renewal, which ends this browser's old session.
    let codes = if users.count_recovery_codes(&user).await.map_err(internal_error)? == 0 {
        new_recovery_codes(&pages, &mut user).await?
    } else {
        None
    };
    // The password and now a code from the app: a two-factor sign-in.
    let cookie = pages.renew_sign_in_adding(&session, &user, &[ONE_TIME_PASSWORD, MULTIPLE_FACTORS]).await?;
    let continue_url = pages.return_target(return_url).await;
    let page = match (codes, continue_url) {
        (Some(codes), continue_url) => codes_page(codes, continue_url),
        (None, Some(continue_url)) => see_other(&continue_url),
        (None, None) => see_other(MANAGE_TWO_FACTOR_PATH),
    };
    Ok(with_cookies(page, [cookie]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_and_uri_look_as_the_reference_ui_makes_them() {
        assert_eq!(formatted_key("JBSWY3DPEHPK3PXP"), "jbsw y3dp ehpk 3pxp");
        assert_eq!(
            authenticator_uri("My Server", "alice@example.com", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/My%20Server:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=My%20Server&digits=6"
        );
        let svg = qr_svg("otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP").expect("a QR code");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    }
}

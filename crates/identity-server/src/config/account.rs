//! `[account]` (self-service registration and e-mail confirmation) and `[email]` (how messages
//! leave the server).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[account]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AccountConfig {
    /// Whether `/account/register` is open. Default `false`.
    pub(crate) allow_registration: bool,
    /// Whether an account signs in only once its e-mail is confirmed. Default: `true` when
    /// registration is open, else `false`; `[sign_in] require_confirmed_email` is an alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) require_confirmed_email: Option<bool>,
    /// What the login field and the password grant accept. Default: the user name only.
    pub(crate) login_with: LoginWith,
}

/// `[account] login_with`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LoginWith {
    /// The user name only.
    #[default]
    UserName,
    /// The user name or the e-mail address.
    UserNameOrEmail,
}

/// `[email]`; the SMTP user and password come only from `IDENTITY_EMAIL__SMTP_USER` and
/// `IDENTITY_EMAIL__SMTP_PASSWORD`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct EmailConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) smtp_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pickup_directory: Option<PathBuf>,
}

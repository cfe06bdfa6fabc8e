//! `[throttling]`: how many sign-in attempts, codes and e-mails the pages accept per client
//! address and per account in a time window (see `pages::throttle`).

use serde::{Deserialize, Serialize};

use super::limits::ConfigDuration;

/// `[throttling]`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ThrottlingConfig {
    /// The window the counts below are per.
    pub(crate) window: ConfigDuration,
    /// Login form submissions per client address (password spraying across accounts).
    pub(crate) sign_in_per_address: u32,
    /// Two-factor and recovery codes per client address.
    pub(crate) codes_per_address: u32,
    /// Registration, resend-confirmation and forgot-password submissions per client address.
    pub(crate) emails_per_address: u32,
    /// Messages to one e-mail address (e-mail bombing).
    pub(crate) emails_per_account: u32,
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            window: ConfigDuration(std::time::Duration::from_secs(15 * 60)),
            sign_in_per_address: 100,
            codes_per_address: 50,
            emails_per_address: 10,
            emails_per_account: 3,
        }
    }
}

//! `[sessions]`: how long sign-in sessions last.

use serde::{Deserialize, Serialize};

use super::limits::ConfigDuration;

/// `[sessions]`: the idle timeout of sessions without "remember me", and the absolute lifetime
/// of every session.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SessionsConfig {
    pub(crate) idle_timeout: ConfigDuration,
    pub(crate) absolute_lifetime: ConfigDuration,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            idle_timeout: ConfigDuration(std::time::Duration::from_secs(2 * 3600)),
            absolute_lifetime: ConfigDuration(std::time::Duration::from_secs(14 * 86_400)),
        }
    }
}

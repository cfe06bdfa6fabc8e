//! `[database]`: how long a store call may wait for the database before the server answers
//! `temporarily_unavailable` instead of hanging.

use serde::Deserialize;

use super::limits::ConfigDuration;

/// `[database]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DatabaseConfig {
    /// The longest a store call waits for a pooled connection (connecting included) and, on
    /// SQLite, for another writer's lock.
    pub(crate) operation_timeout: ConfigDuration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { operation_timeout: ConfigDuration(std::time::Duration::from_secs(2)) }
    }
}

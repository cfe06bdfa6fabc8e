//! `[database]`: how long a store call may wait for the database before the server answers
//! `temporarily_unavailable` instead of hanging.

use serde::{Deserialize, Serialize};

use super::limits::ConfigDuration;

/// `[database]`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DatabaseConfig {
    /// The longest a store call waits for a pooled connection (connecting included) and for a
    /// lock another connection holds (SQLite's busy timeout, PostgreSQL's `lock_timeout`).
    pub(crate) operation_timeout: ConfigDuration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { operation_timeout: ConfigDuration(std::time::Duration::from_secs(2)) }
    }
}

//! `[client_store]`: the clients that `identity-server clients …` keeps in the database, beside
//! the file's, and how soon a running instance sees a change to them.

use serde::{Deserialize, Serialize};

use super::limits::ConfigDuration;

/// `[client_store]`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ClientStoreConfig {
    /// Whether `serve` also serves the clients stored in the database. Default `true`.
    pub(crate) enabled: bool,
    /// How long an instance serves the stored clients it read before reading them again: the
    /// longest a change made by `clients …` takes to reach it. Default 10 seconds.
    pub(crate) cache_lifetime: ConfigDuration,
}

impl Default for ClientStoreConfig {
    fn default() -> Self {
        Self { enabled: true, cache_lifetime: ConfigDuration(std::time::Duration::from_secs(10)) }
    }
}

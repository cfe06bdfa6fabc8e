//! `[hashing]`: the password-hashing threads and how many requests may wait for them (see
//! `identity_core::HashingPool`); beyond that, sign-ins are refused at once with 503.

use serde::{Deserialize, Serialize};

/// `[hashing]`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct HashingConfig {
    /// Threads that hash passwords (each holds one hash's memory); default one per core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) threads: Option<usize>,
    /// Requests each thread may have waiting; default 16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) queue_per_thread: Option<usize>,
}

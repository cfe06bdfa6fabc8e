//! `[metrics]`: whether `GET /metrics` (Prometheus' text format) is served.

use serde::{Deserialize, Serialize};

/// `[metrics]`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MetricsConfig {
    /// Serve `/metrics` on the main listener. Off by default, as in Keycloak: the numbers tell
    /// how busy the server is, which not everyone on the network needs to know.
    pub(crate) enabled: bool,
}

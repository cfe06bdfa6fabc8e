//! `[proxy]`: the reverse proxies whose forwarding headers name the client.

use serde::Deserialize;

/// `[proxy]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ProxyConfig {
    /// Addresses and networks (`10.0.0.0/8`, `::1`) of the proxies in front of the server.
    /// Default none: forwarding headers are ignored.
    pub(crate) trusted: Vec<String>,
}

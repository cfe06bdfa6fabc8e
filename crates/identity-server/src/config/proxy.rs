//! `[proxy]`: the reverse proxies whose forwarding headers name the client.

use serde::{Deserialize, Serialize};

/// `[proxy]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ProxyConfig {
    /// Addresses and networks (`10.0.0.0/8`, `::1`) of the proxies in front of the server.
    /// Default none: forwarding headers are ignored.
    pub(crate) trusted: Vec<String>,
    /// The one header the proxies write the client's address in. Default `x_forwarded_for`.
    pub(crate) header: ForwardingHeader,
}

/// A header in which proxies pass on the client's address. Only the one the proxies write is
/// read: a client could write the other itself, and a proxy would pass it through untouched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1, …` (nginx, HAProxy, cloud load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1, …` (RFC 7239).
    Forwarded,
}

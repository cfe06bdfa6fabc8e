//! `[proxy] trusted`: the reverse proxies whose forwarding headers are believed.
//!
//! A request whose TCP peer is a trusted proxy is attributed to the client its forwarding header
//! names (`X-Forwarded-For`, or RFC 7239 `Forwarded: for=…` with `[proxy] header =
//! "forwarded"`; only the configured one is read, since a proxy passes the other on as the
//! client wrote it): the rightmost address that is not itself a trusted proxy. Each proxy appends the address it received the request from, so only
//! the part of the list that trusted proxies appended can be believed; whatever a client wrote
//! before it is ignored. A hop that cannot be read (`unknown`, an obfuscated name, garbage)
//! leaves the request attributed to the proxy. Requests from anywhere else keep their peer
//! address, whatever headers they carry. Throttling counts by this address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::config::ForwardingHeader;
use crate::error::{Failure, Result};

/// The trusted proxies' networks and the header they write.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardingHeader,
}

impl TrustedProxies {
    /// The networks of `entries` (each `ADDRESS/PREFIX`, or an address alone for one host;
    /// empty entries are ignored), whose proxies write `header`.
    pub(crate) fn parse(entries: &[String], header: ForwardingHeader) -> Result<Self> {
        let networks = entries
            .iter()
            .map(|entry| entry.trim())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| Failure::new(format!("[proxy] trusted: `{entry}` is not an address or a network")))
            })
            .collect::<Result<_>>()?;
        Ok(Self { networks, header })
    }

    /// Whether no proxy is trusted.
    pub(crate) fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|network| network.contains(&address))
    }

    /// The client that a trusted proxy's `headers` name, if they name one readably; an IPv4
    /// client written as IPv6 (`::ffff:a.b.c.d`) is its IPv4 address, so it has one budget.
    fn client_of(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let hops = forwarded_hops(headers, self.header)?;
        let mut client = None;
        for hop in hops.iter().rev() {
            let hop = (*hop)?;
            client = Some(hop);
            if !self.trusts(hop) {
                break;
            }
        }
        client.map(|client| client.to_canonical())
    }
}

/// The addresses in `header`, first hop first: `None` when the request has none, `None` entries
/// for hops that cannot be read.
fn forwarded_hops(headers: &HeaderMap, header: ForwardingHeader) -> Option<Vec<Option<IpAddr>>> {
    let name = match header {
        ForwardingHeader::XForwardedFor => "x-forwarded-for",
        ForwardingHeader::Forwarded => header::FORWARDED.as_str(),
    };
    let values = headers.get_all(name);
    values.iter().next()?;
    // Element by element: a byte that is not UTF-8 (which the client may have written to the
    // left) spoils only its own hop, never the hops the proxies appended.
    let elements = values
        .iter()
        .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
        .map(|element| std::str::from_utf8(element).ok());
    Some(match header {
        ForwardingHeader::XForwardedFor => elements.map(|hop| node_address(hop?.trim())).collect(),
        ForwardingHeader::Forwarded => elements
            .map(|element| {
                element?.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| node_address(value.trim()))
                })?
            })
            .collect(),
    })
}

/// The address of a node as forwarding headers write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]:4711`, optionally in quotes.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(node);
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    let (address, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Attributes a request from a trusted proxy to the client it names (see the module).
pub(crate) async fn attribute_to_client(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    if let Some(peer) = peer
        && proxies.trusts(peer.ip())
        && let Some(client) = proxies.client_of(request.headers())
    {
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(header: ForwardingHeader) -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8".into(), " ::1 ".into(), "192.0.2.7".into(), String::new()], header)
            .expect("valid")
    }

    fn client_by(header: ForwardingHeader, headers: &[(&'static str, &'static str)]) -> Option<String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_static(value));
        }
        proxies(header).client_of(&map).map(|address| address.to_string())
    }

    fn client(headers: &[(&'static str, &'static str)]) -> Option<String> {
        client_by(ForwardingHeader::XForwardedFor, headers)
    }

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() {
        assert_eq!(client(&[("x-forwarded-for", "203.0.113.5")]).as_deref(), Some("203.0.113.5"));
        assert_eq!(
            client(&[("x-forwarded-for", "198.51.100.1, 203.0.113.5, 10.1.2.3")]).as_deref(),
            Some("203.0.113.5"),
            "what the client wrote first is not believed"
        );
        assert_eq!(client(&[("x-forwarded-for", "10.0.0.1, 10.0.0.2")]).as_deref(), Some("10.0.0.1"), "all proxies");
        assert_eq!(
            client(&[("x-forwarded-for", "198.51.100.1"), ("x-forwarded-for", "203.0.113.5")]).as_deref(),
            Some("203.0.113.5"),
            "several header lines are one list"
        );
        assert_eq!(client(&[("x-forwarded-for", "203.0.113.5, garbage")]), None, "an unreadable hop");
        assert_eq!(client(&[("x-forwarded-for", "::ffff:203.0.113.5")]).as_deref(), Some("203.0.113.5"), "one budget");
        assert_eq!(client(&[]), None);
        assert_eq!(
            client(&[("forwarded", "for=198.51.100.1"), ("x-forwarded-for", "203.0.113.5")]).as_deref(),
            Some("203.0.113.5"),
            "the header the proxies do not write is the client's own, and ignored"
        );
        assert_eq!(client(&[("forwarded", "for=198.51.100.1")]), None);

        let mut written = HeaderMap::new();
        written.append("x-forwarded-for", HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.5").expect("a header value"));
        let found = proxies(ForwardingHeader::XForwardedFor).client_of(&written).map(|address| address.to_string());
        assert_eq!(found.as_deref(), Some("203.0.113.5"), "a byte the client wrote spoils only its own hop");
    }

    #[test]
    fn forwarded_is_read_when_configured_in_each_node_form() {
        let client = |headers: &[(&'static str, &'static str)]| client_by(ForwardingHeader::Forwarded, headers);
        let forwarded = [
            ("forwarded", "for=198.51.100.1;proto=https, for=\"[2001:db8::17]:4711\""),
            ("x-forwarded-for", "203.0.113.5"),
        ];
        assert_eq!(client(&forwarded).as_deref(), Some("2001:db8::17"));
        assert_eq!(client(&[("forwarded", "For=\"203.0.113.5:80\";by=10.0.0.1")]).as_deref(), Some("203.0.113.5"));
        assert_eq!(client(&[("forwarded", "for=unknown")]), None);
        assert_eq!(client(&[("forwarded", "for=_hidden, for=10.0.0.3")]), None, "an obfuscated client");
        assert_eq!(client(&[("forwarded", "proto=https")]), None, "no for=");
        assert_eq!(client(&[("x-forwarded-for", "203.0.113.5")]), None, "X-Forwarded-For is not read");
    }

    #[test]
    fn networks_single_addresses_and_mapped_addresses_are_trusted() {
        let proxies = proxies(ForwardingHeader::XForwardedFor);
        for trusted in ["10.255.0.1", "::1", "192.0.2.7", "::ffff:10.0.0.9"] {
            assert!(proxies.trusts(trusted.parse().expect("an address")), "{trusted}");
        }
        for untrusted in ["11.0.0.1", "192.0.2.8", "::2"] {
            assert!(!proxies.trusts(untrusted.parse().expect("an address")), "{untrusted}");
        }
        let error = TrustedProxies::parse(&["10.0.0.0/33".into()], ForwardingHeader::default()).expect_err("bad");
        assert!(error.to_string().contains("`10.0.0.0/33`"), "{error}");
        assert!(TrustedProxies::parse(&[" ".into()], ForwardingHeader::default()).expect("none").is_empty());
    }
}

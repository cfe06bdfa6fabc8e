//! The endpoints' paths under the issuer: what the router mounts, discovery advertises and the
//! interaction code recognises in a return URL.

/// OpenID Connect discovery.
pub(crate) const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The signing keys (JWKS).
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks";
/// The authorization endpoint.
pub(crate) const AUTHORIZE_PATH: &str = "/connect/authorize";
/// The token endpoint.
pub(crate) const TOKEN_PATH: &str = "/connect/token";
/// The userinfo endpoint.
pub(crate) const USERINFO_PATH: &str = "/connect/userinfo";
/// Token introspection (RFC 7662).
pub(crate) const INTROSPECTION_PATH: &str = "/connect/introspect";
/// Token revocation (RFC 7009).
pub(crate) const REVOCATION_PATH: &str = "/connect/revocation";
/// RP-initiated logout.
pub(crate) const END_SESSION_PATH: &str = "/connect/endsession";

//! Client applications and their secrets.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The `offline_access` scope, which asks for a refresh token.
pub const OFFLINE_ACCESS_SCOPE: &str = "offline_access";

/// The token-endpoint grant types this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// `authorization_code`: the interactive code flow through the authorize endpoint (with
    /// PKCE, see [`Client::require_pkce`]).
    AuthorizationCode,
    /// `client_credentials`: a client acting for itself.
    ClientCredentials,
    /// `password`: the resource owner password credentials grant. Off unless the client lists it
    /// and the server has a [`crate::ResourceOwnerPasswordValidator`].
    Password,
    /// `refresh_token`: allowed for every client that may have refresh tokens (see
    /// [`Client::allows_offline_access`]); listing it in `allowed_grant_types` changes nothing.
    RefreshToken,
}

impl GrantType {
    /// Every grant type, in the order discovery lists them.
    pub(crate) const ALL: [Self; 4] =
        [Self::AuthorizationCode, Self::ClientCredentials, Self::Password, Self::RefreshToken];

    /// The protocol name, e.g. `client_credentials`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// The grant type with protocol name `name`, if implemented.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant_type| grant_type.as_str() == name)
    }
}

/// What happens to a refresh token when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokenUsage {
    /// Each use returns a new refresh token and consumes the old one; presenting a consumed token
    /// again is treated as theft and revokes every token of that grant.
    #[default]
    OneTime,
    /// The same refresh token stays valid until it expires.
    ReUse,
}

/// A client secret stored as IdentityServer stores it: the standard base64 of its SHA-256 hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    /// Base64 (standard alphabet, padded) of SHA-256 over the secret's UTF-8 bytes.
    pub value: String,
    /// A note for administrators.
    #[serde(default)]
    pub description: Option<String>,
    /// After this instant the secret no longer authenticates.
    #[serde(default)]
    pub expiration: Option<DateTime<Utc>>,
}

impl ClientSecret {
    /// Hashes a plain-text secret for storage.
    pub fn sha256(plain_text: &str) -> Self {
        Self::from_hash(STANDARD.encode(Sha256::digest(plain_text.as_bytes())))
    }

    /// A secret from an already computed hash (base64 of SHA-256).
    pub fn from_hash(value: impl Into<String>) -> Self {
        Self { value: value.into(), description: None, expiration: None }
    }

    /// Whether `presented` is this secret and the secret has not expired at `now`. The hashes are
    /// compared in constant time.
    pub fn matches(&self, presented: &str, now: DateTime<Utc>) -> bool {
        if self.expiration.is_some_and(|expiration| expiration <= now) {
            return false;
        }
        let Ok(stored_hash) = STANDARD.decode(&self.value) else {
            return false;
        };
        let presented_hash = Sha256::digest(presented.as_bytes());
        bool::from(stored_hash.as_slice().ct_eq(presented_hash.as_slice()))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("value", &"[redacted]")
            .field("description", &self.description)
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// A client application registered with the server. Defaults follow IdentityServer's `Client`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Client {
    /// The client identifier.
    pub client_id: String,
    /// A display name.
    pub client_name: Option<String>,
    /// The client's logo, shown on the login and consent pages (Duende's `LogoUri`).
    pub logo_uri: Option<String>,
    /// A disabled client cannot authenticate. Default `true`.
    pub enabled: bool,
    /// Hashed secrets; any unexpired one authenticates the client.
    pub client_secrets: Vec<ClientSecret>,
    /// Whether the client must present a secret (a confidential client). Default `true`.
    pub require_client_secret: bool,
    /// Grant types the client may use at the token endpoint.
    pub allowed_grant_types: Vec<GrantType>,
    /// Redirect URIs for the authorization-code flow (exact match).
    pub redirect_uris: Vec<String>,
    /// Where the client may ask to be sent after logout (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes (identity resources and API scopes) the client may request.
    pub allowed_scopes: Vec<String>,
    /// Whether the authorization-code flow requires PKCE. Default `true`.
    pub require_pkce: bool,
    /// Whether the client may request `offline_access` (refresh tokens). Default `false`.
    pub allow_offline_access: bool,
    /// Whether the user must consent at the authorize endpoint. Default `false`.
    pub require_consent: bool,
    /// Whether the client's users must have signed in with more than one factor: a session
    /// whose `amr` lacks `mfa` gets no code and goes to the login page, as if it had asked for
    /// `prompt=login` (`login_required` with `prompt=none`). The login page reads it from
    /// [`crate::AuthorizationContext::require_two_factor`]. Default `false`.
    pub require_two_factor: bool,
    /// Whether the user may have a consent remembered, so that it is not asked again. Default
    /// `true`.
    pub allow_remember_consent: bool,
    /// How long a remembered consent lasts; `None` (the default) until it is revoked.
    pub consent_lifetime: Option<TimeDelta>,
    /// Whether id tokens carry the user claims of the identity scopes even though an access token
    /// is issued alongside (the client could ask userinfo). Default `false`: id tokens from the
    /// code flow carry only the subject's protocol claims, as in IdentityServer.
    pub always_include_user_claims_in_id_token: bool,
    /// Lifetime of authorization codes. Default five minutes.
    pub authorization_code_lifetime: TimeDelta,
    /// Lifetime of id tokens. Default five minutes.
    pub identity_token_lifetime: TimeDelta,
    /// Lifetime of access tokens. Default one hour.
    pub access_token_lifetime: TimeDelta,
    /// Absolute lifetime of a refresh-token grant, counted from the first issue; rotation does not
    /// extend it. Default 30 days.
    pub refresh_token_lifetime: TimeDelta,
    /// Rotation behaviour of refresh tokens. Default [`RefreshTokenUsage::OneTime`].
    pub refresh_token_usage: RefreshTokenUsage,
    /// Custom per-client values for extensions, as IdentityServer's `Client.Properties`: the
    /// server itself never reads them (an adapter's per-client options live here).
    pub properties: std::collections::BTreeMap<String, String>,
    /// Where the client receives back-channel logout tokens (OpenID Connect Back-Channel Logout
    /// 1.0) when a session it got tokens from ends. Default none.
    pub backchannel_logout_uri: Option<String>,
    /// Whether the client needs the `sid` claim in logout tokens. Default `true` (the server
    /// always sends it).
    pub backchannel_logout_session_required: bool,
    /// The client's page that the host's logged-out page loads in an invisible iframe when a
    /// session the client got tokens from ends in the browser (OpenID Connect Front-Channel
    /// Logout 1.0). An absolute URL; the host's page must allow its origin as a frame. Default
    /// none.
    pub frontchannel_logout_uri: Option<String>,
    /// Whether the front-channel logout URL gets `iss` and `sid` query parameters, so that the
    /// client can tell which session ended. Default `true`, as IdentityServer.
    pub frontchannel_logout_session_required: bool,
    /// Origins (`scheme://host[:port]`, as browsers send them in `Origin`) whose pages may call
    /// the discovery, JWKS, token, userinfo and revocation endpoints from script: a single-page
    /// application's (IdentityServer's `AllowedCorsOrigins`). Default none.
    pub allowed_cors_origins: Vec<String>,
}

impl Client {
    /// A client with IdentityServer's defaults, no secrets, no grant types and no scopes.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_name: None,
            logo_uri: None,
            enabled: true,
            client_secrets: Vec::new(),
            require_client_secret: true,
            allowed_grant_types: Vec::new(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            allowed_scopes: Vec::new(),
            require_pkce: true,
            allow_offline_access: false,
            require_consent: false,
            require_two_factor: false,
            allow_remember_consent: true,
            consent_lifetime: None,
            always_include_user_claims_in_id_token: false,
            authorization_code_lifetime: TimeDelta::minutes(5),
            identity_token_lifetime: TimeDelta::minutes(5),
            access_token_lifetime: TimeDelta::hours(1),
            refresh_token_lifetime: TimeDelta::days(30),
            refresh_token_usage: RefreshTokenUsage::OneTime,
            properties: std::collections::BTreeMap::new(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: true,
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: true,
            allowed_cors_origins: Vec::new(),
        }
    }

    /// Adds a secret, hashing the plain text.
    #[must_use]
    pub fn with_secret(mut self, plain_text: &str) -> Self {
        self.client_secrets.push(ClientSecret::sha256(plain_text));
        self
    }

    /// Sets the allowed grant types.
    #[must_use]
    pub fn with_grant_types(mut self, grant_types: impl IntoIterator<Item = GrantType>) -> Self {
        self.allowed_grant_types = grant_types.into_iter().collect();
        self
    }

    /// Sets the allowed scopes.
    #[must_use]
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.allowed_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the redirect URIs of the authorization-code flow.
    #[must_use]
    pub fn with_redirect_uris<S: Into<String>>(mut self, uris: impl IntoIterator<Item = S>) -> Self {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the URIs the client may ask to be sent to after logout.
    #[must_use]
    pub fn with_post_logout_redirect_uris<S: Into<String>>(mut self, uris: impl IntoIterator<Item = S>) -> Self {
        self.post_logout_redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Allows refresh tokens (`offline_access`).
    #[must_use]
    pub fn with_offline_access(mut self) -> Self {
        self.allow_offline_access = true;
        self
    }

    /// Whether the client may request `offline_access`: either flagged, or the scope is listed.
    pub fn allows_offline_access(&self) -> bool {
        self.allow_offline_access || self.allowed_scopes.iter().any(|scope| scope == OFFLINE_ACCESS_SCOPE)
    }

    /// Whether the client may use `grant_type` at the token endpoint.
    pub fn allows_grant_type(&self, grant_type: GrantType) -> bool {
        match grant_type {
            GrantType::RefreshToken => self.allows_offline_access(),
            other => self.allowed_grant_types.contains(&other),
        }
    }

    /// Whether `url` is one of the client's redirect URIs, possibly with query parameters added
    /// (`code`, `error`, …) after those it has.
    pub fn is_redirect_target(&self, url: &str) -> bool {
        self.redirect_uris.iter().any(|registered| {
            let separator = if registered.contains('?') { '&' } else { '?' };
            url.strip_prefix(registered.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(separator))
        })
    }

    /// Whether `presented` matches one of the client's unexpired secrets.
    pub fn has_secret(&self, presented: &str, now: DateTime<Utc>) -> bool {
        // Every secret is checked, so the time taken does not reveal which one matched.
        self.client_secrets.iter().fold(false, |matched, secret| secret.matches(presented, now) | matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stored_as_identityserver_hashes() {
        // SHA-256 of "secret", base64: what IdentityServer's "secret".Sha256() stores.
        let secret = ClientSecret::sha256("secret");
        assert_eq!(secret.value, "K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
        let now = test_support::clock::start();
        assert!(secret.matches("secret", now));
        assert!(!secret.matches("Secret", now));
        assert!(!secret.matches("", now));
    }

    #[test]
    fn expired_secrets_do_not_match() {
        let now = test_support::clock::start();
        let mut secret = ClientSecret::sha256("secret");
        secret.expiration = Some(now);
        assert!(!secret.matches("secret", now));
        assert!(secret.matches("secret", now - TimeDelta::seconds(1)));
    }

    #[test]
    fn debug_output_hides_the_secret_hash() {
        let client = Client::new("c").with_secret("secret");
        assert!(!format!("{client:?}").contains("K7gNU3"));
    }

    #[test]
    fn grant_types_round_trip_their_names() {
        for grant_type in GrantType::ALL {
            assert_eq!(GrantType::from_name(grant_type.as_str()), Some(grant_type));
            let json = serde_json::to_string(&grant_type).expect("serialises");
            assert_eq!(json, format!("\"{}\"", grant_type.as_str()));
        }
        assert_eq!(GrantType::from_name("implicit"), None);
    }

    #[test]
    fn redirect_targets_are_registered_uris_with_added_parameters() {
        let client = Client::new("c").with_redirect_uris(["https://app/cb", "https://app/q?x=1"]);
        assert!(client.is_redirect_target("https://app/cb"));
        assert!(client.is_redirect_target("https://app/cb?code=1&state=2"));
        assert!(client.is_redirect_target("https://app/q?x=1&error=access_denied"));
        assert!(!client.is_redirect_target("https://app/cbx"));
        assert!(!client.is_redirect_target("https://app/cb.evil.example"));
        assert!(!client.is_redirect_target("https://app/q?x=12"));
        assert!(!client.is_redirect_target("https://app"));
    }

    #[test]
    fn refresh_follows_offline_access() {
        let client = Client::new("c").with_scopes(["api", "offline_access"]);
        assert!(client.allows_grant_type(GrantType::RefreshToken));
        assert!(!client.allows_grant_type(GrantType::Password));
        assert!(!Client::new("c").allows_grant_type(GrantType::RefreshToken));
    }
}

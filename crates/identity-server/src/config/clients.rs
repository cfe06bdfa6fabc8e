//! A client as the configuration file writes it (a `[[clients]]` entry) and as the database
//! stores it (the same keys, in JSON), and its conversion into the token server's client, with
//! the rules that keep a client from being usable by anyone but itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;
use clap::ValueEnum;
use identity_oidc::ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR;
use oidc_server::{Client, ClientSecret, GrantType, RefreshTokenUsage};
use serde::{Deserialize, Serialize};

use crate::error::{Failure, Result};

/// The prefix of a client secret given as IdentityServer stores it.
pub(crate) const SHA256_PREFIX: &str = "sha256:";

/// A grant type as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub(crate) enum GrantTypeName {
    AuthorizationCode,
    ClientCredentials,
    Password,
    RefreshToken,
}

/// A refresh-token usage as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub(crate) enum RefreshTokenUsageName {
    OneTime,
    Reuse,
}

/// A `[[clients]]` entry. Absent keys keep IdentityServer's client defaults.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientConfig {
    pub(crate) client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_name: Option<String>,
    /// The logo shown on the login and consent pages (https, or http on loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) secrets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) require_client_secret: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) grant_types: Vec<GrantTypeName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) require_pkce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) require_consent: Option<bool>,
    /// Sends the client's users through two-factor (enrolling an authenticator app first when
    /// they have no second factor). Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) require_two_factor: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) access_token_lifetime: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token_lifetime: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token_usage: Option<RefreshTokenUsageName>,
    /// Lets the password grant sign in users with two-factor enabled on the password alone
    /// (Duende's behaviour; weaker). Default `false`: such users are refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) allow_password_grant_with_two_factor: bool,
    /// Where the client receives back-channel logout tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backchannel_logout_uri: Option<String>,
    /// Whether the client needs `sid` in logout tokens (always sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backchannel_logout_session_required: Option<bool>,
    /// The page the logged-out page loads in an iframe when a session of the client ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) frontchannel_logout_uri: Option<String>,
    /// Whether that page gets `iss` and `sid` (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) frontchannel_logout_session_required: Option<bool>,
    /// Origins whose pages may call the token endpoint and the others from script (CORS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) allowed_cors_origins: Vec<String>,
}

/// A configured CORS origin as browsers send it (`scheme://host[:port]`, lower case, no default
/// port): https, or http on a loopback host, and nothing after the authority.
fn cors_origin(origin: &str) -> std::result::Result<String, String> {
    let refused = |rule: &str| format!("allowed_cors_origins entry `{origin}` {rule}");
    let parsed = url::Url::parse(origin).map_err(|_| refused("is not a URL"))?;
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() || origin.ends_with('/') {
        return Err(refused("must be an origin: scheme, host and port only, without a path"));
    }
    check_redirect_uri(origin).map_err(refused)?;
    Ok(parsed.origin().ascii_serialization())
}

impl ClientConfig {
    /// A client with only its id: IdentityServer's client defaults for everything else.
    pub(crate) fn new(client_id: String) -> Self {
        Self { client_id, ..Self::default() }
    }

    /// The settings of a stored client, as [`to_document`](Self::to_document) wrote them.
    pub(crate) fn from_document(document: &str) -> Result<Self> {
        serde_json::from_str(document).map_err(|error| Failure::new(format!("not a client definition: {error}")))
    }

    /// The stored form: JSON with the keys of a `[[clients]]` entry.
    pub(crate) fn to_document(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|error| Failure::new(format!("cannot write the client: {error}")))
    }

    /// The same as the body of a `[[clients]]` entry of the configuration file.
    pub(crate) fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|error| Failure::new(format!("cannot write the client: {error}")))
    }

    /// The token server's client, with secrets hashed and every value checked by the rules of
    /// [`check_safety`](Self::check_safety). Plain-text secrets are logged as warnings.
    pub(crate) fn to_client(&self) -> Result<Client> {
        let invalid = |reason: String| Failure::new(format!("client `{}`: {reason}", self.client_id));
        if self.client_id.trim().is_empty() {
            return Err(Failure::new("a client has an empty client_id"));
        }
        let mut client = Client::new(self.client_id.clone());
        client.client_name = self.client_name.clone();
        client.logo_uri = self.logo_uri.clone();
        client.client_secrets = self.secrets.iter().map(|secret| self.secret(secret)).collect::<Result<_>>()?;
        client.require_client_secret = self.require_client_secret.unwrap_or(client.require_client_secret);
        if client.require_client_secret && client.client_secrets.is_empty() {
            return Err(invalid(
                "it has no secrets, so it could never authenticate (add `secrets`, or set `require_client_secret = false` for a public client)".into(),
            ));
        }
        client.allowed_grant_types = self.grant_types.iter().map(|name| Self::grant_type(*name)).collect();
        client.allowed_scopes = self.scopes.clone();
        client.redirect_uris = self.redirect_uris.clone();
        client.post_logout_redirect_uris = self.post_logout_redirect_uris.clone();
        client.backchannel_logout_uri = self.backchannel_logout_uri.clone();
        client.backchannel_logout_session_required =
            self.backchannel_logout_session_required.unwrap_or(client.backchannel_logout_session_required);
        client.frontchannel_logout_uri = self.frontchannel_logout_uri.clone();
        client.frontchannel_logout_session_required =
            self.frontchannel_logout_session_required.unwrap_or(client.frontchannel_logout_session_required);
        client.allowed_cors_origins = self
            .allowed_cors_origins
            .iter()
            .map(|origin| cors_origin(origin).map_err(&invalid))
            .collect::<Result<_>>()?;
        client.require_pkce = self.require_pkce.unwrap_or(client.require_pkce);
        client.require_consent = self.require_consent.unwrap_or(client.require_consent);
        client.require_two_factor = self.require_two_factor;
        if let Some(seconds) = self.access_token_lifetime {
            client.access_token_lifetime =
                lifetime(seconds).ok_or_else(|| invalid("access_token_lifetime must be positive".into()))?;
        }
        if let Some(seconds) = self.refresh_token_lifetime {
            client.refresh_token_lifetime =
                lifetime(seconds).ok_or_else(|| invalid("refresh_token_lifetime must be positive".into()))?;
        }
        client.refresh_token_usage = match self.refresh_token_usage {
            None => client.refresh_token_usage,
            Some(RefreshTokenUsageName::OneTime) => RefreshTokenUsage::OneTime,
            Some(RefreshTokenUsageName::Reuse) => RefreshTokenUsage::ReUse,
        };
        if self.allow_password_grant_with_two_factor {
            client.properties.insert(ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR.to_owned(), "true".to_owned());
        }
        Self::check_safety(&client).map_err(invalid)?;
        if !client.require_pkce {
            tracing::warn!(client_id = ?client.client_id, "require_pkce = false: authorization codes of this client can be injected; keep PKCE on unless the client cannot send it");
        }
        Ok(client)
    }

    /// The rules that keep a client from being usable by anyone but itself (OAuth 2.0 Security
    /// BCP, RFC 8252): a public client (no secret) may use neither `client_credentials` nor
    /// `password` (anyone could mint its tokens) and must rotate refresh tokens; every redirect
    /// URI is `https`, `http` on a loopback host, or a private-use scheme in reverse-DNS form; a
    /// front-channel logout URI shares a redirect URI's origin; a client requiring two-factor has
    /// no password grant.
    fn check_safety(client: &Client) -> std::result::Result<(), String> {
        if !client.require_client_secret {
            for grant_type in [GrantType::ClientCredentials, GrantType::Password] {
                if client.allowed_grant_types.contains(&grant_type) {
                    return Err(format!(
                        "a public client (require_client_secret = false) may not use the {} grant: anyone knowing its client_id could",
                        grant_type.as_str()
                    ));
                }
            }
            if client.refresh_token_usage == RefreshTokenUsage::ReUse {
                return Err("a public client (require_client_secret = false) must rotate refresh tokens: refresh_token_usage = \"reuse\" is not allowed".into());
            }
        }
        for uri in client.redirect_uris.iter().chain(&client.post_logout_redirect_uris) {
            check_redirect_uri(uri).map_err(|rule| format!("redirect URI `{uri}` {rule}"))?;
        }
        let web_urls = [
            ("backchannel_logout_uri", &client.backchannel_logout_uri),
            ("frontchannel_logout_uri", &client.frontchannel_logout_uri),
            ("logo_uri", &client.logo_uri),
        ];
        for (name, uri) in web_urls {
            if let Some(uri) = uri {
                let web = url::Url::parse(uri).is_ok_and(|parsed| ["https", "http"].contains(&parsed.scheme()));
                let checked = if web { check_redirect_uri(uri) } else { Err("is not an https (or loopback http) URL") };
                checked.map_err(|rule| format!("{name} `{uri}` {rule}"))?;
            }
        }
        // Front-Channel Logout 1.0 §2: the page lives where the client's redirect URIs do.
        if let Some(uri) = &client.frontchannel_logout_uri {
            let origin = |uri: &str| url::Url::parse(uri).ok().map(|parsed| parsed.origin());
            if !client
                .redirect_uris
                .iter()
                .any(|redirect| origin(redirect).is_some() && origin(redirect) == origin(uri))
            {
                return Err(format!(
                    "frontchannel_logout_uri `{uri}` must have the scheme, host and port of one of the client's redirect URIs"
                ));
            }
        }
        if client.require_two_factor && client.allowed_grant_types.contains(&GrantType::Password) {
            return Err("require_two_factor = true cannot go with the password grant, which has no second step".into());
        }
        Ok(())
    }

    /// A secret as the server stores it: hashed now when given in plain text.
    fn secret(&self, secret: &str) -> Result<ClientSecret> {
        match secret.strip_prefix(SHA256_PREFIX) {
            Some(hash) => match STANDARD.decode(hash) {
                Ok(bytes) if bytes.len() == 32 => Ok(ClientSecret::from_hash(hash)),
                _ => Err(Failure::new(format!(
                    "client `{}`: a secret starting with `{SHA256_PREFIX}` must continue with the standard base64 of a SHA-256 hash (44 characters)",
                    self.client_id
                ))),
            },
            None => {
                tracing::warn!(
                    client_id = %self.client_id,
                    "a client secret is written in plain text in the configuration; write `sha256:` followed by \
                     base64(SHA-256(secret)) instead (see docs/configuration.md)"
                );
                Ok(ClientSecret::sha256(secret))
            }
        }
    }

    /// The server's grant type.
    fn grant_type(name: GrantTypeName) -> GrantType {
        match name {
            GrantTypeName::AuthorizationCode => GrantType::AuthorizationCode,
            GrantTypeName::ClientCredentials => GrantType::ClientCredentials,
            GrantTypeName::Password => GrantType::Password,
            GrantTypeName::RefreshToken => GrantType::RefreshToken,
        }
    }
}

/// A redirect URI's scheme and host are safe to send codes to: `https`; `http` only on a loopback
/// host (RFC 8252 §7.3); otherwise a private-use scheme with a period, as RFC 8252 §7.1 asks of
/// native apps (`com.example.app:/callback`), which rules out `javascript:`, `data:` and `file:`.
fn check_redirect_uri(uri: &str) -> std::result::Result<(), &'static str> {
    let parsed = url::Url::parse(uri).map_err(|_| "is not an absolute URI")?;
    if parsed.fragment().is_some() {
        return Err("has a fragment, which RFC 6749 §3.1.2 forbids");
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Domain(domain)) if domain.eq_ignore_ascii_case("localhost") => Ok(()),
            Some(url::Host::Ipv4(address)) if address.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(address)) if address.is_loopback() => Ok(()),
            _ => Err("uses plain http on a host that is not loopback; use https"),
        },
        scheme if scheme.contains('.') => Ok(()),
        _ => Err("uses a scheme that is neither https, http on loopback, nor a reverse-DNS private-use scheme"),
    }
}

/// A positive number of seconds as a lifetime.
fn lifetime(seconds: u32) -> Option<TimeDelta> {
    (seconds > 0).then(|| TimeDelta::seconds(i64::from(seconds)))
}

/// The client that a stored document defines, checked by the file's rules; `client_id` is the
/// id it is stored under, which the document must repeat.
pub(crate) fn client_from_document(client_id: &str, document: &str) -> Result<Client> {
    let config = ClientConfig::from_document(document)?;
    if config.client_id != client_id {
        return Err(Failure::new(format!("its definition is of another client, `{}`", config.client_id)));
    }
    config.to_client()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_client_reads_back_as_written_and_shows_as_a_file_entry() {
        let mut config = ClientConfig::new("web".into());
        config.client_name = Some("Web".into());
        config.secrets = vec![format!("{SHA256_PREFIX}{}", ClientSecret::sha256("s3cret").value)];
        config.grant_types = vec![GrantTypeName::AuthorizationCode, GrantTypeName::RefreshToken];
        config.redirect_uris = vec!["https://web.example/cb".into()];
        config.refresh_token_usage = Some(RefreshTokenUsageName::OneTime);
        let document = config.to_document().expect("written");
        assert_eq!(
            document,
            r#"{"client_id":"web","client_name":"Web","secrets":["sha256:HsHCa1DV08WNlYMYGvgHZlX+AHVr9yhZQLo2cPmfy6A="],"grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://web.example/cb"],"refresh_token_usage":"one_time"}"#,
            "only what was set, in the file's keys"
        );
        let client = client_from_document("web", &document).expect("valid");
        assert!(client.has_secret("s3cret", test_support::clock::start()));
        assert_eq!(client.allowed_grant_types, [GrantType::AuthorizationCode, GrantType::RefreshToken]);

        let entry =
            format!("[[clients]]\n{}", ClientConfig::from_document(&document).expect("read").to_toml().expect("TOML"));
        let file = crate::config::parse(&entry, "shown").expect("`clients show` output is a valid file entry");
        assert_eq!(file.server_model().expect("valid").clients[0].redirect_uris, ["https://web.example/cb"]);

        let error = client_from_document("other", &document).expect_err("another id");
        assert!(error.to_string().contains("of another client, `web`"), "{error}");
        let error = client_from_document("web", r#"{"client_id":"web","grant_types":["implicit"]}"#).expect_err("bad");
        assert!(error.to_string().contains("not a client definition"), "{error}");
    }
}

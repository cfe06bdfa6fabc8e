//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use super::error::OAuthError;
use super::form::FormParams;
use crate::model::client::Client;
use crate::state::ServerState;

/// Standard base64 that accepts credentials with or without padding, as clients differ.
const BASIC_CREDENTIALS_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Credentials a client presented.
struct PresentedCredentials {
    client_id: String,
    secret: Option<String>,
}

/// Undoes the `application/x-www-form-urlencoded` encoding RFC 6749 §2.3.1 applies to the id and
/// secret before they are joined and base64-encoded.
fn form_url_decode(value: &str) -> Option<String> {
    let spaces_restored = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaces_restored).decode_utf8().ok().map(|decoded| decoded.into_owned())
}

fn parse_basic_credentials(header_value: &str) -> Option<PresentedCredentials> {
    let (scheme, encoded) = header_value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASIC_CREDENTIALS_BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (client_id, secret) = decoded.split_once(':')?;
    let client_id = form_url_decode(client_id).filter(|client_id| !client_id.is_empty())?;
    let secret = form_url_decode(secret)?;
    Some(PresentedCredentials { client_id, secret: Some(secret).filter(|secret| !secret.is_empty()) })
}

/// Reads the presented credentials from the `Authorization` header or the form body; using both
/// is an `invalid_request` (RFC 6749 §2.3: one method per request).
fn presented_credentials(headers: &HeaderMap, form: &FormParams) -> Result<PresentedCredentials, OAuthError> {
    let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
    let Some(header_value) = authorization.next() else {
        let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
        return Ok(PresentedCredentials {
            client_id: client_id.to_owned(),
            secret: form.get("client_secret").map(str::to_owned),
        });
    };
    if authorization.next().is_some() {
        return Err(OAuthError::invalid_request("only one Authorization header may be sent"));
    }
    let credentials =
        header_value.to_str().ok().and_then(parse_basic_credentials).ok_or_else(OAuthError::invalid_client)?;
    if form.get("client_secret").is_some() {
        return Err(OAuthError::invalid_request("only one client authentication method may be used"));
    }
    if form.get("client_id").is_some_and(|client_id| client_id != credentials.client_id) {
        return Err(OAuthError::invalid_request("client_id does not match the Authorization header"));
    }
    Ok(credentials)
}

/// Authenticates the calling client, answering `invalid_client` for unknown or disabled clients
/// and wrong or missing secrets alike.
pub(crate) async fn authenticate_client(
    state: &ServerState,
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<Client, OAuthError> {
    let credentials = presented_credentials(headers, form)?;
    let Some(client) = state.enabled_client(&credentials.client_id).await? else {
        tracing::info!(client_id = ?credentials.client_id, "unknown or disabled client");
        return Err(OAuthError::invalid_client());
    };
    if client.require_client_secret {
        let now = state.clock.now();
        let secret_matches = credentials.secret.as_deref().is_some_and(|secret| client.has_secret(secret, now));
        if !secret_matches {
            tracing::info!(client_id = %client.client_id, "client secret missing or wrong");
            return Err(OAuthError::invalid_client());
        }
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose;

    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", general_purpose::STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_url_decoded() {
        let credentials = parse_basic_credentials(&basic("my%3Aclient", "s%2Bcret+x%25")).expect("valid credentials");
        assert_eq!(credentials.client_id, "my:client");
        assert_eq!(credentials.secret.as_deref(), Some("s+cret x%"));
    }

    #[test]
    fn malformed_basic_credentials_are_rejected() {
        assert!(parse_basic_credentials("Bearer abc").is_none());
        assert!(parse_basic_credentials("Basic !!!").is_none());
        assert!(parse_basic_credentials(&basic("", "secret")).is_none());
        let no_colon = format!("Basic {}", general_purpose::STANDARD.encode("client"));
        assert!(parse_basic_credentials(&no_colon).is_none());
        let bad_escape = parse_basic_credentials(&basic("client", "%FF"));
        assert!(bad_escape.is_none());
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let unpadded = format!("basic {}", general_purpose::STANDARD_NO_PAD.encode("client:secret1"));
        let credentials = parse_basic_credentials(&unpadded).expect("valid credentials");
        assert_eq!(credentials.secret.as_deref(), Some("secret1"));
    }
}

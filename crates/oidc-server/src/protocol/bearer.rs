//! Bearer tokens at protected resources (RFC 6750): reading the token and answering with a
//! `WWW-Authenticate` challenge.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a bearer-protected request was refused (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerChallenge {
    /// No credentials at all: a bare challenge without an error code (§3.1).
    Missing,
    /// Malformed credentials: 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// Invalid, expired or revoked token, or an inactive user: 401 `invalid_token`.
    InvalidToken(&'static str),
    /// The token lacks the scope named here: 403 `insufficient_scope`.
    InsufficientScope(&'static str),
}

impl IntoResponse for BearerChallenge {
    fn into_response(self) -> Response {
        let (status, challenge) = match self {
            Self::Missing => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
            Self::InvalidRequest(description) => (
                StatusCode::BAD_REQUEST,
                format!("Bearer error=\"invalid_request\", error_description=\"{description}\""),
            ),
            Self::InvalidToken(description) => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
            ),
            Self::InsufficientScope(scope) => {
                (StatusCode::FORBIDDEN, format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""))
            }
        };
        // The descriptions are fixed strings of this crate, so the header is always valid.
        let challenge = HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        (status, [(header::WWW_AUTHENTICATE, challenge)]).into_response()
    }
}

/// The bearer token of the `Authorization` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerChallenge> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(BearerChallenge::Missing);
    };
    if values.next().is_some() {
        return Err(BearerChallenge::InvalidRequest("only one Authorization header may be sent"));
    }
    let malformed = BearerChallenge::InvalidRequest("malformed Bearer credentials");
    let value = value.to_str().map_err(|_| malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerChallenge::Missing);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(bearer_token(&headers(&["Bearer abc.def"])), Ok("abc.def"));
        assert_eq!(bearer_token(&headers(&["bearer abc"])), Ok("abc"));
    }

    #[test]
    fn rejects_missing_and_malformed_credentials() {
        assert_eq!(bearer_token(&headers(&[])), Err(BearerChallenge::Missing));
        assert_eq!(bearer_token(&headers(&["Basic abc"])), Err(BearerChallenge::Missing));
        assert!(matches!(bearer_token(&headers(&["Bearer"])), Err(BearerChallenge::InvalidRequest(_))));
        assert!(matches!(bearer_token(&headers(&["Bearer a b"])), Err(BearerChallenge::InvalidRequest(_))));
        assert!(matches!(bearer_token(&headers(&["Bearer a", "Bearer b"])), Err(BearerChallenge::InvalidRequest(_))));
    }
}

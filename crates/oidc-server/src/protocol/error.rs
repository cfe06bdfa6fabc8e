//! OAuth 2.0 error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, OpenID Connect Core
//! §3.1.2.6) and the JSON error responses of the token, introspection and revocation endpoints.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::response::no_store_json;
use crate::error::Error;

/// An OAuth 2.0 error code as sent in the `error` member of an error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A parameter is missing, repeated, malformed or unsupported.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The grant (credentials, refresh token) is invalid, expired, revoked or belongs to another
    /// client.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The server does not support this grant type.
    UnsupportedGrantType,
    /// The authorize endpoint does not support this `response_type` (only `code` is).
    UnsupportedResponseType,
    /// The user or the server denied the authorization request.
    AccessDenied,
    /// `prompt=none`, but the user would have to sign in.
    LoginRequired,
    /// `prompt=none`, but the user would have to consent.
    ConsentRequired,
    /// Request objects (`request`) are not supported.
    RequestNotSupported,
    /// Request objects by reference (`request_uri`) are not supported.
    RequestUriNotSupported,
    /// A requested scope is unknown or not allowed.
    InvalidScope,
    /// The server cannot revoke this kind of token (RFC 7009).
    UnsupportedTokenType,
    /// The server failed; the details are only in its logs.
    ServerError,
    /// The server is too busy right now; retry after the `Retry-After` seconds (RFC 6749 §4.1.2.1
    /// defines it for the authorization endpoint; the token endpoint uses it as an extension).
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The wire name, e.g. `invalid_grant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The `Retry-After` of a `temporarily_unavailable` answer: a password hash takes tens of
/// milliseconds, so a full queue has moved on within a second; a busy database is worth
/// another try as soon.
pub(crate) const RETRY_AFTER_SECONDS: &str = "1";

/// An error response of the token, introspection or revocation endpoint.
#[derive(Debug)]
pub(crate) struct OAuthError {
    code: ErrorCode,
    description: Option<Cow<'static, str>>,
    status: StatusCode,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl OAuthError {
    pub(crate) fn new(code: ErrorCode) -> Self {
        Self { code, description: None, status: code.status() }
    }

    pub(crate) fn with_description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub(crate) fn invalid_request(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidRequest).with_description(description)
    }

    pub(crate) fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient).with_description("client authentication failed")
    }

    pub(crate) fn invalid_grant(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidGrant).with_description(description)
    }

    pub(crate) fn invalid_scope(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidScope).with_description(description)
    }

    /// The request body exceeded the configured limit.
    pub(crate) fn payload_too_large() -> Self {
        Self { status: StatusCode::PAYLOAD_TOO_LARGE, ..Self::invalid_request("the request body is too large") }
    }

    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }

    pub(crate) fn description(&self) -> Option<&Cow<'static, str>> {
        self.description.as_ref()
    }
}

impl From<Error> for OAuthError {
    fn from(error: Error) -> Self {
        if let Error::Unavailable(reason) = &error {
            tracing::warn!(%reason, "request refused: the server is temporarily unavailable");
            return Self::new(ErrorCode::TemporarilyUnavailable).with_description("the server is busy; retry shortly");
        }
        // The client learns only that the server failed; the cause goes to the log.
        tracing::error!(error = %error, source = ?std::error::Error::source(&error), "request failed");
        Self::new(ErrorCode::ServerError)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.as_str(), error_description: self.description.as_deref() };
        let mut response = no_store_json(self.status, &body);
        if self.code == ErrorCode::TemporarilyUnavailable {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: a 401 must name the authentication scheme the client should use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oidc-server\""));
        }
        response
    }
}

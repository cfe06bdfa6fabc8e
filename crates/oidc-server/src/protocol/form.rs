//! Strict `application/x-www-form-urlencoded` request bodies.
//!
//! RFC 6749 §3.1/§3.2: parameters must not be repeated, and a parameter sent without a value is
//! treated as omitted. The body size is capped by the router's `DefaultBodyLimit` (413 beyond it).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};

use super::error::{ErrorCode, OAuthError};

const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";

/// The parameters of a form body, each present at most once. Deliberately not `Debug`: it holds
/// secrets and passwords.
pub(crate) struct FormParams {
    params: HashMap<String, String>,
}

impl FormParams {
    /// Parses a body, rejecting repeated parameter names.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if params.insert(name.into_owned(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request("request parameters must not be repeated"));
            }
        }
        Ok(Self { params })
    }

    /// The value of `name`; `None` when absent or empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    /// The value of a required parameter, or `invalid_request` naming it.
    pub(crate) fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::new(ErrorCode::InvalidRequest).with_description(format!("the `{name}` parameter is required"))
        })
    }
}

fn is_form_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(FORM_MEDIA_TYPE))
}

impl<S: Send + Sync> FromRequest<S> for FormParams {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form_content_type(request.headers()) {
            return Err(OAuthError::invalid_request("the request body must be application/x-www-form-urlencoded"));
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                OAuthError::payload_too_large()
            } else {
                OAuthError::invalid_request("the request body could not be read")
            }
        })?;
        Self::parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn repeated_parameters_are_rejected() {
        let error = FormParams::parse(b"grant_type=password&scope=a&scope=b").err();
        assert_eq!(error.map(|error| error.code()), Some(ErrorCode::InvalidRequest));
    }

    #[test]
    fn empty_values_count_as_omitted_and_values_are_decoded() {
        let params = FormParams::parse(b"scope=&username=al%20ice+b&x").expect("parses");
        assert_eq!(params.get("scope"), None);
        assert_eq!(params.get("x"), None);
        assert_eq!(params.get("username"), Some("al ice b"));
        assert!(params.require("scope").is_err());
    }

    #[test]
    fn media_type_parameters_and_case_are_accepted() {
        let mut headers = HeaderMap::new();
        assert!(!is_form_content_type(&headers));
        headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
        assert!(is_form_content_type(&headers));
    }
}

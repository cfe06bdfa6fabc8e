//! Strict `application/x-www-form-urlencoded` parameters, in request bodies and query strings.
//!
//! RFC 6749 §3.1/§3.2: parameters must not be repeated, and a parameter sent without a value is
//! treated as omitted. Names and values must be UTF-8 once percent-decoded: a lossy decoding
//! would let different bytes read as the same text. The body size is capped by the router's
//! `DefaultBodyLimit` (413 beyond it).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};

use super::error::{ErrorCode, OAuthError};

const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";
const REPEATED_PARAMETER: &str = "request parameters must not be repeated";
const UNDECODABLE_PARAMETER: &str = "request parameters must be UTF-8 after percent-decoding";

/// Decodes `application/x-www-form-urlencoded` bytes strictly: `+` is a space, `%XX` a byte, and
/// every name and value must then be UTF-8; `None` when one is not. Malformed escapes such as
/// `%zz` stay as they are, as browsers send them.
pub fn decode_form(encoded: &[u8]) -> Option<Vec<(String, String)>> {
    encoded
        .split(|byte| *byte == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
                Some(equals) => (&pair[..equals], &pair[equals + 1..]),
                None => (pair, &[][..]),
            };
            Some((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw.iter().map(|byte| if *byte == b'+' { b' ' } else { *byte }).collect();
    percent_encoding::percent_decode(&spaced).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

/// The parameters of a form body, each present at most once. Deliberately not `Debug`: it holds
/// secrets and passwords.
pub(crate) struct FormParams {
    params: HashMap<String, String>,
}

impl FormParams {
    /// Parses a body or query string; the error describes a repeated or undecodable parameter.
    pub(crate) fn try_parse(encoded: &[u8]) -> Result<Self, &'static str> {
        let mut params = HashMap::new();
        for (name, value) in decode_form(encoded).ok_or(UNDECODABLE_PARAMETER)? {
            if params.insert(name, value).is_some() {
                return Err(REPEATED_PARAMETER);
            }
        }
        Ok(Self { params })
    }

    /// Parses a body, rejecting repeated and undecodable parameters with `invalid_request`.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        Self::try_parse(body).map_err(OAuthError::invalid_request)
    }

    /// The parameters of a browser request: the query string of a GET, the form body of a POST
    /// (OpenID Connect Core §3.1.2.1). The error is a description for the error page.
    pub(crate) fn from_browser_request(
        method: &Method,
        headers: &HeaderMap,
        uri: &Uri,
        body: &[u8],
    ) -> Result<Self, &'static str> {
        let encoded = if method == Method::POST {
            if !is_form_content_type(headers) {
                return Err("the request body must be application/x-www-form-urlencoded");
            }
            body
        } else {
            uri.query().unwrap_or_default().as_bytes()
        };
        Self::try_parse(encoded)
    }

    /// Every non-empty parameter, ordered by name.
    pub(crate) fn sorted(&self) -> Vec<(&str, &str)> {
        let mut params: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        params.sort_unstable();
        params
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
    fn undecodable_parameters_are_rejected_never_decoded_lossily() {
        for body in [&b"username=al%FFice"[..], b"user%C3name=x", b"username=\xff", b"a=%E2%82"] {
            assert!(FormParams::try_parse(body).is_err(), "{body:?}");
        }
        assert_eq!(
            decode_form(b"a=%E2%82%AC&b=%zz&c"),
            Some(vec![
                ("a".to_owned(), "\u{20ac}".to_owned()),
                ("b".to_owned(), "%zz".to_owned()),
                ("c".to_owned(), String::new()),
            ])
        );
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
    fn browser_requests_read_the_query_of_a_get_and_the_form_of_a_post() {
        let uri: Uri = "/connect/authorize?b=2&a=1&empty=".parse().expect("uri");
        let get = FormParams::from_browser_request(&Method::GET, &HeaderMap::new(), &uri, b"ignored=1").expect("ok");
        assert_eq!(get.sorted(), [("a", "1"), ("b", "2")]);

        let mut form = HeaderMap::new();
        form.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        let post = FormParams::from_browser_request(&Method::POST, &form, &uri, b"c=3").expect("ok");
        assert_eq!(post.sorted(), [("c", "3")]);
        assert!(FormParams::from_browser_request(&Method::POST, &HeaderMap::new(), &uri, b"c=3").is_err());
        let repeated: Uri = "/x?a=1&a=2".parse().expect("uri");
        assert!(FormParams::from_browser_request(&Method::GET, &HeaderMap::new(), &repeated, b"").is_err());
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

//! CSRF protection for every form: a synchronizer token derived from a per-browser cookie, and
//! a check of the request's origin.
//!
//! * **Cookie.** Each browser gets 32 random bytes in a cookie (`idsrv.csrf`, `__Host-idsrv.csrf`
//!   on https: `HttpOnly`, `SameSite=Strict`, `Path=/`, one hour, renewed whenever a form is
//!   shown).
//! * **Token.** The hidden form field carries `HMAC-SHA256(key, cookie value)`, where the key is
//!   derived from the session secret (random per process without one). An attacker can neither
//!   read the cookie nor, without the key, compute the token for a cookie they planted; the token
//!   is compared in constant time.
//! * **Origin.** A POST whose `Origin` header is present and not the issuer's origin, or whose
//!   `Sec-Fetch-Site` is `cross-site`, is refused before the token is looked at. `Origin: null`
//!   counts as absent: it is what browsers send for the pages' own forms, because the pages'
//!   `Referrer-Policy: no-referrer` also withholds the origin of form posts (Fetch standard,
//!   "serializing a request origin"). A cross-site post with `null` is still refused by
//!   `Sec-Fetch-Site`, by the `SameSite=Strict` cookie, and by the token.
//!
//! A refused POST changes nothing and gets a 400 page.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::Params;

/// The form field that carries the token.
pub(crate) const CSRF_FIELD: &str = "__csrf";
/// How long the cookie lives, in seconds: the time a user has to submit a form.
const COOKIE_LIFETIME_SECONDS: u32 = 3600;
/// The cookie value's length: base64url of 32 bytes.
const COOKIE_VALUE_LENGTH: usize = 43;
/// What the key derivation from the session secret is for.
const KEY_LABEL: &[u8] = b"identity-server csrf token key v1";

/// Why a POST was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `Origin` names another origin, or `Sec-Fetch-Site` says cross-site.
    CrossOrigin,
    /// The token field or the cookie is missing, or they do not match.
    BadToken,
}

/// Issues and checks CSRF tokens.
pub(crate) struct Csrf {
    key: [u8; 32],
    cookie_name: &'static str,
    cookie_attributes: &'static str,
    /// `scheme://authority` of the issuer.
    origin: String,
}

impl std::fmt::Debug for Csrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csrf")
            .field("cookie_name", &self.cookie_name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The origin of an http(s) URL as browsers serialise it (RFC 6454): scheme and host in lower
/// case, the host in its ASCII form, no default port. `None` for anything else.
pub(crate) fn web_origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    (matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some())
        .then(|| parsed.origin().ascii_serialization())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl Csrf {
    /// Tokens for pages served at `issuer`, keyed from `secret` (the session secret) or, without
    /// one, from random bytes (tokens then die with the process, as sessions do).
    pub(crate) fn new(issuer: &str, secret: Option<&[u8]>) -> Self {
        let key = match secret {
            Some(secret) => hmac_sha256(secret, KEY_LABEL),
            None => {
                let mut key = [0_u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        let secure = issuer.starts_with("https://");
        Self {
            key,
            cookie_name: if secure { "__Host-idsrv.csrf" } else { "idsrv.csrf" },
            cookie_attributes: if secure {
                "; Path=/; HttpOnly; SameSite=Strict; Secure"
            } else {
                "; Path=/; HttpOnly; SameSite=Strict"
            },
            origin: web_origin(issuer).unwrap_or_else(|| issuer.to_owned()),
        }
    }

    /// The browser's CSRF cookie value, if it has a well-formed one.
    fn cookie<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value)
            .find(|value| {
                value.len() == COOKIE_VALUE_LENGTH
                    && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
            })
    }

    fn token_for(&self, cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac_sha256(&self.key, cookie.as_bytes()))
    }

    /// The token for a form shown to the browser that sent `headers`, and the `Set-Cookie`
    /// value that (re)sets its cookie for another hour: a new random one when it has none.
    pub(crate) fn issue(&self, headers: &HeaderMap) -> (String, HeaderValue) {
        let cookie = self.cookie(headers).map(str::to_owned).unwrap_or_else(|| {
            let mut random = [0_u8; 32];
            rand::rng().fill_bytes(&mut random);
            URL_SAFE_NO_PAD.encode(random)
        });
        let set_cookie =
            format!("{}={cookie}{}; Max-Age={COOKIE_LIFETIME_SECONDS}", self.cookie_name, self.cookie_attributes);
        let set_cookie = HeaderValue::from_str(&set_cookie).expect("base64url and fixed ASCII make a valid header");
        (self.token_for(&cookie), set_cookie)
    }

    /// Checks a POST: its origin, then its token against its cookie.
    pub(crate) fn verify(&self, headers: &HeaderMap, form: &Params) -> Result<(), Refusal> {
        if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site")) {
            return Err(Refusal::CrossOrigin);
        }
        if let Some(origin) = headers.get(header::ORIGIN)
            && origin != "null"
            && origin.to_str().ok().and_then(web_origin).as_deref() != Some(self.origin.as_str())
        {
            return Err(Refusal::CrossOrigin);
        }
        let (Some(cookie), Some(token)) = (self.cookie(headers), form.get(CSRF_FIELD)) else {
            return Err(Refusal::BadToken);
        };
        if bool::from(self.token_for(cookie).as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(Refusal::BadToken)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(
        csrf: &Csrf,
        cookie: Option<&HeaderValue>,
        extra: &[(&'static str, &str)],
        token: Option<&str>,
    ) -> Result<(), Refusal> {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = cookie {
            let pair = cookie.to_str().unwrap_or_default().split(';').next().unwrap_or_default().to_owned();
            headers.insert(
                header::COOKIE,
                HeaderValue::from_str(&format!("a=b; {pair}")).unwrap_or(HeaderValue::from_static("")),
            );
        }
        for (name, value) in extra {
            headers.insert(*name, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        }
        let form = Params::parse(token.map(|token| format!("{CSRF_FIELD}={token}")).unwrap_or_default().as_bytes())
            .expect("UTF-8");
        csrf.verify(&headers, &form)
    }

    #[test]
    fn a_token_matches_only_its_own_cookie_and_key() {
        let csrf = Csrf::new("http://127.0.0.1:5000", Some(b"a session secret of at least 32 bytes"));
        let (token, cookie) = csrf.issue(&HeaderMap::new());
        assert!(cookie.to_str().is_ok_and(|value| value.starts_with("idsrv.csrf=")
            && value.ends_with("; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600")));
        assert_eq!(post(&csrf, Some(&cookie), &[("origin", "http://127.0.0.1:5000")], Some(&token)), Ok(()));
        assert_eq!(post(&csrf, Some(&cookie), &[], Some(&token)), Ok(()), "no Origin header is fine");
        assert_eq!(post(&csrf, Some(&cookie), &[], None), Err(Refusal::BadToken));
        assert_eq!(post(&csrf, None, &[], Some(&token)), Err(Refusal::BadToken));
        let (_, other_cookie) = csrf.issue(&HeaderMap::new());
        assert_eq!(post(&csrf, Some(&other_cookie), &[], Some(&token)), Err(Refusal::BadToken));
        let other_key = Csrf::new("http://127.0.0.1:5000", Some(b"another session secret of 32+ bytes"));
        assert_eq!(post(&other_key, Some(&cookie), &[], Some(&token)), Err(Refusal::BadToken));
    }

    #[test]
    fn foreign_origins_are_refused() {
        let csrf = Csrf::new("https://id.example.com/base", None);
        let (token, cookie) = csrf.issue(&HeaderMap::new());
        assert!(
            cookie.to_str().is_ok_and(|value| value.starts_with("__Host-idsrv.csrf=") && value.contains("; Secure"))
        );
        assert_eq!(post(&csrf, Some(&cookie), &[("origin", "https://id.example.com")], Some(&token)), Ok(()));
        for origin in ["https://evil.example", "http://id.example.com", "https://id.example.com.evil.example"] {
            assert_eq!(
                post(&csrf, Some(&cookie), &[("origin", origin)], Some(&token)),
                Err(Refusal::CrossOrigin),
                "{origin}"
            );
        }
        assert_eq!(
            post(&csrf, Some(&cookie), &[("origin", "null")], Some(&token)),
            Ok(()),
            "no-referrer pages send null"
        );
        let null_cross_site = [("origin", "null"), ("sec-fetch-site", "cross-site")];
        assert_eq!(post(&csrf, Some(&cookie), &null_cross_site, Some(&token)), Err(Refusal::CrossOrigin));
        let same_origin = [("sec-fetch-site", "same-origin")];
        assert_eq!(post(&csrf, Some(&cookie), &same_origin, Some(&token)), Ok(()));
    }

    #[test]
    fn origins_are_compared_as_browsers_serialise_them() {
        assert_eq!(web_origin("https://id.example.com/base?x#y").as_deref(), Some("https://id.example.com"));
        assert_eq!(web_origin("http://127.0.0.1:5000").as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(web_origin("HTTPS://ID.Example.COM:443/").as_deref(), Some("https://id.example.com"));
        assert_eq!(web_origin("http://id.example.com:80").as_deref(), Some("http://id.example.com"));
        assert_eq!(web_origin("https://bücher.example").as_deref(), Some("https://xn--bcher-kva.example"));
        for not_web in ["/local", "com.example.app:/cb", "file:///etc/passwd", "not a url"] {
            assert_eq!(web_origin(not_web), None, "{not_web}");
        }

        // An issuer written with its default port or in capitals still accepts its own forms.
        let csrf = Csrf::new("https://ID.example.com:443/base", None);
        let (token, cookie) = csrf.issue(&HeaderMap::new());
        assert_eq!(post(&csrf, Some(&cookie), &[("origin", "https://id.example.com")], Some(&token)), Ok(()));
        let other_port = [("origin", "https://id.example.com:8443")];
        assert_eq!(post(&csrf, Some(&cookie), &other_port, Some(&token)), Err(Refusal::CrossOrigin));
        let garbage = [("origin", "https://")];
        assert_eq!(post(&csrf, Some(&cookie), &garbage, Some(&token)), Err(Refusal::CrossOrigin));
    }
}

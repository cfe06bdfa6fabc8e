//! Cookies a host seals with the server's data-protection key, for state a page keeps in the
//! browser between requests (the user between a password and a second factor, a browser
//! remembered for two-factor): encrypted and authenticated, bound to a purpose the host names,
//! and carrying their own expiry, so that a cookie kept past its `Max-Age` or moved to another
//! purpose opens to nothing.

use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, TimeDelta, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::crypto::Purpose;
use crate::error::{Error, Result};
use crate::server::OidcServer;
use crate::session::{MAXIMUM_COOKIE_LENGTH, cookie_attributes, cookie_values};

/// A sealed value and when it stops being valid.
#[derive(Serialize, Deserialize)]
struct Expiring<T> {
    expires: DateTime<Utc>,
    value: T,
}

/// Whether `name` is a valid cookie name (an RFC 6265 token).
fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&byte))
}

impl OidcServer {
    /// The name a host cookie has on the wire: `__Host-` in front on an https issuer, so that
    /// only this origin, over https, can set it.
    fn host_cookie_name(&self, name: &str) -> String {
        if self.state().session.secure() { format!("__Host-{name}") } else { name.to_owned() }
    }

    /// A `Set-Cookie` value holding `value` sealed for `purpose`, valid for `lifetime` by the
    /// server's clock (also written as `Max-Age`), `HttpOnly`, `SameSite=Lax`, `Path=/`, and
    /// `Secure` with the `__Host-` prefix on an https issuer. Errors when `name` is not a valid
    /// cookie name or the cookie would be too long for browsers to keep.
    pub fn protected_cookie(
        &self,
        name: &str,
        purpose: &'static str,
        value: &impl Serialize,
        lifetime: TimeDelta,
    ) -> Result<HeaderValue> {
        if !is_token(name) {
            return Err(Error::Interaction(format!("`{name}` is not a valid cookie name")));
        }
        let state = self.state();
        let sealed =
            state.protector.protect(Purpose::Host(purpose), &Expiring { expires: self.now() + lifetime, value })?;
        let cookie = format!(
            "{}={sealed}{}; Max-Age={}",
            self.host_cookie_name(name),
            cookie_attributes(state.session.secure()),
            lifetime.num_seconds().max(0)
        );
        if cookie.len() > MAXIMUM_COOKIE_LENGTH {
            return Err(Error::Interaction(format!("the cookie `{name}` would be {} bytes, too long", cookie.len())));
        }
        HeaderValue::from_str(&cookie)
            .map_err(|_| Error::Interaction(format!("the cookie `{name}` is not a valid header")))
    }

    /// The value of the request's cookie `name` sealed by [`Self::protected_cookie`] for
    /// `purpose`, if there is one that opens and has not expired.
    pub fn read_protected_cookie<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        name: &str,
        purpose: &'static str,
    ) -> Option<T> {
        let name = self.host_cookie_name(name);
        let now = self.now();
        cookie_values(headers, &name)
            .filter_map(|sealed| self.state().protector.unprotect::<Expiring<T>>(Purpose::Host(purpose), sealed))
            .find(|opened| opened.expires > now)
            .map(|opened| opened.value)
    }

    /// The `Set-Cookie` value that deletes the host cookie `name`.
    pub fn clear_protected_cookie(&self, name: &str) -> Result<HeaderValue> {
        if !is_token(name) {
            return Err(Error::Interaction(format!("`{name}` is not a valid cookie name")));
        }
        let cookie = format!(
            "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
            self.host_cookie_name(name),
            cookie_attributes(self.state().session.secure())
        );
        HeaderValue::from_str(&cookie).map_err(|_| Error::Interaction(format!("`{name}` is not a valid cookie name")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use axum::http::header;
    use std::sync::Arc;

    async fn server(issuer: &str, clock: Arc<ManualClock>) -> OidcServer {
        OidcServer::builder(issuer)
            .clock(clock)
            .session_secret(b"0123456789abcdef0123456789abcdef".to_vec())
            .build()
            .await
            .expect("server")
    }

    /// The request headers a browser sends back for a `Set-Cookie` value.
    fn sent_back(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().expect("ascii").split(';').next().expect("a pair").to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {pair}")).expect("header"));
        headers
    }

    #[tokio::test]
    async fn protected_cookies_open_for_their_purpose_until_they_expire() {
        let clock = Arc::new(ManualClock::new(test_support::clock::start()));
        let server = server("http://localhost", clock.clone()).await;
        let cookie =
            server.protected_cookie("pending", "pending user", &"alice", TimeDelta::minutes(5)).expect("cookie");
        let text = cookie.to_str().expect("ascii");
        assert!(text.starts_with("pending=") && text.contains("HttpOnly") && text.ends_with("Max-Age=300"), "{text}");
        assert!(!text.contains("alice"));
        let headers = sent_back(&cookie);
        assert_eq!(
            server.read_protected_cookie::<String>(&headers, "pending", "pending user").as_deref(),
            Some("alice")
        );
        assert_eq!(server.read_protected_cookie::<String>(&headers, "pending", "another purpose"), None);
        assert_eq!(server.read_protected_cookie::<String>(&headers, "other", "pending user"), None);
        clock.advance(TimeDelta::minutes(5));
        assert_eq!(server.read_protected_cookie::<String>(&headers, "pending", "pending user"), None, "expired");
        assert!(server.protected_cookie("bad name", "p", &1, TimeDelta::minutes(1)).is_err());
        let cleared = server.clear_protected_cookie("pending").expect("cleared");
        assert!(cleared.to_str().expect("ascii").starts_with("pending=; Max-Age=0"));
    }

    #[tokio::test]
    async fn on_https_the_cookie_is_secure_and_host_prefixed() {
        let clock = Arc::new(ManualClock::new(test_support::clock::start()));
        let server = server("https://id.example.com", clock).await;
        let cookie = server.protected_cookie("remember", "remembered", &1_u8, TimeDelta::days(14)).expect("cookie");
        let text = cookie.to_str().expect("ascii");
        assert!(text.starts_with("__Host-remember=") && text.contains("; Secure"), "{text}");
        assert_eq!(server.read_protected_cookie::<u8>(&sent_back(&cookie), "remember", "remembered"), Some(1));
    }
}

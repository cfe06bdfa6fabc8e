//! The sign-in session: a stateless, sealed cookie owned by the server.
//!
//! The cookie's value is a [`UserSession`] serialised and sealed (AES-256-GCM, see
//! [`crate::crypto`]) under a key derived from the session secret, so the browser can neither read
//! nor alter it, and any instance with the same secret can read it. The host signs users in and
//! out through [`OidcServer::sign_in`] and [`OidcServer::sign_out`] and reads the session with
//! [`OidcServer::current_session`]; the authorize and end-session endpoints read it the same way.
//!
//! Like ASP.NET Core's cookie authentication, a sliding session is renewed once more than half
//! of its lifetime has passed. A registered [`SessionValidator`] re-checks the session (a
//! security stamp, say) on every request that reads it, so that a user locked or re-keyed by an
//! administrator gets no further authorization code. Every time comes from the injected
//! [`crate::Clock`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::claims::Subject;
use crate::crypto::Purpose;
use crate::error::{Error, Result};
use crate::state::ServerState;
use crate::tokens::expiry;

/// Browsers keep cookies up to about 4 KiB (RFC 6265 §6.1 asks for at least 4096 bytes).
const MAXIMUM_COOKIE_LENGTH: usize = 4096;

/// The sign-in session's cookie and lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// The cookie's name. Default `idsrv.session`.
    pub cookie_name: String,
    /// How long a session lasts after it was issued or last renewed. Default 14 days, as ASP.NET
    /// Core Identity's application cookie.
    pub lifetime: TimeDelta,
    /// Whether a session used after half its lifetime is renewed for a full lifetime. Default
    /// `true`.
    pub sliding: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self { cookie_name: "idsrv.session".to_owned(), lifetime: TimeDelta::days(14), sliding: true }
    }
}

impl SessionOptions {
    /// Checks the cookie name (an RFC 6265 token) and the durations.
    fn validate(&self, secure: bool) -> Result<()> {
        let name_is_token = !self.cookie_name.is_empty()
            && self.cookie_name.bytes().all(|byte| byte.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&byte));
        if !name_is_token {
            return Err(Error::Configuration(format!("`{}` is not a valid cookie name", self.cookie_name)));
        }
        if !secure && (self.cookie_name.starts_with("__Host-") || self.cookie_name.starts_with("__Secure-")) {
            return Err(Error::Configuration(
                "cookie names starting with __Host- or __Secure- need an https issuer".into(),
            ));
        }
        if self.lifetime <= TimeDelta::zero() {
            return Err(Error::Configuration("the session lifetime must be positive".into()));
        }
        Ok(())
    }
}

/// A signed-in user's session, as sealed into the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserSession {
    /// The session id (`sid`): random, new at every sign-in.
    pub session_id: String,
    /// The user: `sub`, `auth_time` (the sign-in), `idp`, `amr`, `sid` and the claims the host
    /// captured at sign-in (a security stamp, say).
    pub subject: Subject,
    /// When this cookie was issued: the sign-in, or the last sliding renewal.
    pub issued_at: DateTime<Utc>,
    /// When the session ends unless renewed.
    pub expires_at: DateTime<Utc>,
    /// Whether the cookie outlives the browser session (the login page's "remember me").
    pub persistent: bool,
}

/// A new session and the `Set-Cookie` header value that stores it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionCookie {
    /// The value of a `Set-Cookie` header to add to the response.
    pub set_cookie: HeaderValue,
    /// The session.
    pub session: UserSession,
}

/// The result of [`OidcServer::current_session`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CurrentSession {
    /// The valid session; `None` when nobody is signed in or the session was rejected.
    pub session: Option<UserSession>,
    /// A `Set-Cookie` header value the response must carry: the renewed cookie of a sliding
    /// session, or one that deletes a rejected, expired or unreadable cookie.
    pub set_cookie: Option<HeaderValue>,
}

impl CurrentSession {
    /// Appends the `Set-Cookie` header, if any, to a response's headers.
    pub fn append_set_cookie(&self, headers: &mut HeaderMap) {
        if let Some(set_cookie) = &self.set_cookie {
            headers.append(header::SET_COOKIE, set_cookie.clone());
        }
    }

    fn rejected(clear: HeaderValue) -> Self {
        Self { session: None, set_cookie: Some(clear) }
    }
}

/// Re-checks a session on every request that reads it, as ASP.NET Core Identity's security-stamp
/// validator does (there every 30 minutes): a host compares a stamp it put into the subject's
/// claims at sign-in with the user's current one.
#[async_trait]
pub trait SessionValidator: Send + Sync {
    /// Whether `session` is still valid. `false` signs the user out: the session is treated as
    /// absent and its cookie deleted.
    async fn validate_session(&self, session: &UserSession) -> Result<bool>;
}

/// The session configuration the server runs with.
pub(crate) struct SessionSettings {
    pub(crate) options: SessionOptions,
    /// Whether cookies get `Secure` (an https issuer).
    secure: bool,
    validator: Option<Arc<dyn SessionValidator>>,
    /// The `Set-Cookie` value that deletes the cookie, built once.
    clear_cookie: HeaderValue,
}

impl fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSettings")
            .field("options", &self.options)
            .field("secure", &self.secure)
            .field("validator", &self.validator.is_some())
            .finish()
    }
}

fn cookie_attributes(secure: bool) -> &'static str {
    if secure { "; Path=/; HttpOnly; SameSite=Lax; Secure" } else { "; Path=/; HttpOnly; SameSite=Lax" }
}

impl SessionSettings {
    /// Validates `options`; cookies get `Secure` when `secure` (an https issuer).
    pub(crate) fn new(
        options: SessionOptions,
        secure: bool,
        validator: Option<Arc<dyn SessionValidator>>,
    ) -> Result<Self> {
        options.validate(secure)?;
        let clear_cookie = format!(
            "{}={}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            options.cookie_name,
            cookie_attributes(secure)
        );
        let clear_cookie = HeaderValue::from_str(&clear_cookie)
            .map_err(|_| Error::Configuration(format!("`{}` is not a valid cookie name", options.cookie_name)))?;
        Ok(Self { options, secure, validator, clear_cookie })
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        self.clear_cookie.clone()
    }

    /// The values of the session cookie in the request's `Cookie` headers.
    fn cookie_values<'a>(&'a self, headers: &'a HeaderMap) -> impl Iterator<Item = &'a str> + 'a {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name.trim() == self.options.cookie_name).then(|| value.trim().trim_matches('"'))
            })
    }
}

/// The `Set-Cookie` value that stores `session` at `now`.
pub(crate) fn session_cookie(state: &ServerState, session: &UserSession, now: DateTime<Utc>) -> Result<HeaderValue> {
    let settings = &state.session;
    let sealed = state.protector.protect(Purpose::Session, session)?;
    let mut value = format!("{}={sealed}{}", settings.options.cookie_name, cookie_attributes(settings.secure));
    if session.persistent {
        value.push_str(&format!("; Max-Age={}", (session.expires_at - now).num_seconds().max(0)));
    }
    if value.len() > MAXIMUM_COOKIE_LENGTH {
        return Err(Error::Interaction(format!(
            "the session cookie would be {} bytes, more than browsers keep ({MAXIMUM_COOKIE_LENGTH}); put fewer \
             claims on the subject",
            value.len()
        )));
    }
    HeaderValue::from_str(&value).map_err(|_| Error::Interaction("the session cookie is not a valid header".into()))
}

/// Reads, checks and if needed renews the session of a request.
pub(crate) async fn current_session(state: &ServerState, headers: &HeaderMap) -> Result<CurrentSession> {
    let settings = &state.session;
    let mut values = settings.cookie_values(headers).peekable();
    if values.peek().is_none() {
        return Ok(CurrentSession::default());
    }
    let Some(mut session) = values.find_map(|value| state.protector.unprotect::<UserSession>(Purpose::Session, value))
    else {
        tracing::debug!("unreadable session cookie deleted");
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    };
    let now = state.clock.now();
    if now >= session.expires_at {
        tracing::debug!("expired session cookie deleted");
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    }
    if let Some(validator) = &settings.validator
        && !validator.validate_session(&session).await?
    {
        tracing::info!(subject_id = ?session.subject.subject_id, "session rejected by the session validator");
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    }
    let mut set_cookie = None;
    if settings.options.sliding && now - session.issued_at > settings.options.lifetime / 2 {
        session.issued_at = now;
        session.expires_at = expiry(now, settings.options.lifetime)?;
        set_cookie = Some(session_cookie(state, &session, now)?);
    }
    Ok(CurrentSession { session: Some(session), set_cookie })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> SessionOptions {
        SessionOptions { cookie_name: name.to_owned(), ..SessionOptions::default() }
    }

    fn settings(name: &str, secure: bool) -> SessionSettings {
        SessionSettings::new(named(name), secure, None).expect("valid options")
    }

    #[test]
    fn cookie_values_are_found_among_other_cookies_and_headers() {
        let settings = settings("idsrv.session", false);
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; idsrv.session=first"));
        headers.append(header::COOKIE, HeaderValue::from_static("idsrv.sessionx=no;idsrv.session=\"second\""));
        assert_eq!(settings.cookie_values(&headers).collect::<Vec<_>>(), ["first", "second"]);
    }

    #[test]
    fn the_clearing_cookie_expires_immediately_with_the_same_attributes() {
        assert_eq!(
            settings("s", false).clear_cookie(),
            "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert!(settings("s", true).clear_cookie().to_str().is_ok_and(|value| value.contains("; Secure")));
    }

    #[test]
    fn options_are_validated() {
        assert!(SessionOptions::default().validate(false).is_ok());
        for name in ["", "a b", "a;b", "a=b", "é"] {
            assert!(named(name).validate(true).is_err(), "{name}");
        }
        let host_prefixed = named("__Host-session");
        assert!(host_prefixed.validate(false).is_err());
        assert!(host_prefixed.validate(true).is_ok());
        let zero = SessionOptions { lifetime: TimeDelta::zero(), ..SessionOptions::default() };
        assert!(zero.validate(true).is_err());
    }
}

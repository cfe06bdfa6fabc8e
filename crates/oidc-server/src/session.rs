//! The sign-in session: a row of the [`ServerSideSessionStore`] and a cookie that refers to it.
//!
//! The cookie's value is only the session id, sealed (AES-256-GCM, see [`crate::crypto`]) under
//! a key derived from the session secret, so the browser can neither read nor forge it. Every
//! request that reads the session loads the row: deleting it (logout, end session, an
//! administrator ending a user's sessions) ends the session at once on every instance sharing
//! the store, whatever copies of the cookie exist. The host signs users in and out through
//! [`OidcServer::sign_in`](crate::OidcServer::sign_in) and
//! [`OidcServer::sign_out`](crate::OidcServer::sign_out) and reads the session with
//! [`OidcServer::current_session`](crate::OidcServer::current_session); the authorize and
//! end-session endpoints read it the same way.
//!
//! A session without "remember me" ends after [`SessionOptions::idle_timeout`] without use; a
//! session with it lasts [`SessionOptions::absolute_lifetime`] from the sign-in; no session is
//! ever extended beyond that absolute lifetime (OWASP ASVS 3.3.1/3.3.2). A registered
//! [`SessionValidator`] re-checks the session (a security stamp, say) on every request that
//! reads it, for changes made where the store is not told (another application sharing the
//! user database). Every time comes from the injected [`crate::Clock`].

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
use crate::stores::sessions::StoredSession;

/// Browsers keep cookies up to about 4 KiB (RFC 6265 §6.1 asks for at least 4096 bytes).
pub(crate) const MAXIMUM_COOKIE_LENGTH: usize = 4096;

/// The sign-in session's cookie and lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// The cookie's name. Default `idsrv.session`.
    pub cookie_name: String,
    /// How long a session without "remember me" lasts without being used. Default 2 hours.
    pub idle_timeout: TimeDelta,
    /// How long any session lasts from the sign-in, however much it is used; a session with
    /// "remember me" lasts exactly this long. Default 14 days, as ASP.NET Core Identity's
    /// application cookie.
    pub absolute_lifetime: TimeDelta,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            cookie_name: "idsrv.session".to_owned(),
            idle_timeout: TimeDelta::hours(2),
            absolute_lifetime: TimeDelta::days(14),
        }
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
        if self.idle_timeout <= TimeDelta::zero() || self.absolute_lifetime <= TimeDelta::zero() {
            return Err(Error::Configuration("the session idle timeout and absolute lifetime must be positive".into()));
        }
        Ok(())
    }

    /// When a session used at `now` ends: the idle timeout from now for a browser session, never
    /// later than the absolute lifetime from its sign-in at `created`.
    pub(crate) fn expiry(&self, created: DateTime<Utc>, now: DateTime<Utc>, persistent: bool) -> Result<DateTime<Utc>> {
        let absolute = crate::tokens::expiry(created, self.absolute_lifetime)?;
        if persistent {
            return Ok(absolute);
        }
        Ok(crate::tokens::expiry(now, self.idle_timeout)?.min(absolute))
    }

    /// How long after its last renewal a used browser session is renewed again: a twentieth of
    /// the idle timeout, so that a busy session costs few writes and the idle timeout still
    /// holds within 5 %.
    fn renewal_interval(&self) -> TimeDelta {
        self.idle_timeout / 20
    }
}

/// What the cookie holds: a reference to the stored session, nothing about the user.
#[derive(Debug, Serialize, Deserialize)]
struct SessionReference {
    #[serde(rename = "sid")]
    session_id: String,
}

/// A signed-in user's session, as the host and the endpoints see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserSession {
    /// The session id (`sid`): random, new at every sign-in.
    pub session_id: String,
    /// The user: `sub`, `auth_time` (the sign-in), `idp`, `amr`, `sid` and the claims the host
    /// captured at sign-in (a security stamp, say).
    pub subject: Subject,
    /// When the session was last used and extended (the sign-in, at first).
    pub issued_at: DateTime<Utc>,
    /// When the session ends unless it is used again (for a browser session) before.
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
    /// A `Set-Cookie` header value the response must carry: one that deletes a rejected,
    /// ended or unreadable cookie.
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

pub(crate) fn cookie_attributes(secure: bool) -> &'static str {
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

    /// Whether cookies get `Secure` (an https issuer).
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        self.clear_cookie.clone()
    }

    /// The values of the session cookie in the request's `Cookie` headers.
    fn cookie_values<'a>(&'a self, headers: &'a HeaderMap) -> impl Iterator<Item = &'a str> + 'a {
        cookie_values(headers, &self.options.cookie_name)
    }
}

/// The values of the cookie `name` in the request's `Cookie` headers, in order.
pub(crate) fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(move |pair| {
            let (cookie_name, value) = pair.trim().split_once('=')?;
            (cookie_name.trim() == name).then(|| value.trim().trim_matches('"'))
        })
}

impl UserSession {
    fn from_stored(stored: StoredSession) -> Self {
        Self {
            session_id: stored.session_id,
            subject: stored.subject,
            issued_at: stored.renewed,
            expires_at: stored.expires,
            persistent: stored.persistent,
        }
    }
}

/// The `Set-Cookie` value that refers to `session` at `now`.
pub(crate) fn session_cookie(state: &ServerState, session: &StoredSession, now: DateTime<Utc>) -> Result<HeaderValue> {
    let settings = &state.session;
    let reference = SessionReference { session_id: session.session_id.clone() };
    let sealed = state.protector.protect(Purpose::Session, &reference)?;
    let mut value = format!("{}={sealed}{}", settings.options.cookie_name, cookie_attributes(settings.secure));
    if session.persistent {
        value.push_str(&format!("; Max-Age={}", (session.expires - now).num_seconds().max(0)));
    }
    if value.len() > MAXIMUM_COOKIE_LENGTH {
        return Err(Error::Interaction(format!(
            "the session cookie would be {} bytes, more than browsers keep ({MAXIMUM_COOKIE_LENGTH})",
            value.len()
        )));
    }
    HeaderValue::from_str(&value).map_err(|_| Error::Interaction("the session cookie is not a valid header".into()))
}

/// The session id the request's cookie refers to, if a cookie is present and intact: `None`
/// when there is no cookie, `Some(None)` when there is one nobody can read.
pub(crate) fn referenced_session_id(state: &ServerState, headers: &HeaderMap) -> Option<Option<String>> {
    let mut values = state.session.cookie_values(headers).peekable();
    values.peek()?;
    Some(
        values
            .find_map(|value| state.protector.unprotect::<SessionReference>(Purpose::Session, value))
            .map(|reference| reference.session_id),
    )
}

/// Reads, checks and if needed extends the session of a request.
pub(crate) async fn current_session(state: &ServerState, headers: &HeaderMap) -> Result<CurrentSession> {
    let settings = &state.session;
    let Some(session_id) = referenced_session_id(state, headers) else {
        return Ok(CurrentSession::default());
    };
    let Some(session_id) = session_id else {
        tracing::debug!("unreadable session cookie deleted");
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    };
    let Some(stored) = state.sessions.get(&session_id).await? else {
        tracing::debug!("the session cookie refers to an ended session");
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    };
    let now = state.clock.now();
    if now >= stored.expires {
        tracing::debug!(subject_id = %stored.subject_id(), "expired session ended");
        state.sessions.delete(&session_id).await?;
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    }
    let created = stored.created;
    let mut session = UserSession::from_stored(stored);
    if let Some(validator) = &settings.validator
        && !validator.validate_session(&session).await?
    {
        tracing::info!(subject_id = %session.subject.subject_id, "session ended by the session validator");
        state.sessions.delete(&session_id).await?;
        return Ok(CurrentSession::rejected(settings.clear_cookie()));
    }
    if !session.persistent && now - session.issued_at >= settings.options.renewal_interval() {
        let expires = settings.options.expiry(created, now, false)?;
        if !state.sessions.renew(&session_id, now, expires).await? {
            return Ok(CurrentSession::rejected(settings.clear_cookie()));
        }
        (session.issued_at, session.expires_at) = (now, expires);
    }
    Ok(CurrentSession { session: Some(session), set_cookie: None })
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
        let zero = SessionOptions { idle_timeout: TimeDelta::zero(), ..SessionOptions::default() };
        assert!(zero.validate(true).is_err());
    }
}

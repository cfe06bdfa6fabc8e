//! The host's side of browser sessions: signing a user in and out, and reading the current
//! session (the mechanics live in [`crate::session`]).

use axum::http::{HeaderMap, HeaderValue};

use crate::claims::Subject;
use crate::error::Result;
use crate::server::OidcServer;
use crate::session::{CurrentSession, SessionCookie, UserSession, current_session, session_cookie};
use crate::tokens::{expiry, random_identifier};

impl OidcServer {
    /// Signs `subject` in: starts a session with a new session id (`sid`) and returns the
    /// `Set-Cookie` value the host's login response must carry.
    ///
    /// The session's `auth_time` is now by the server's clock, whatever `subject` says; its
    /// `sub`, `idp`, `amr` and claims are kept. A `persistent` session survives the browser being
    /// closed (the cookie gets `Max-Age`); otherwise it is a browser-session cookie. Either way it
    /// ends after [`SessionOptions::lifetime`] unless renewed.
    ///
    /// Fails with [`Error::Interaction`] when the sealed session would exceed 4096 bytes.
    pub fn sign_in(&self, mut subject: Subject, persistent: bool) -> Result<SessionCookie> {
        let state = self.state();
        let now = state.clock.now();
        let session_id = random_identifier();
        subject.session_id = Some(session_id.clone());
        subject.authentication_time = now;
        let session = UserSession {
            session_id,
            subject,
            issued_at: now,
            expires_at: expiry(now, state.session.options.lifetime)?,
            persistent,
        };
        let set_cookie = session_cookie(state, &session, now)?;
        tracing::info!(subject_id = %session.subject.subject_id, "user signed in");
        Ok(SessionCookie { set_cookie, session })
    }

    /// The `Set-Cookie` value that deletes the session cookie (signs the user out).
    pub fn sign_out(&self) -> HeaderValue {
        self.state().session.clear_cookie()
    }

    /// The request's session, if its cookie is intact, unexpired and (when a
    /// [`SessionValidator`] is registered) still valid by it.
    ///
    /// The response must carry [`CurrentSession::set_cookie`] when it is set: it renews a sliding
    /// session, or deletes a cookie that was rejected.
    pub async fn current_session(&self, headers: &HeaderMap) -> Result<CurrentSession> {
        current_session(self.state(), headers).await
    }
}

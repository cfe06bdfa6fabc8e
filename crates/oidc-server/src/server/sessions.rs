//! The host's side of browser sessions: signing a user in and out, reading the current session,
//! and managing the stored sessions of users (the mechanics live in [`crate::session`]).

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, TimeDelta, Utc};

use crate::claims::Subject;
use crate::crypto::Purpose;
use crate::error::{Error, Result};
use crate::interaction::LogoutMessage;
use crate::server::OidcServer;
use crate::server::interaction::read_logout_id;
use crate::session::{
    CurrentSession, SessionCookie, UserSession, current_session, referenced_session_id, session_cookie,
};
use crate::stores::grants::{GrantFilter, PersistedGrantType};
use crate::stores::sessions::{SessionFilter, StoredSession};
use crate::tokens::logout_token::issue_logout_token;
use crate::tokens::random_identifier;

/// What [`OidcServer::sign_out`] did, for the host's response.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignedOut {
    /// The `Set-Cookie` value that deletes the session cookie.
    pub set_cookie: HeaderValue,
    /// The logout id to hand the logged-out page (see [`OidcServer::logout_context`]); `None`
    /// when there is nothing to tell it: no logout id came in and the session had no clients.
    pub logout_id: Option<String>,
}

impl OidcServer {
    /// Signs `subject` in: stores a new session with a new session id (`sid`, so no session id
    /// chosen before the sign-in survives it) and returns the `Set-Cookie` value the host's login
    /// response must carry.
    ///
    /// The session's `auth_time` is now by the server's clock, whatever `subject` says; its
    /// `sub`, `idp`, `amr` and claims are kept. A `persistent` session ("remember me") survives
    /// the browser being closed and lasts [`SessionOptions::absolute_lifetime`]; otherwise the
    /// cookie is a browser-session cookie and the session ends after
    /// [`SessionOptions::idle_timeout`] without use.
    ///
    /// [`SessionOptions::absolute_lifetime`]: crate::SessionOptions::absolute_lifetime
    /// [`SessionOptions::idle_timeout`]: crate::SessionOptions::idle_timeout
    pub async fn sign_in(&self, subject: Subject, persistent: bool) -> Result<SessionCookie> {
        let now = self.state().clock.now();
        let cookie = self.start_session(subject, now, now, persistent).await?;
        tracing::info!(subject_id = %cookie.session.subject.subject_id, "user signed in");
        Ok(cookie)
    }

    /// Stores a new session (a new `sid`) of `subject`, authenticated at `authenticated` and
    /// counting its absolute lifetime from `created`; returns its cookie.
    async fn start_session(
        &self,
        mut subject: Subject,
        authenticated: DateTime<Utc>,
        created: DateTime<Utc>,
        persistent: bool,
    ) -> Result<SessionCookie> {
        let state = self.state();
        let now = state.clock.now();
        let session_id = random_identifier();
        subject.session_id = Some(session_id.clone());
        subject.authentication_time = authenticated;
        let stored = StoredSession {
            session_id,
            subject,
            created,
            renewed: now,
            expires: state.session.options.expiry(created, now, persistent)?,
            persistent,
            client_ids: Vec::new(),
        };
        let set_cookie = session_cookie(state, &stored, now)?;
        state.sessions.create(stored.clone()).await?;
        let session = UserSession {
            session_id: stored.session_id,
            subject: stored.subject,
            issued_at: now,
            expires_at: stored.expires,
            persistent,
        };
        Ok(SessionCookie { set_cookie, session })
    }

    /// Signs the request's user out: ends the session the cookie refers to (for every copy of
    /// the cookie; its clients with a back-channel logout URI are told in the background) and
    /// returns the `Set-Cookie` value that deletes the cookie, with the logout id for the
    /// logged-out page: `logout_id` (from the end-session endpoint, if the host got one) with the
    /// ended session's clients added, whose [`LogoutContext::front_channel_logout_urls`] that
    /// page loads in iframes.
    ///
    /// [`LogoutContext::front_channel_logout_urls`]: crate::LogoutContext::front_channel_logout_urls
    pub async fn sign_out(&self, headers: &HeaderMap, logout_id: Option<&str>) -> Result<SignedOut> {
        let state = self.state();
        let ended = match referenced_session_id(state, headers) {
            Some(Some(session_id)) => state.sessions.delete(&session_id).await?,
            _ => None,
        };
        let message = logout_id.and_then(|logout_id| read_logout_id(state, logout_id));
        let logout_id = match (message, &ended) {
            (Some(message), Some(ended)) => Some(message.with_ended_session(ended)),
            (None, Some(ended)) if !ended.client_ids.is_empty() => {
                Some(LogoutMessage::for_own_logout(state)?.with_ended_session(ended))
            }
            (message, _) => message,
        }
        .map(|message| state.protector.protect(Purpose::Logout, &message))
        .transpose()?;
        if let Some(ended) = &ended {
            tracing::info!(subject_id = %ended.subject_id(), "user signed out");
        }
        Ok(SignedOut { set_cookie: state.session.clear_cookie(), logout_id })
    }

    /// The request's session, if its cookie refers to a stored session that has not ended and
    /// (when a [`SessionValidator`](crate::SessionValidator) is registered) is still valid by it.
    ///
    /// The response must carry [`CurrentSession::set_cookie`] when it is set: it deletes a
    /// cookie whose session ended or was rejected.
    pub async fn current_session(&self, headers: &HeaderMap) -> Result<CurrentSession> {
        current_session(self.state(), headers).await
    }

    /// The stored sessions matching `filter`, oldest sign-in first (including ended ones that
    /// the cleanup has not removed yet).
    pub async fn sessions(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        self.state().sessions.list(filter).await
    }

    /// Ends the session `session_id`; returns it when it existed.
    pub async fn end_session(&self, session_id: &str) -> Result<Option<StoredSession>> {
        self.state().sessions.delete(session_id).await
    }

    /// Ends every session matching `filter` (all of a user's, say); returns them.
    pub async fn end_sessions(&self, filter: &SessionFilter) -> Result<Vec<StoredSession>> {
        self.state().sessions.delete_all(filter).await
    }

    /// Signs a user out everywhere: ends every session of `subject_id` (their clients are told
    /// through back-channel logout) and revokes their refresh tokens and unredeemed
    /// authorization codes; returns how many sessions ended and grants were revoked. What a
    /// credential change (a new password, two-factor on or off) calls for.
    pub async fn sign_out_everywhere(&self, subject_id: &str) -> Result<(usize, u64)> {
        let state = self.state();
        let ended = state.sessions.delete_all(&SessionFilter::subject(subject_id.to_owned())).await?;
        let mut revoked = 0;
        for grant_type in [PersistedGrantType::RefreshToken, PersistedGrantType::AuthorizationCode] {
            revoked +=
                state.grants.remove_all(&GrantFilter::subject_and_type(subject_id.to_owned(), grant_type)).await?;
        }
        tracing::info!(%subject_id, ended = ended.len(), revoked, "the user was signed out everywhere");
        Ok((ended.len(), revoked))
    }

    /// After the signed-in user changed a credential themselves: [`Self::sign_out_everywhere`]
    /// (which also logs out the applications this browser signed into: their refresh tokens
    /// are revoked), then gives this browser a new session (a new `sid`) of `subject`, which
    /// carries the user's new security stamp. The new session keeps the current one's
    /// `auth_time`, its absolute lifetime (counted from the original sign-in, never extended)
    /// and whether it is persistent: a credential change is not a new sign-in. Returns the new
    /// session's cookie.
    pub async fn renew_sign_in(&self, current: &UserSession, subject: Subject) -> Result<SessionCookie> {
        let state = self.state();
        let Some(stored) = state.sessions.get(&current.session_id).await? else {
            return Err(Error::Interaction("the session ended while the user changed a credential".into()));
        };
        let created = stored.created;
        let authenticated = current.subject.authentication_time;
        self.sign_out_everywhere(&subject.subject_id).await?;
        self.start_session(subject, authenticated, created, current.persistent).await
    }

    /// Ends the sessions that expired by now; returns how many. Safe on several instances.
    pub async fn remove_expired_sessions(&self) -> Result<usize> {
        let now = self.state().clock.now();
        Ok(self.state().sessions.delete_expired(now).await?.len())
    }

    /// Sends the back-channel logout tokens of ended sessions (OpenID Connect Back-Channel
    /// Logout 1.0): claims a batch of ended sessions from the store, POSTs a `logout_token` to
    /// the `backchannel_logout_uri` of each client the session issued tokens to, and records
    /// which clients are still to be told. An undelivered notification is tried again 30 seconds
    /// later (by whichever instance claims it), 5 times at most, then given up and logged. Call it periodically on every instance; several instances never send one
    /// notification twice, short of a crash between sending and recording. Returns how many
    /// notifications were delivered.
    pub async fn deliver_logout_notifications(&self) -> Result<usize> {
        let state = self.state();
        let now = state.clock.now();
        let claimed = state.sessions.claim_ended(now, now + DELIVERY_LEASE, DELIVERY_BATCH).await?;
        let mut delivered = 0;
        for ended in claimed {
            let mut undelivered = Vec::new();
            for client_id in &ended.session.client_ids {
                match self.notify(&ended.session, client_id).await {
                    Ok(true) => delivered += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%client_id, %error, attempt = ended.attempts, "back-channel logout not delivered");
                        undelivered.push(client_id.clone());
                    }
                }
            }
            if !undelivered.is_empty() && ended.attempts >= MAX_DELIVERY_ATTEMPTS {
                tracing::error!(clients = ?undelivered, "back-channel logout given up after {MAX_DELIVERY_ATTEMPTS} attempts");
                undelivered.clear();
            }
            state.sessions.finish_ended(&ended.session.session_id, &undelivered).await?;
        }
        Ok(delivered)
    }

    /// Sends `client_id` the logout token of `session`; `false` when the client has no
    /// back-channel logout URI (or no longer exists), an error when the delivery failed.
    async fn notify(&self, session: &StoredSession, client_id: &str) -> Result<bool> {
        let state = self.state();
        let Some(client) = state.clients.find_client_by_id(client_id).await? else { return Ok(false) };
        let Some(uri) = &client.backchannel_logout_uri else { return Ok(false) };
        let token = issue_logout_token(state, session, client_id).await?;
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("logout_token", &token).finish();
        let response = state
            .http
            .post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|error| Error::Interaction(format!("POST to the back-channel logout URI failed: {error}")))?;
        if response.status().is_success() {
            Ok(true)
        } else {
            Err(Error::Interaction(format!("the back-channel logout URI answered {}", response.status())))
        }
    }
}

/// How long an instance holds a claimed ended session; an undelivered notification is tried
/// again after it.
const DELIVERY_LEASE: TimeDelta = TimeDelta::seconds(30);

/// How many times a notification is tried before it is given up (and logged).
const MAX_DELIVERY_ATTEMPTS: u32 = 5;

/// How many ended sessions one delivery round claims.
const DELIVERY_BATCH: usize = 50;

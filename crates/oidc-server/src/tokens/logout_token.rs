//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT of type
//! `logout+jwt` telling one client that a session ended.

use chrono::TimeDelta;
use serde_json::{Map, json};

use crate::claims::claim_types;
use crate::error::Result;
use crate::state::ServerState;
use crate::stores::sessions::StoredSession;
use crate::tokens::{expiry, random_identifier};

/// The JWT `typ` of logout tokens.
pub(crate) const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// The event a logout token carries.
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is accepted: the client processes it at once.
const LOGOUT_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(2);

/// A signed logout token for `client_id` about the end of `session`, issued now. It carries
/// `sub` and `sid`, never a `nonce`.
pub(crate) async fn issue_logout_token(
    state: &ServerState,
    session: &StoredSession,
    client_id: &str,
) -> Result<String> {
    let now = state.clock.now();
    let mut payload = Map::new();
    payload.insert(claim_types::ISSUER.into(), state.issuer.clone().into());
    payload.insert(claim_types::AUDIENCE.into(), client_id.into());
    payload.insert(claim_types::ISSUED_AT.into(), now.timestamp().into());
    payload.insert(claim_types::EXPIRATION.into(), expiry(now, LOGOUT_TOKEN_LIFETIME)?.timestamp().into());
    payload.insert(claim_types::JWT_ID.into(), random_identifier().into());
    payload.insert(claim_types::SUBJECT.into(), session.subject_id().into());
    payload.insert(claim_types::SESSION_ID.into(), session.session_id.clone().into());
    payload.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    let key = state.keys.id_token_signing_key().await?;
    key.sign(LOGOUT_TOKEN_TYPE, &payload)
}

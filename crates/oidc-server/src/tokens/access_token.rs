//! JWT access tokens (RFC 9068): creation, and validation of the server's own tokens.

use serde_json::{Map, Value};

use super::{expiry, random_identifier, verify_own_jwt};
use crate::claims::{Subject, TokenClaim, add_claims_to_json, claim_types, is_protocol_claim_type};
use crate::error::Result;
use crate::model::client::Client;
use crate::model::resources::RequestedResources;
use crate::services::profile::{IsActiveCaller, IsActiveContext, ProfileCaller, ProfileDataRequestContext};
use crate::state::ServerState;

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The audience of tokens whose scopes belong to no API resource.
fn default_audience(issuer: &str) -> String {
    format!("{issuer}/resources")
}

/// An access token and its lifetime in seconds (`expires_in`).
pub(crate) struct IssuedAccessToken {
    pub(crate) token: String,
    pub(crate) expires_in: i64,
}

/// The user an access token is issued to: the subject, and the user claims the profile service
/// issued for the token's resources.
pub(crate) struct TokenUser<'a> {
    pub(crate) subject: &'a Subject,
    claims: Vec<TokenClaim>,
}

impl<'a> TokenUser<'a> {
    /// Asks the profile service, in one call, whether `subject` may still get tokens (asked as
    /// `caller`) and, when they may, for the user claims of an access token for `resources`:
    /// one user read per grant with the ASP.NET Identity adapter. `None` for an inactive user.
    pub(crate) async fn if_active(
        state: &ServerState,
        client: &Client,
        subject: &'a Subject,
        resources: &RequestedResources,
        caller: IsActiveCaller,
    ) -> Result<Option<Self>> {
        let mut active = IsActiveContext::new(subject, client, caller);
        let mut profile = ProfileDataRequestContext::new(subject, client, ProfileCaller::AccessToken, resources);
        profile.requested_claim_types.retain(|claim_type| !is_protocol_claim_type(claim_type));
        state.profile.get_profile_data_if_active(&mut active, &mut profile).await?;
        Ok(active.is_active.then_some(Self { subject, claims: profile.issued_claims }))
    }
}

/// Creates and signs an access token for `client`, on behalf of `user` when there is one.
pub(crate) async fn issue_access_token(
    state: &ServerState,
    client: &Client,
    user: Option<&TokenUser<'_>>,
    resources: &RequestedResources,
) -> Result<IssuedAccessToken> {
    let mut payload = Map::new();
    match user {
        Some(user) => {
            add_claims_to_json(
                &mut payload,
                user.claims.iter().filter(|claim| !is_protocol_claim_type(&claim.claim_type)),
            );
            user.subject.write_protocol_claims(&mut payload);
        }
        // RFC 9068 §2.2: without a resource owner the subject is the client itself.
        None => {
            payload.insert(claim_types::SUBJECT.into(), client.client_id.clone().into());
        }
    }

    let now = state.clock.now();
    let mut audiences = resources.audiences();
    if audiences.is_empty() {
        audiences.push(default_audience(&state.issuer));
    }
    let audience: Value = match <[String; 1]>::try_from(audiences) {
        Ok([single]) => single.into(),
        Err(many) => many.into(),
    };
    payload.insert(claim_types::ISSUER.into(), state.issuer.clone().into());
    payload.insert(claim_types::AUDIENCE.into(), audience);
    payload.insert(claim_types::CLIENT_ID.into(), client.client_id.clone().into());
    payload.insert(claim_types::SCOPE.into(), resources.scope_values().join(" ").into());
    payload.insert(claim_types::ISSUED_AT.into(), now.timestamp().into());
    payload.insert(claim_types::NOT_BEFORE.into(), now.timestamp().into());
    payload.insert(claim_types::EXPIRATION.into(), expiry(now, client.access_token_lifetime)?.timestamp().into());
    payload.insert(claim_types::JWT_ID.into(), random_identifier().into());

    let key = state.keys.signing_key().await?;
    let token = key.sign(ACCESS_TOKEN_TYPE, &payload)?;
    Ok(IssuedAccessToken { token, expires_in: client.access_token_lifetime.num_seconds() })
}

/// The payload of an access token this server issued and that is valid now.
#[derive(Debug)]
pub(crate) struct ValidatedAccessToken {
    payload: Map<String, Value>,
}

impl ValidatedAccessToken {
    pub(crate) fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    pub(crate) fn client_id(&self) -> Option<&str> {
        self.payload.get(claim_types::CLIENT_ID)?.as_str()
    }

    pub(crate) fn scopes(&self) -> Vec<String> {
        self.payload
            .get(claim_types::SCOPE)
            .and_then(Value::as_str)
            .map(|scopes| scopes.split(' ').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The user, for tokens issued to one.
    pub(crate) fn subject(&self) -> Option<Subject> {
        Subject::from_token_payload(&self.payload)
    }
}

fn timestamp_claim(payload: &Map<String, Value>, name: &str) -> Option<i64> {
    payload.get(name)?.as_i64()
}

/// Checks that `token` is an access token of this server (type, key, signature, issuer) and is
/// within its validity period by the server's clock. `None` for anything else; the reason is
/// logged at debug level only, since it is the caller's business.
pub(crate) async fn validate_access_token(state: &ServerState, token: &str) -> Result<Option<ValidatedAccessToken>> {
    let Some(payload) = verify_own_jwt(state, token, ACCESS_TOKEN_TYPE, &["exp", "iss", "sub"]).await? else {
        return Ok(None);
    };
    let now = state.clock.now().timestamp();
    let expires = timestamp_claim(&payload, claim_types::EXPIRATION);
    let not_before = timestamp_claim(&payload, claim_types::NOT_BEFORE);
    let within_lifetime =
        expires.is_some_and(|expires| now < expires) && not_before.is_none_or(|not_before| not_before <= now);
    if !within_lifetime {
        tracing::debug!("access token rejected: expired or not yet valid");
        return Ok(None);
    }
    Ok(Some(ValidatedAccessToken { payload }))
}

//! The applications a user has given access to (IdentityServer's `GetAllUserGrantsAsync` and
//! `RevokeUserConsentAsync`): per client, the remembered consent and the refresh tokens that
//! are still valid, for a "your applications" page that lets the user take access back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::interaction::OFFLINE_ACCESS_DISPLAY_NAME;
use crate::model::client::OFFLINE_ACCESS_SCOPE;
use crate::model::resources::Resources;
use crate::services::consent;
use crate::state::ServerState;
use crate::stores::grants::{GrantFilter, PersistedGrant, PersistedGrantType};
use crate::tokens::refresh_token::RefreshTokenPayload;

/// What a user has given one client, as a page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserGrant {
    /// The client.
    pub client_id: String,
    /// The client's display name, if configured.
    pub client_name: Option<String>,
    /// The client's logo, if configured.
    pub logo_uri: Option<String>,
    /// The scopes granted, with a name for users, in the order first granted.
    pub scopes: Vec<GrantedScope>,
    /// When the oldest of these grants was given.
    pub created: DateTime<Utc>,
    /// When the last of them ends; `None` when one of them never does.
    pub expires: Option<DateTime<Utc>>,
}

/// A granted scope, named for users.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrantedScope {
    /// The scope value.
    pub name: String,
    /// A name for users (the scope value when none is configured).
    pub display_name: String,
}

/// The scopes a grant gave, when it is one a user would recognise as access: a remembered
/// consent or a refresh token (not a one-time code or consent answer).
fn granted_scopes(grant: &PersistedGrant) -> Result<Option<Vec<String>>> {
    Ok(match grant.grant_type {
        PersistedGrantType::RefreshToken => Some(RefreshTokenPayload::from_grant(grant)?.scopes),
        PersistedGrantType::UserConsent => consent::remembered_scopes(grant)?,
        _ => None,
    })
}

/// The name users see for `scope`.
fn display_name(resources: &Resources, scope: &str) -> String {
    let identity = resources.identity_resources.iter().find(|resource| resource.name == scope);
    let api = resources.api_scopes.iter().find(|api_scope| api_scope.name == scope);
    let configured = identity.map(|resource| &resource.display).or_else(|| api.map(|api_scope| &api_scope.display));
    match configured.and_then(|display| display.display_name.clone()) {
        Some(name) => name,
        None if scope == OFFLINE_ACCESS_SCOPE => OFFLINE_ACCESS_DISPLAY_NAME.to_owned(),
        None => scope.to_owned(),
    }
}

/// Everything `subject_id` has given clients that is still valid, one entry per client,
/// ordered by client id.
pub(crate) async fn user_grants(state: &ServerState, subject_id: &str) -> Result<Vec<UserGrant>> {
    let now = state.clock.now();
    let grants = state.grants.get_all(&GrantFilter::subject(subject_id)).await?;
    let mut by_client: BTreeMap<String, UserGrant> = BTreeMap::new();
    for grant in grants.iter().filter(|grant| !grant.is_expired(now) && grant.consumed_time.is_none()) {
        let Some(scopes) = granted_scopes(grant)? else {
            continue;
        };
        let entry = by_client.entry(grant.client_id.clone()).or_insert_with(|| UserGrant {
            client_id: grant.client_id.clone(),
            client_name: None,
            logo_uri: None,
            scopes: Vec::new(),
            created: grant.creation_time,
            expires: grant.expiration,
        });
        entry.created = entry.created.min(grant.creation_time);
        entry.expires = entry.expires.zip(grant.expiration).map(|(a, b)| a.max(b));
        for scope in scopes {
            if !entry.scopes.iter().any(|known| known.name == scope) {
                entry.scopes.push(GrantedScope { display_name: String::new(), name: scope });
            }
        }
    }
    if by_client.is_empty() {
        return Ok(Vec::new());
    }
    let resources = state.resources.get_all_resources().await?;
    let mut listed = Vec::with_capacity(by_client.len());
    for (client_id, mut entry) in by_client {
        if let Some(client) = state.enabled_client(&client_id).await? {
            entry.client_name = client.client_name;
            entry.logo_uri = client.logo_uri;
        }
        for scope in &mut entry.scopes {
            scope.display_name = display_name(&resources, &scope.name);
        }
        listed.push(entry);
    }
    Ok(listed)
}

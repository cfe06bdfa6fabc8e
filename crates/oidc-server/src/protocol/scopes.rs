//! Scope validation: which of the requested scopes a client gets.

use super::error::OAuthError;
use crate::model::client::{Client, GrantType, OFFLINE_ACCESS_SCOPE};
use crate::model::resources::{RequestedResources, Resources};
use crate::stores::resources::ResourceStore;

/// Splits a `scope` parameter into distinct values, keeping their order.
pub(crate) fn parse_scope_parameter(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for value in scope.split(' ').filter(|value| !value.is_empty()) {
        if !scopes.iter().any(|known| known == value) {
            scopes.push(value.to_owned());
        }
    }
    scopes
}

/// Validates `requested` scopes for `client` using `grant_type`; `None` means the client asked
/// for no scope and gets every scope it is allowed (as IdentityServer does), minus those the
/// grant type cannot carry.
///
/// A scope is granted when the client allows it and it names an identity resource or API scope;
/// `offline_access` needs the client to allow refresh tokens. Client-credentials requests cannot
/// carry identity scopes or `offline_access`, since there is no user.
pub(crate) async fn validate_scopes(
    resource_store: &dyn ResourceStore,
    client: &Client,
    requested: Option<Vec<String>>,
    grant_type: GrantType,
) -> Result<RequestedResources, OAuthError> {
    let user_grant = grant_type != GrantType::ClientCredentials;
    let defaulted = requested.is_none();
    let mut scopes = requested.unwrap_or_else(|| {
        let mut allowed = client.allowed_scopes.clone();
        if user_grant && client.allow_offline_access && !allowed.iter().any(|s| s == OFFLINE_ACCESS_SCOPE) {
            allowed.push(OFFLINE_ACCESS_SCOPE.to_owned());
        }
        allowed
    });
    if defaulted && !user_grant {
        scopes.retain(|scope| scope != OFFLINE_ACCESS_SCOPE);
    }

    let mut resource_scopes = Vec::with_capacity(scopes.len());
    for scope in &scopes {
        if scope == OFFLINE_ACCESS_SCOPE {
            if !(user_grant && client.allows_offline_access()) {
                return Err(OAuthError::invalid_scope("offline_access is not allowed for this client or grant"));
            }
        } else if client.allowed_scopes.contains(scope) {
            resource_scopes.push(scope.clone());
        } else {
            return Err(OAuthError::invalid_scope("a requested scope is not allowed for this client"));
        }
    }

    let mut identity_resources = resource_store.find_identity_resources_by_scope_name(&resource_scopes).await?;
    let api_scopes = resource_store.find_api_scopes_by_name(&resource_scopes).await?;
    let every_scope_known = resource_scopes.iter().all(|scope| {
        identity_resources.iter().any(|resource| &resource.name == scope)
            || api_scopes.iter().any(|api_scope| &api_scope.name == scope)
    });
    if !every_scope_known {
        return Err(OAuthError::invalid_scope("a requested scope is unknown"));
    }
    if !user_grant && !identity_resources.is_empty() {
        if !defaulted {
            return Err(OAuthError::invalid_scope("identity scopes cannot be requested without a user"));
        }
        identity_resources.clear();
    }

    let granted: Vec<String> = scopes
        .into_iter()
        .filter(|scope| {
            scope == OFFLINE_ACCESS_SCOPE
                || identity_resources.iter().any(|resource| &resource.name == scope)
                || api_scopes.iter().any(|api_scope| &api_scope.name == scope)
        })
        .collect();
    if granted.is_empty() {
        return Err(OAuthError::invalid_scope("no scope was requested or allowed"));
    }
    let api_scope_names: Vec<String> = api_scopes.iter().map(|scope| scope.name.clone()).collect();
    let api_resources = resource_store.find_api_resources_by_scope_name(&api_scope_names).await?;
    Ok(RequestedResources::new(granted, Resources::new(identity_resources, api_scopes, api_resources)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::resources::{ApiResource, ApiScope, IdentityResource};
    use crate::protocol::error::ErrorCode;
    use crate::stores::resources::InMemoryResourceStore;

    fn store() -> InMemoryResourceStore {
        InMemoryResourceStore::new(Resources::new(
            IdentityResource::standard(),
            vec![ApiScope::new("api1"), ApiScope::new("api2")],
            vec![ApiResource::new("orders", ["api1"])],
        ))
        .expect("valid")
    }

    fn client() -> Client {
        Client::new("c").with_scopes(["openid", "profile", "api1", "api2"]).with_offline_access()
    }

    async fn validate(
        client: &Client,
        scope: Option<&str>,
        grant_type: GrantType,
    ) -> Result<RequestedResources, ErrorCode> {
        validate_scopes(&store(), client, scope.map(parse_scope_parameter), grant_type)
            .await
            .map_err(|error| error.code())
    }

    #[test]
    fn scope_parameters_are_split_and_deduplicated() {
        assert_eq!(parse_scope_parameter(" a  b a c "), ["a", "b", "c"]);
        assert!(parse_scope_parameter("").is_empty());
    }

    #[tokio::test]
    async fn grants_allowed_known_scopes() {
        let granted =
            validate(&client(), Some("openid api1 offline_access"), GrantType::Password).await.expect("valid");
        assert_eq!(granted.scope_values(), ["openid", "api1", "offline_access"]);
        assert!(granted.offline_access());
        assert_eq!(granted.audiences(), ["orders"]);
    }

    #[tokio::test]
    async fn rejects_unknown_disallowed_and_userless_identity_scopes() {
        let client = client();
        for (scope, grant_type) in [
            ("email", GrantType::Password),
            ("nope", GrantType::Password),
            ("openid", GrantType::ClientCredentials),
            ("offline_access", GrantType::ClientCredentials),
        ] {
            let result = validate(&client, Some(scope), grant_type).await;
            assert_eq!(result.err(), Some(ErrorCode::InvalidScope), "{scope}");
        }
        let no_offline = Client::new("c").with_scopes(["api1"]);
        let result = validate(&no_offline, Some("api1 offline_access"), GrantType::Password).await;
        assert_eq!(result.err(), Some(ErrorCode::InvalidScope));
    }

    #[tokio::test]
    async fn missing_scope_means_every_allowed_scope_the_grant_can_carry() {
        let client = client();
        let user = validate(&client, None, GrantType::Password).await.expect("valid");
        assert_eq!(user.scope_values(), ["openid", "profile", "api1", "api2", "offline_access"]);
        let machine = validate(&client, None, GrantType::ClientCredentials).await.expect("valid");
        assert_eq!(machine.scope_values(), ["api1", "api2"]);
        let nothing = Client::new("c").with_scopes(["openid"]);
        let result = validate(&nothing, None, GrantType::ClientCredentials).await;
        assert_eq!(result.err(), Some(ErrorCode::InvalidScope));
    }
}

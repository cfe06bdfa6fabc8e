//! Identity resources, API scopes and API resources, and the validated set a request asks for.

use serde::{Deserialize, Serialize};

/// The `openid` scope, which makes a request an OpenID Connect request.
pub(crate) const OPENID_SCOPE: &str = "openid";

fn owned_strings<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Vec<String> {
    values.into_iter().map(Into::into).collect()
}

/// Appends the values of `lists` to `target`, skipping duplicates, in first-seen order.
fn extend_distinct<'a>(target: &mut Vec<String>, lists: impl IntoIterator<Item = &'a [String]>) {
    for value in lists.into_iter().flatten() {
        if !target.contains(value) {
            target.push(value.clone());
        }
    }
}

/// How a scope is shown on the host's consent page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScopeDisplay {
    /// A short name for users; the scope name when unset.
    #[serde(default)]
    pub display_name: Option<String>,
    /// A longer explanation.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the user cannot deselect the scope on the consent page.
    #[serde(default)]
    pub required: bool,
}

impl ScopeDisplay {
    /// A scope shown as `display_name`, without description, not required.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self { display_name: Some(display_name.into()), description: None, required: false }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Marks the scope as one the user cannot deselect.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// A scope that grants user claims in id tokens and at the userinfo endpoint (e.g. `profile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityResource {
    /// The scope name.
    pub name: String,
    /// The claim types this scope grants.
    pub user_claims: Vec<String>,
    /// How the consent page shows the scope.
    #[serde(default)]
    pub display: ScopeDisplay,
}

impl IdentityResource {
    /// A custom identity resource.
    pub fn new<S: Into<String>>(name: impl Into<String>, user_claims: impl IntoIterator<Item = S>) -> Self {
        Self { name: name.into(), user_claims: owned_strings(user_claims), display: ScopeDisplay::default() }
    }

    /// Sets how the consent page shows the scope.
    #[must_use]
    pub fn with_display(mut self, display: ScopeDisplay) -> Self {
        self.display = display;
        self
    }

    /// `openid`: the subject identifier. Required for OpenID Connect requests.
    pub fn openid() -> Self {
        Self::new(OPENID_SCOPE, ["sub"]).with_display(ScopeDisplay::new("Your user identifier").required())
    }

    /// `profile`: the OpenID Connect standard profile claims.
    pub fn profile() -> Self {
        Self::new(
            "profile",
            [
                "name",
                "family_name",
                "given_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "updated_at",
            ],
        )
        .with_display(
            ScopeDisplay::new("User profile")
                .with_description("Your user profile information (first name, last name, etc.)"),
        )
    }

    /// `email`: `email` and `email_verified`.
    pub fn email() -> Self {
        Self::new("email", ["email", "email_verified"]).with_display(ScopeDisplay::new("Your email address"))
    }

    /// `phone`: `phone_number` and `phone_number_verified`.
    pub fn phone() -> Self {
        Self::new("phone", ["phone_number", "phone_number_verified"])
            .with_display(ScopeDisplay::new("Your phone number"))
    }

    /// `address`: the structured `address` claim.
    pub fn address() -> Self {
        Self::new("address", ["address"]).with_display(ScopeDisplay::new("Your postal address"))
    }

    /// The five OpenID Connect standard scopes.
    pub fn standard() -> Vec<Self> {
        vec![Self::openid(), Self::profile(), Self::email(), Self::phone(), Self::address()]
    }
}

/// A scope of access to an API (e.g. `orders.read`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiScope {
    /// The scope name.
    pub name: String,
    /// User claim types to put into access tokens carrying this scope.
    pub user_claims: Vec<String>,
    /// How the consent page shows the scope.
    #[serde(default)]
    pub display: ScopeDisplay,
}

impl ApiScope {
    /// An API scope without user claims.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), user_claims: Vec::new(), display: ScopeDisplay::default() }
    }

    /// Sets how the consent page shows the scope.
    #[must_use]
    pub fn with_display(mut self, display: ScopeDisplay) -> Self {
        self.display = display;
        self
    }

    /// Sets the user claim types.
    #[must_use]
    pub fn with_user_claims<S: Into<String>>(mut self, claims: impl IntoIterator<Item = S>) -> Self {
        self.user_claims = owned_strings(claims);
        self
    }
}

/// An API: its name is the audience (`aud`) of access tokens that carry one of its scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiResource {
    /// The audience name.
    pub name: String,
    /// The API scopes that belong to this API.
    pub scopes: Vec<String>,
    /// User claim types to put into access tokens for this API.
    pub user_claims: Vec<String>,
}

impl ApiResource {
    /// An API owning `scopes`.
    pub fn new<S: Into<String>>(name: impl Into<String>, scopes: impl IntoIterator<Item = S>) -> Self {
        Self { name: name.into(), scopes: owned_strings(scopes), user_claims: Vec::new() }
    }

    /// Sets the user claim types.
    #[must_use]
    pub fn with_user_claims<S: Into<String>>(mut self, claims: impl IntoIterator<Item = S>) -> Self {
        self.user_claims = owned_strings(claims);
        self
    }
}

/// Every resource a store knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resources {
    /// Identity resources.
    pub identity_resources: Vec<IdentityResource>,
    /// API scopes.
    pub api_scopes: Vec<ApiScope>,
    /// API resources.
    pub api_resources: Vec<ApiResource>,
}

impl Resources {
    /// A set of resources.
    pub fn new(
        identity_resources: Vec<IdentityResource>,
        api_scopes: Vec<ApiScope>,
        api_resources: Vec<ApiResource>,
    ) -> Self {
        Self { identity_resources, api_scopes, api_resources }
    }
}

/// The resources a request was granted after scope validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedResources {
    scope_values: Vec<String>,
    resources: Resources,
    offline_access: bool,
}

impl RequestedResources {
    /// The granted resources for the scope values `scope_values` (which include `offline_access`
    /// when it was granted).
    pub fn new(scope_values: Vec<String>, resources: Resources) -> Self {
        let offline_access = scope_values.iter().any(|scope| scope == super::client::OFFLINE_ACCESS_SCOPE);
        Self { scope_values, resources, offline_access }
    }

    /// The granted scope values, in request order.
    pub fn scope_values(&self) -> &[String] {
        &self.scope_values
    }

    /// The granted resources.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// Whether `openid` was granted: an OpenID Connect request, answered with an id token.
    pub(crate) fn is_openid(&self) -> bool {
        self.scope_values.iter().any(|scope| scope == OPENID_SCOPE)
    }

    /// Whether `offline_access` (a refresh token) was granted.
    pub fn offline_access(&self) -> bool {
        self.offline_access
    }

    /// Claim types for id tokens and userinfo: the union of the identity resources' claims.
    pub fn identity_claim_types(&self) -> Vec<String> {
        let mut claim_types = Vec::new();
        extend_distinct(
            &mut claim_types,
            self.resources.identity_resources.iter().map(|resource| resource.user_claims.as_slice()),
        );
        claim_types
    }

    /// Claim types for access tokens: the union of the API resources' and API scopes' claims.
    pub fn api_claim_types(&self) -> Vec<String> {
        let mut claim_types = Vec::new();
        extend_distinct(
            &mut claim_types,
            self.resources.api_resources.iter().map(|resource| resource.user_claims.as_slice()),
        );
        extend_distinct(&mut claim_types, self.resources.api_scopes.iter().map(|scope| scope.user_claims.as_slice()));
        claim_types
    }

    /// The audiences of an access token: the names of the granted API resources.
    pub fn audiences(&self) -> Vec<String> {
        let mut names = Vec::new();
        extend_distinct(
            &mut names,
            self.resources.api_resources.iter().map(|resource| std::slice::from_ref(&resource.name)),
        );
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_types_are_distinct_unions() {
        let requested = RequestedResources::new(
            vec!["openid".into(), "profile".into(), "api1".into()],
            Resources::new(
                vec![IdentityResource::openid(), IdentityResource::new("profile", ["name", "sub"])],
                vec![ApiScope::new("api1").with_user_claims(["role", "email"])],
                vec![
                    ApiResource::new("orders", ["api1"]).with_user_claims(["email"]),
                    ApiResource::new("orders", ["api1"]),
                ],
            ),
        );
        assert_eq!(requested.identity_claim_types(), ["sub", "name"]);
        assert_eq!(requested.api_claim_types(), ["email", "role"]);
        assert_eq!(requested.audiences(), ["orders"]);
        assert!(!requested.offline_access());
    }
}

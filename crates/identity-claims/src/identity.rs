//! [`ClaimsIdentity`] (one authenticated identity and its claims) and [`ClaimsPrincipal`] (the
//! user, holding one or more identities), as in `System.Security.Claims`.

use crate::claim::Claim;
use crate::claim_types::dotnet;
use serde::{Deserialize, Serialize};

/// One identity of a user: how it was authenticated, which claim types carry the name and the
/// roles, and its claims in order. Claims are never de-duplicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsIdentity {
    /// How the identity was authenticated (e.g. `Identity.Application`); `None` means
    /// unauthenticated.
    pub authentication_type: Option<String>,
    /// The claim type whose first value is the identity's [name](Self::name).
    pub name_claim_type: String,
    /// The claim type that carries role names.
    pub role_claim_type: String,
    /// The claims, in the order they were added.
    pub claims: Vec<Claim>,
}

impl ClaimsIdentity {
    /// An empty identity with .NET's default name and role claim types
    /// ([`dotnet::NAME`], [`dotnet::ROLE`]).
    pub fn new(authentication_type: impl Into<String>) -> Self {
        Self::with_claim_types(authentication_type, dotnet::NAME, dotnet::ROLE)
    }

    /// An empty identity whose name and role are carried by the given claim types.
    pub fn with_claim_types(
        authentication_type: impl Into<String>,
        name_claim_type: impl Into<String>,
        role_claim_type: impl Into<String>,
    ) -> Self {
        Self {
            authentication_type: Some(authentication_type.into()),
            name_claim_type: name_claim_type.into(),
            role_claim_type: role_claim_type.into(),
            claims: Vec::new(),
        }
    }

    /// Whether the identity is authenticated: it has a non-empty authentication type.
    pub fn is_authenticated(&self) -> bool {
        self.authentication_type.as_deref().is_some_and(|t| !t.is_empty())
    }

    /// The value of the first claim of the [name claim type](Self::name_claim_type).
    pub fn name(&self) -> Option<&str> {
        self.find_first(&self.name_claim_type).map(|c| c.value.as_str())
    }

    /// Whether a claim of the [role claim type](Self::role_claim_type) has the value `role`.
    pub fn is_in_role(&self, role: &str) -> bool {
        self.has_claim(&self.role_claim_type, role)
    }

    /// The first claim of `claim_type`.
    pub fn find_first(&self, claim_type: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.claim_type == claim_type)
    }

    /// Every claim of `claim_type`, in order.
    pub fn find_all<'a>(&'a self, claim_type: &'a str) -> impl Iterator<Item = &'a Claim> + 'a {
        self.claims.iter().filter(move |c| c.claim_type == claim_type)
    }

    /// Whether some claim has this type.
    pub fn has_claim_type(&self, claim_type: &str) -> bool {
        self.find_first(claim_type).is_some()
    }

    /// Whether some claim has this type and value (compared exactly).
    pub fn has_claim(&self, claim_type: &str, value: &str) -> bool {
        self.claims.iter().any(|c| c.claim_type == claim_type && c.value == value)
    }

    /// Appends a claim.
    pub fn add(&mut self, claim: Claim) {
        self.claims.push(claim);
    }

    /// Appends claims in order.
    pub fn add_all(&mut self, claims: impl IntoIterator<Item = Claim>) {
        self.claims.extend(claims);
    }

    /// Removes the first claim with this type and value and returns it; later equal claims stay.
    pub fn remove(&mut self, claim_type: &str, value: &str) -> Option<Claim> {
        let index = self.claims.iter().position(|c| c.claim_type == claim_type && c.value == value)?;
        Some(self.claims.remove(index))
    }
}

/// A user: one or more identities. Code that adds claims works on the first identity, as .NET
/// does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsPrincipal {
    /// The identities, the primary one first.
    pub identities: Vec<ClaimsIdentity>,
}

impl ClaimsPrincipal {
    /// A principal with one identity.
    pub fn new(identity: ClaimsIdentity) -> Self {
        Self { identities: vec![identity] }
    }

    /// The primary (first) identity.
    pub fn identity(&self) -> Option<&ClaimsIdentity> {
        self.identities.first()
    }

    /// The primary (first) identity, to change its claims.
    pub fn identity_mut(&mut self) -> Option<&mut ClaimsIdentity> {
        self.identities.first_mut()
    }

    /// Every claim of every identity, in order.
    pub fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.identities.iter().flat_map(|i| i.claims.iter())
    }

    /// The first claim of `claim_type` in any identity.
    pub fn find_first(&self, claim_type: &str) -> Option<&Claim> {
        self.claims().find(|c| c.claim_type == claim_type)
    }

    /// Every claim of `claim_type` in any identity, in order.
    pub fn find_all<'a>(&'a self, claim_type: &'a str) -> impl Iterator<Item = &'a Claim> + 'a {
        self.claims().filter(move |c| c.claim_type == claim_type)
    }

    /// Whether some identity has a claim with this type and value.
    pub fn has_claim(&self, claim_type: &str, value: &str) -> bool {
        self.identities.iter().any(|i| i.has_claim(claim_type, value))
    }

    /// Whether some identity has the role (by its own role claim type).
    pub fn is_in_role(&self, role: &str) -> bool {
        self.identities.iter().any(|i| i.is_in_role(role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClaimsIdentity {
        let mut identity = ClaimsIdentity::with_claim_types("Identity.Application", "name", "role");
        identity.add_all([
            Claim::new("sub", "1"),
            Claim::new("name", "alice"),
            Claim::new("role", "admin"),
            Claim::new("role", "user"),
            Claim::new("name", "alice"),
        ]);
        identity
    }

    #[test]
    fn lookups_see_claims_in_order() {
        let identity = sample();
        assert!(identity.is_authenticated());
        assert_eq!(identity.name(), Some("alice"));
        assert_eq!(identity.find_first("role").map(|c| c.value.as_str()), Some("admin"));
        let roles: Vec<&str> = identity.find_all("role").map(|c| c.value.as_str()).collect();
        assert_eq!(roles, ["admin", "user"]);
        assert!(identity.has_claim_type("sub"));
        assert!(!identity.has_claim_type("email"));
        assert!(identity.has_claim("role", "user"));
        assert!(!identity.has_claim("role", "USER"));
        assert!(identity.is_in_role("admin"));
        assert!(!ClaimsIdentity { authentication_type: Some(String::new()), ..sample() }.is_authenticated());
        assert_eq!(ClaimsIdentity::new("x").name_claim_type, dotnet::NAME);
    }

    #[test]
    fn remove_takes_only_the_first_match() {
        let mut identity = sample();
        assert_eq!(identity.remove("name", "alice"), Some(Claim::new("name", "alice")));
        assert_eq!(identity.find_all("name").count(), 1);
        assert_eq!(identity.claims.last(), Some(&Claim::new("name", "alice")));
        assert_eq!(identity.remove("name", "bob"), None);
    }

    #[test]
    fn principal_helpers_span_every_identity() {
        let mut second = ClaimsIdentity::new("external");
        second.add(Claim::new(dotnet::ROLE, "guest"));
        let mut principal = ClaimsPrincipal { identities: vec![sample(), second] };
        assert_eq!(principal.claims().count(), 6);
        assert_eq!(principal.find_first("sub").map(|c| c.value.as_str()), Some("1"));
        assert_eq!(principal.find_all("role").count(), 2);
        assert!(principal.has_claim(dotnet::ROLE, "guest"));
        assert!(principal.is_in_role("guest"));
        assert!(principal.is_in_role("admin"));
        if let Some(identity) = principal.identity_mut() {
            identity.add(Claim::new("amr", "pwd"));
        }
        assert_eq!(principal.identity().and_then(|i| i.find_first("amr")), Some(&Claim::new("amr", "pwd")));
        assert!(ClaimsPrincipal::default().identity().is_none());
    }
}

//! Where identity resources, API scopes and API resources come from.

use std::collections::HashSet;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::resources::{ApiResource, ApiScope, IdentityResource, Resources};

/// Looks up resources by scope name.
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// The identity resources named in `scope_names`.
    async fn find_identity_resources_by_scope_name(&self, scope_names: &[String]) -> Result<Vec<IdentityResource>>;

    /// The API scopes named in `scope_names`.
    async fn find_api_scopes_by_name(&self, scope_names: &[String]) -> Result<Vec<ApiScope>>;

    /// The API resources owning any of the API scopes in `scope_names`.
    async fn find_api_resources_by_scope_name(&self, scope_names: &[String]) -> Result<Vec<ApiResource>>;

    /// Every resource (for discovery).
    async fn get_all_resources(&self) -> Result<Resources>;
}

/// Resources held in memory, as configured at start-up.
#[derive(Debug, Default, Clone)]
pub struct InMemoryResourceStore {
    resources: Resources,
}

impl InMemoryResourceStore {
    /// A store of `resources`. Scope names must be unique across identity resources and API
    /// scopes, since a scope value must mean one thing; API resource names must be unique too.
    pub fn new(resources: Resources) -> Result<Self> {
        let mut scope_names = HashSet::new();
        let all_scope_names = resources
            .identity_resources
            .iter()
            .map(|resource| &resource.name)
            .chain(resources.api_scopes.iter().map(|scope| &scope.name));
        for name in all_scope_names {
            if !scope_names.insert(name) {
                return Err(Error::Configuration(format!("scope `{name}` is configured twice")));
            }
        }
        let mut api_names = HashSet::new();
        for resource in &resources.api_resources {
            if !api_names.insert(&resource.name) {
                return Err(Error::Configuration(format!("API resource `{}` is configured twice", resource.name)));
            }
        }
        Ok(Self { resources })
    }
}

#[async_trait]
impl ResourceStore for InMemoryResourceStore {
    async fn find_identity_resources_by_scope_name(&self, scope_names: &[String]) -> Result<Vec<IdentityResource>> {
        Ok(self
            .resources
            .identity_resources
            .iter()
            .filter(|resource| scope_names.contains(&resource.name))
            .cloned()
            .collect())
    }

    async fn find_api_scopes_by_name(&self, scope_names: &[String]) -> Result<Vec<ApiScope>> {
        Ok(self.resources.api_scopes.iter().filter(|scope| scope_names.contains(&scope.name)).cloned().collect())
    }

    async fn find_api_resources_by_scope_name(&self, scope_names: &[String]) -> Result<Vec<ApiResource>> {
        Ok(self
            .resources
            .api_resources
            .iter()
            .filter(|resource| resource.scopes.iter().any(|scope| scope_names.contains(scope)))
            .cloned()
            .collect())
    }

    async fn get_all_resources(&self) -> Result<Resources> {
        Ok(self.resources.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_resources_by_scope_name() {
        let store = InMemoryResourceStore::new(Resources::new(
            IdentityResource::standard(),
            vec![ApiScope::new("orders.read"), ApiScope::new("billing")],
            vec![ApiResource::new("orders", ["orders.read"])],
        ))
        .expect("valid");
        let names = vec!["openid".to_owned(), "orders.read".to_owned()];
        let identity = store.find_identity_resources_by_scope_name(&names).await.expect("ok");
        assert_eq!(identity, [IdentityResource::openid()]);
        let scopes = store.find_api_scopes_by_name(&names).await.expect("ok");
        assert_eq!(scopes, [ApiScope::new("orders.read")]);
        let apis = store.find_api_resources_by_scope_name(&names).await.expect("ok");
        assert_eq!(apis.len(), 1);
    }

    #[test]
    fn scope_names_must_be_unique() {
        let clash = Resources::new(vec![IdentityResource::openid()], vec![ApiScope::new("openid")], Vec::new());
        assert!(InMemoryResourceStore::new(clash).is_err());
    }
}

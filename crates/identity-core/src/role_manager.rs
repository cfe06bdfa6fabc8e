//! `RoleManager`: creating, renaming and deleting roles, and their claims, with validation and
//! normalization as in ASP.NET Core Identity.

use crate::error::{Error, Result};
use crate::model::{IdentityRole, StoredClaim};
use crate::normalizer::{LookupNormalizer, UpperInvariantNormalizer};
use crate::result::{ErrorDescriber, IdentityResult};
use crate::store::{Capability, QueryableRoleStore, RoleClaimStore, RoleStore};
use crate::validators::{DefaultRoleValidator, RoleValidator};
use std::sync::Arc;

/// Manages roles in a [`RoleStore`]. Share it behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct RoleManager {
    store: Arc<dyn RoleStore>,
    validators: Vec<Arc<dyn RoleValidator>>,
    normalizer: Arc<dyn LookupNormalizer>,
    describer: ErrorDescriber,
}

impl RoleManager {
    /// A manager with the default validator, normalizer and describer.
    pub fn new(store: Arc<dyn RoleStore>) -> Self {
        Self {
            store,
            validators: vec![Arc::new(DefaultRoleValidator)],
            normalizer: Arc::new(UpperInvariantNormalizer),
            describer: ErrorDescriber,
        }
    }

    /// Adds a validator after the existing ones.
    pub fn with_validator(mut self, validator: Arc<dyn RoleValidator>) -> Self {
        self.validators.push(validator);
        self
    }

    /// Removes every validator, the default one included.
    pub fn without_validators(mut self) -> Self {
        self.validators.clear();
        self
    }

    /// Replaces the normalizer.
    pub fn with_normalizer(mut self, normalizer: Arc<dyn LookupNormalizer>) -> Self {
        self.normalizer = normalizer;
        self
    }

    /// Replaces the error describer.
    pub fn with_describer(mut self, describer: ErrorDescriber) -> Self {
        self.describer = describer;
        self
    }

    /// The store.
    pub fn store(&self) -> &dyn RoleStore {
        self.store.as_ref()
    }

    /// The error describer.
    pub fn describer(&self) -> &ErrorDescriber {
        &self.describer
    }

    /// Normalizes a role name.
    pub fn normalize_key(&self, name: &str) -> String {
        self.normalizer.normalize_name(name)
    }

    /// Whether the store keeps role claims.
    pub fn supports_role_claims(&self) -> bool {
        self.store.role_claim_store().is_some()
    }

    /// Whether the store can list roles.
    pub fn supports_queryable_roles(&self) -> bool {
        self.store.queryable_role_store().is_some()
    }

    async fn validate(&self, role: &IdentityRole) -> Result<IdentityResult> {
        let mut errors = Vec::new();
        let mut failed = false;
        for validator in &self.validators {
            if let IdentityResult::Failed(found) = validator.validate(self, role).await? {
                failed = true;
                errors.extend(found);
            }
        }
        if failed {
            let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
            tracing::warn!(role_id = %role.id, codes = %codes.join(";"), "role validation failed");
            return Ok(IdentityResult::Failed(errors));
        }
        Ok(IdentityResult::Success)
    }

    fn update_normalized_name(&self, role: &mut IdentityRole) {
        role.normalized_name = role.name.as_deref().map(|n| self.normalize_key(n));
    }

    /// Validates, normalizes and inserts a role.
    pub async fn create(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let validation = self.validate(role).await?;
        if !validation.succeeded() {
            return Ok(validation);
        }
        self.update_normalized_name(role);
        self.store.create(role).await
    }

    /// Validates, normalizes and writes a role.
    pub async fn update(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let validation = self.validate(role).await?;
        if !validation.succeeded() {
            return Ok(validation);
        }
        self.update_normalized_name(role);
        self.store.update(role).await
    }

    /// Deletes a role with its claims and memberships.
    pub async fn delete(&self, role: &IdentityRole) -> Result<IdentityResult> {
        self.store.delete(role).await
    }

    /// Renames a role in memory only; call [`Self::update`] to persist, as in .NET.
    pub fn set_role_name(&self, role: &mut IdentityRole, name: Option<&str>) -> IdentityResult {
        role.name = name.map(str::to_owned);
        self.update_normalized_name(role);
        IdentityResult::Success
    }

    /// Finds a role by id.
    pub async fn find_by_id(&self, role_id: &str) -> Result<Option<IdentityRole>> {
        self.store.find_by_id(role_id).await
    }

    /// Finds a role by name (normalized first).
    pub async fn find_by_name(&self, name: &str) -> Result<Option<IdentityRole>> {
        self.store.find_by_name(&self.normalize_key(name)).await
    }

    /// Whether a role with this name exists.
    pub async fn role_exists(&self, name: &str) -> Result<bool> {
        Ok(self.find_by_name(name).await?.is_some())
    }

    fn claim_store(&self) -> Result<&dyn RoleClaimStore> {
        self.store.role_claim_store().ok_or(Error::NotSupported(Capability::RoleClaims))
    }

    /// Adds a claim to a role and writes the role (new concurrency stamp).
    pub async fn add_claim(&self, role: &mut IdentityRole, claim: &StoredClaim) -> Result<IdentityResult> {
        self.claim_store()?.add_claim(role, claim).await?;
        self.update(role).await
    }

    /// Removes a claim from a role and writes the role.
    pub async fn remove_claim(&self, role: &mut IdentityRole, claim: &StoredClaim) -> Result<IdentityResult> {
        self.claim_store()?.remove_claim(role, claim).await?;
        self.update(role).await
    }

    /// The role's claims.
    pub async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<StoredClaim>> {
        self.claim_store()?.get_claims(role).await
    }

    /// Roles whose name starts with `name_prefix` (all when `None`).
    pub async fn roles(&self, name_prefix: Option<&str>) -> Result<Vec<IdentityRole>> {
        let store: &dyn QueryableRoleStore =
            self.store.queryable_role_store().ok_or(Error::NotSupported(Capability::QueryableRoles))?;
        let normalized = name_prefix.map(|p| self.normalize_key(p));
        store.roles(normalized.as_deref()).await
    }
}

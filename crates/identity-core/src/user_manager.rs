//! `UserManager`: every user operation of ASP.NET Core Identity, with its exact rules for
//! validation, normalization, security-stamp rotation and optimistic concurrency.
//!
//! Every mutating operation ends in the same write pipeline: run all user validators, recompute
//! the normalized name and email, then [`UserStore::update`], whose result (for example
//! `ConcurrencyFailure`) is returned. Operations that change credentials rotate the security
//! stamp first, so that outstanding tokens and sessions die with the old credentials.

use crate::base32;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::{Claim, IdentityUser, UserExtension, UserLoginInfo, UserPasskeyInfo, is_storable_name};
use crate::normalizer::{LookupNormalizer, UpperInvariantNormalizer};
use crate::options::{AUTHENTICATOR_PROVIDER, DEFAULT_PROVIDER, EMAIL_PROVIDER, IdentityOptions, PHONE_PROVIDER};
use crate::password_hasher::{HashingPool, IdentityPasswordHasher, PasswordHasher, PasswordVerificationResult};
use crate::result::{ErrorDescriber, IdentityResult};
use crate::store::{
    Capability, LockoutChange, LockoutState, LockoutTransition, QueryableUserStore, UserAuthenticationTokenStore,
    UserAuthenticatorKeyStore, UserClaimStore, UserEmailStore, UserLockoutStore, UserLoginStore, UserPasskeyStore,
    UserQuery, UserRoleStore, UserStore, UserTwoFactorRecoveryCodeStore,
};
use crate::tokens::{
    AuthenticatorTokenProvider, DataProtectorTokenProvider, EmailTokenProvider, PhoneNumberTokenProvider, TokenProvider,
};
use crate::validators::{DefaultPasswordValidator, DefaultUserValidator, PasswordValidator, UserValidator};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Purpose of password reset tokens.
pub const RESET_PASSWORD_PURPOSE: &str = "ResetPassword";
/// Purpose of email confirmation tokens.
pub const CONFIRM_EMAIL_PURPOSE: &str = "EmailConfirmation";
/// Purpose prefix of change-phone-number tokens.
pub const CHANGE_PHONE_NUMBER_PURPOSE: &str = "ChangePhoneNumber";
/// Purpose of two-factor sign-in tokens.
pub const TWO_FACTOR_PURPOSE: &str = "TwoFactor";

/// The purpose of a change-email token for `new_email`.
pub fn change_email_purpose(new_email: &str) -> String {
    format!("ChangeEmail:{new_email}")
}

fn change_phone_number_purpose(phone_number: &str) -> String {
    format!("{CHANGE_PHONE_NUMBER_PURPOSE}:{phone_number}")
}

/// Manages users in a store. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct UserManager<X: UserExtension = ()> {
    store: Arc<dyn UserStore<X>>,
    options: IdentityOptions,
    hashing: HashingPool,
    user_validators: Vec<Arc<dyn UserValidator<X>>>,
    password_validators: Vec<Arc<dyn PasswordValidator<X>>>,
    normalizer: Arc<dyn LookupNormalizer>,
    describer: ErrorDescriber,
    token_providers: Vec<(String, Arc<dyn TokenProvider<X>>)>,
    clock: Arc<dyn Clock>,
}

/// Builds a [`UserManager`]; start with [`UserManager::builder`].
#[derive(Debug)]
pub struct UserManagerBuilder<X: UserExtension> {
    store: Arc<dyn UserStore<X>>,
    options: IdentityOptions,
    hashing: Option<HashingPool>,
    user_validators: Vec<Arc<dyn UserValidator<X>>>,
    password_validators: Vec<Arc<dyn PasswordValidator<X>>>,
    normalizer: Arc<dyn LookupNormalizer>,
    describer: ErrorDescriber,
    token_providers: Vec<(String, Arc<dyn TokenProvider<X>>)>,
    clock: Arc<dyn Clock>,
}

impl<X: UserExtension> UserManagerBuilder<X> {
    /// Replaces the options.
    pub fn options(mut self, options: IdentityOptions) -> Self {
        self.options = options;
        self
    }

    /// Uses this hasher, run on a pool sized to the machine.
    pub fn password_hasher(mut self, hasher: Arc<dyn PasswordHasher>) -> Self {
        self.hashing = Some(HashingPool::with_available_parallelism(hasher));
        self
    }

    /// Uses this hashing pool (to share one bound across managers).
    pub fn hashing_pool(mut self, pool: HashingPool) -> Self {
        self.hashing = Some(pool);
        self
    }

    /// Adds a user validator after the existing ones.
    pub fn add_user_validator(mut self, validator: Arc<dyn UserValidator<X>>) -> Self {
        self.user_validators.push(validator);
        self
    }

    /// Removes every user validator, the default one included.
    pub fn clear_user_validators(mut self) -> Self {
        self.user_validators.clear();
        self
    }

    /// Adds a password validator after the existing ones.
    pub fn add_password_validator(mut self, validator: Arc<dyn PasswordValidator<X>>) -> Self {
        self.password_validators.push(validator);
        self
    }

    /// Removes every password validator, the default one included.
    pub fn clear_password_validators(mut self) -> Self {
        self.password_validators.clear();
        self
    }

    /// Replaces the lookup normalizer.
    pub fn normalizer(mut self, normalizer: Arc<dyn LookupNormalizer>) -> Self {
        self.normalizer = normalizer;
        self
    }

    /// Replaces the error describer.
    pub fn error_describer(mut self, describer: ErrorDescriber) -> Self {
        self.describer = describer;
        self
    }

    /// Replaces the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Registers a token provider under `name`, replacing one of the same name in place.
    pub fn token_provider(mut self, name: impl Into<String>, provider: Arc<dyn TokenProvider<X>>) -> Self {
        let name = name.into();
        match self.token_providers.iter_mut().find(|(existing, _)| *existing == name) {
            Some(slot) => slot.1 = provider,
            None => self.token_providers.push((name, provider)),
        }
        self
    }

    /// Registers the four standard providers in .NET's order: `Default` (signed with `secret`,
    /// which every server instance must share), `Email`, `Phone` and `Authenticator`.
    pub fn default_token_providers(self, secret: impl Into<Vec<u8>>) -> Self {
        self.token_provider(DEFAULT_PROVIDER, Arc::new(DataProtectorTokenProvider::new(secret)))
            .token_provider(EMAIL_PROVIDER, Arc::new(EmailTokenProvider))
            .token_provider(PHONE_PROVIDER, Arc::new(PhoneNumberTokenProvider))
            .token_provider(AUTHENTICATOR_PROVIDER, Arc::new(AuthenticatorTokenProvider))
    }

    /// Builds the manager.
    pub fn build(self) -> UserManager<X> {
        UserManager {
            store: self.store,
            options: self.options,
            hashing: self.hashing.unwrap_or_else(|| {
                HashingPool::with_available_parallelism(Arc::new(IdentityPasswordHasher::default()))
            }),
            user_validators: self.user_validators,
            password_validators: self.password_validators,
            normalizer: self.normalizer,
            describer: self.describer,
            token_providers: self.token_providers,
            clock: self.clock,
        }
    }
}

macro_rules! require {
    ($self:ident . $accessor:ident, $capability:expr) => {
        $self.store.$accessor().ok_or(Error::NotSupported($capability))?
    };
}

impl<X: UserExtension> UserManager<X> {
    /// A builder with the defaults of `AddIdentityCore`: default validators, upper-invariant
    /// normalizer, Argon2id hasher, system clock, no token providers.
    pub fn builder(store: Arc<dyn UserStore<X>>) -> UserManagerBuilder<X> {
        UserManagerBuilder {
            store,
            options: IdentityOptions::default(),
            hashing: None,
            user_validators: vec![Arc::new(DefaultUserValidator)],
            password_validators: vec![Arc::new(DefaultPasswordValidator)],
            normalizer: Arc::new(UpperInvariantNormalizer),
            describer: ErrorDescriber,
            token_providers: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    // ----- Accessors -------------------------------------------------------------------------

    /// The store.
    pub fn store(&self) -> &dyn UserStore<X> {
        self.store.as_ref()
    }

    /// The options.
    pub fn options(&self) -> &IdentityOptions {
        &self.options
    }

    /// The error describer.
    pub fn describer(&self) -> &ErrorDescriber {
        &self.describer
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The password hashing pool.
    pub fn hashing_pool(&self) -> &HashingPool {
        &self.hashing
    }

    /// Normalizes a user or role name for lookups.
    pub fn normalize_name(&self, name: &str) -> String {
        self.normalizer.normalize_name(name)
    }

    /// Normalizes an email for lookups.
    pub fn normalize_email(&self, email: &str) -> String {
        self.normalizer.normalize_email(email)
    }

    /// Whether the store keeps password hashes.
    pub fn supports_user_password(&self) -> bool {
        self.store.password_store().is_some()
    }
    /// Whether the store keeps emails.
    pub fn supports_user_email(&self) -> bool {
        self.store.email_store().is_some()
    }
    /// Whether the store keeps phone numbers.
    pub fn supports_user_phone_number(&self) -> bool {
        self.store.phone_number_store().is_some()
    }
    /// Whether the store keeps user claims.
    pub fn supports_user_claim(&self) -> bool {
        self.store.claim_store().is_some()
    }
    /// Whether the store keeps role memberships.
    pub fn supports_user_role(&self) -> bool {
        self.store.role_store().is_some()
    }
    /// Whether the store keeps external logins.
    pub fn supports_user_login(&self) -> bool {
        self.store.login_store().is_some()
    }
    /// Whether the store keeps lockout data.
    pub fn supports_user_lockout(&self) -> bool {
        self.store.lockout_store().is_some()
    }
    /// Whether the store keeps security stamps.
    pub fn supports_user_security_stamp(&self) -> bool {
        self.store.security_stamp_store().is_some()
    }
    /// Whether the store keeps the two-factor flag.
    pub fn supports_user_two_factor(&self) -> bool {
        self.store.two_factor_store().is_some()
    }
    /// Whether the store keeps authentication tokens.
    pub fn supports_user_authentication_tokens(&self) -> bool {
        self.store.authentication_token_store().is_some()
    }
    /// Whether the store keeps authenticator keys.
    pub fn supports_user_authenticator_key(&self) -> bool {
        self.store.authenticator_key_store().is_some()
    }
    /// Whether the store keeps recovery codes.
    pub fn supports_user_two_factor_recovery_codes(&self) -> bool {
        self.store.recovery_code_store().is_some()
    }
    /// Whether the store can list users.
    pub fn supports_queryable_users(&self) -> bool {
        self.store.queryable_store().is_some()
    }
    /// Whether the store keeps passkeys.
    pub fn supports_user_passkey(&self) -> bool {
        self.store.passkey_store().is_some()
    }

    // ----- Write pipeline --------------------------------------------------------------------

    fn rotate_security_stamp(&self, user: &mut IdentityUser<X>) {
        if self.supports_user_security_stamp() {
            user.security_stamp = Some(base32::new_security_stamp());
        }
    }

    fn update_normalized_fields(&self, user: &mut IdentityUser<X>) {
        user.normalized_user_name = user.user_name.as_deref().map(|n| self.normalize_name(n));
        if self.supports_user_email() {
            user.normalized_email = user.email.as_deref().map(|e| self.normalize_email(e));
        }
    }

    /// Runs every user validator and concatenates their errors.
    pub async fn validate_user(&self, user: &IdentityUser<X>) -> Result<IdentityResult> {
        if self.supports_user_security_stamp() && user.security_stamp.is_none() {
            return Err(Error::NullSecurityStamp);
        }
        let mut errors = Vec::new();
        let mut failed = false;
        for validator in &self.user_validators {
            if let IdentityResult::Failed(found) = validator.validate(self, user).await? {
                failed = true;
                errors.extend(found);
            }
        }
        if failed {
            let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
            tracing::warn!(codes = %codes.join(";"), "user validation failed");
            return Ok(IdentityResult::Failed(errors));
        }
        Ok(IdentityResult::Success)
    }

    /// Runs every password validator; any failure fails, even one without errors.
    pub async fn validate_password(&self, user: &IdentityUser<X>, password: &str) -> Result<IdentityResult> {
        let mut errors = Vec::new();
        let mut failed = false;
        for validator in &self.password_validators {
            if let IdentityResult::Failed(found) = validator.validate(self, user, password).await? {
                failed = true;
                errors.extend(found);
            }
        }
        if failed {
            let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
            tracing::warn!(codes = %codes.join(";"), "user password validation failed");
            return Ok(IdentityResult::Failed(errors));
        }
        Ok(IdentityResult::Success)
    }

    async fn update_user(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let validation = self.validate_user(user).await?;
        if !validation.succeeded() {
            return Ok(validation);
        }
        self.update_normalized_fields(user);
        self.store.update(user).await
    }

    async fn update_password_hash(
        &self,
        user: &mut IdentityUser<X>,
        new_password: Option<&str>,
        validate: bool,
    ) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        if validate {
            let validation = self.validate_password(user, new_password.unwrap_or("")).await?;
            if !validation.succeeded() {
                return Ok(validation);
            }
        }
        user.password_hash = match new_password {
            Some(password) => Some(self.hashing.hash(password).await?),
            None => None,
        };
        self.rotate_security_stamp(user);
        Ok(IdentityResult::Success)
    }

    // ----- Create, update, delete, find ------------------------------------------------------

    /// Creates a user: new security stamp, validation, lockout enabled when
    /// `lockout.allowed_for_new_users`, normalized name and email, then insert.
    pub async fn create(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        self.rotate_security_stamp(user);
        let validation = self.validate_user(user).await?;
        if !validation.succeeded() {
            return Ok(validation);
        }
        if self.options.lockout.allowed_for_new_users && self.supports_user_lockout() {
            user.lockout_enabled = true;
        }
        self.update_normalized_fields(user);
        self.store.create(user).await
    }

    /// Validates and hashes `password`, then creates the user.
    pub async fn create_with_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<IdentityResult> {
        let result = self.update_password_hash(user, Some(password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.create(user).await
    }

    /// Validates and writes the user (no stamp rotation).
    pub async fn update(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        self.update_user(user).await
    }

    /// Deletes the user and its claims, logins, tokens, roles and passkeys.
    pub async fn delete(&self, user: &IdentityUser<X>) -> Result<IdentityResult> {
        self.store.delete(user).await
    }

    /// Finds a user by id.
    pub async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser<X>>> {
        self.store.find_by_id(user_id).await
    }

    /// Finds a user by user name (normalized first).
    /// A name that no user can have (see [`is_storable_name`]) finds nobody without asking the
    /// store.
    pub async fn find_by_name(&self, user_name: &str) -> Result<Option<IdentityUser<X>>> {
        if !is_storable_name(user_name) {
            return Ok(None);
        }
        self.store.find_by_name(&self.normalize_name(user_name)).await
    }

    /// Finds a user by email (normalized first). An address that no user can have (see
    /// [`is_storable_name`]) finds nobody without asking the store.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserEmailStore<X> = require!(self.email_store, Capability::Email);
        if !is_storable_name(email) {
            return Ok(None);
        }
        store.find_by_email(&self.normalize_email(email)).await
    }

    /// Finds the user owning an external login.
    pub async fn find_by_login(&self, login_provider: &str, provider_key: &str) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.find_by_login(login_provider, provider_key).await
    }

    /// Lists users.
    pub async fn users(&self, query: &UserQuery) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn QueryableUserStore<X> = require!(self.queryable_store, Capability::QueryableUsers);
        store.users(query).await
    }

    /// Renames the user: rotates the stamp, validates (catching invalid and taken names) and writes.
    pub async fn set_user_name(&self, user: &mut IdentityUser<X>, user_name: Option<&str>) -> Result<IdentityResult> {
        user.user_name = user_name.map(str::to_owned);
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    // ----- Passwords -------------------------------------------------------------------------

    async fn verify_password(&self, user: &IdentityUser<X>, password: &str) -> Result<PasswordVerificationResult> {
        match user.password_hash.as_deref() {
            None => Ok(PasswordVerificationResult::Failed),
            Some(hash) => self.hashing.verify(hash, password).await,
        }
    }

    /// Whether `password` is the user's password. A hash in an outdated format (an imported
    /// ASP.NET Identity hash, weaker Argon2 parameters) is replaced by a current one on success,
    /// which rotates the stamp as .NET does; a failure to write the new hash does not fail the check
    /// and leaves `user` with the hash and stamp that are stored (a copy changed since it was read
    /// fails to write, and keeps what it had).
    pub async fn check_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<bool> {
        require!(self.password_store, Capability::Password);
        let result = self.verify_password(user, password).await?;
        if result == PasswordVerificationResult::SuccessRehashNeeded {
            let (stored_hash, stored_stamp) = (user.password_hash.clone(), user.security_stamp.clone());
            let rehash = self.update_password_hash(user, Some(password), false).await?;
            let written = if rehash.succeeded() { self.update_user(user).await? } else { rehash };
            if !written.succeeded() {
                tracing::warn!(result = %written, "upgraded password hash could not be saved");
                user.password_hash = stored_hash;
                user.security_stamp = stored_stamp;
            }
        }
        if result == PasswordVerificationResult::Failed {
            tracing::debug!("invalid password for user");
        }
        Ok(result != PasswordVerificationResult::Failed)
    }

    /// Whether the user has a password.
    pub async fn has_password(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.password_store, Capability::Password);
        Ok(user.password_hash.is_some())
    }

    /// Sets a first password; `UserAlreadyHasPassword` when one exists.
    pub async fn add_password(&self, user: &mut IdentityUser<X>, password: &str) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        if user.password_hash.is_some() {
            tracing::debug!("user already has a password");
            return Ok(IdentityResult::failed([self.describer.user_already_has_password()]));
        }
        let result = self.update_password_hash(user, Some(password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// Changes the password after checking the current one (`PasswordMismatch` otherwise).
    pub async fn change_password(
        &self,
        user: &mut IdentityUser<X>,
        current_password: &str,
        new_password: &str,
    ) -> Result<IdentityResult> {
        require!(self.password_store, Capability::Password);
        if self.verify_password(user, current_password).await? == PasswordVerificationResult::Failed {
            tracing::debug!("change password failed for user");
            return Ok(IdentityResult::failed([self.describer.password_mismatch()]));
        }
        let result = self.update_password_hash(user, Some(new_password), true).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// Removes the password.
    pub async fn remove_password(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let result = self.update_password_hash(user, None, false).await?;
        if !result.succeeded() {
            return Ok(result);
        }
        self.update_user(user).await
    }

    /// A password reset token from the configured provider.
    pub async fn generate_password_reset_token(&self, user: &IdentityUser<X>) -> Result<String> {
        let provider = self.options.tokens.password_reset_token_provider.clone();
        self.generate_user_token(user, &provider, RESET_PASSWORD_PURPOSE).await
    }

    /// Resets the password with a reset token. On an invalid token or a rejected password nothing
    /// changes.
    pub async fn reset_password(
        &self,
        user: &mut IdentityUser<X>,
        token: &str,
        new_password: &str,
    ) -> Result<IdentityResult> {
        let provider = self.options.tokens.password_reset_token_provider.clone();
        if !self.verify_user_token(user, &provider, RESET_PASSWORD_PURPOSE, token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        let snapshot = user.clone();
        let result = self.update_password_hash(user, Some(new_password), true).await?;
        if !result.succeeded() {
            *user = snapshot;
            return Ok(result);
        }
        self.update_user(user).await
    }

    // ----- Security stamp ----------------------------------------------------------------------

    /// The security stamp; [`Error::NullSecurityStamp`] when it is missing.
    pub async fn get_security_stamp(&self, user: &IdentityUser<X>) -> Result<String> {
        require!(self.security_stamp_store, Capability::SecurityStamp);
        user.security_stamp.clone().ok_or(Error::NullSecurityStamp)
    }

    /// Rotates the security stamp and writes the user.
    pub async fn update_security_stamp(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        require!(self.security_stamp_store, Capability::SecurityStamp);
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The UTF-16LE bytes of the security stamp: the key of stamp-based TOTP codes.
    pub async fn create_security_token(&self, user: &IdentityUser<X>) -> Result<Vec<u8>> {
        let stamp = self.get_security_stamp(user).await?;
        Ok(stamp.encode_utf16().flat_map(u16::to_le_bytes).collect())
    }

    // ----- External logins ---------------------------------------------------------------------

    /// Links an external login; `LoginAlreadyAssociated` when any user (this one included) has it.
    pub async fn add_login(&self, user: &mut IdentityUser<X>, login: &UserLoginInfo) -> Result<IdentityResult> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        if store.find_by_login(&login.login_provider, &login.provider_key).await?.is_some() {
            tracing::debug!("add login failed because it was already associated with another user");
            return Ok(IdentityResult::failed([self.describer.login_already_associated()]));
        }
        store.add_login(user, login).await?;
        self.update_user(user).await
    }

    /// Unlinks an external login and rotates the stamp.
    pub async fn remove_login(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        provider_key: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.remove_login(user, login_provider, provider_key).await?;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The user's external logins.
    pub async fn get_logins(&self, user: &IdentityUser<X>) -> Result<Vec<UserLoginInfo>> {
        let store: &dyn UserLoginStore<X> = require!(self.login_store, Capability::Logins);
        store.get_logins(user).await
    }

    // ----- Claims ------------------------------------------------------------------------------

    /// Adds one claim.
    pub async fn add_claim(&self, user: &mut IdentityUser<X>, claim: Claim) -> Result<IdentityResult> {
        self.add_claims(user, &[claim]).await
    }

    /// Adds claims.
    pub async fn add_claims(&self, user: &mut IdentityUser<X>, claims: &[Claim]) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.add_claims(user, claims).await?;
        self.update_user(user).await
    }

    /// Replaces every claim equal to `claim` by `new_claim`.
    pub async fn replace_claim(
        &self,
        user: &mut IdentityUser<X>,
        claim: &Claim,
        new_claim: &Claim,
    ) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.replace_claim(user, claim, new_claim).await?;
        self.update_user(user).await
    }

    /// Removes one claim (every copy of it).
    pub async fn remove_claim(&self, user: &mut IdentityUser<X>, claim: &Claim) -> Result<IdentityResult> {
        self.remove_claims(user, std::slice::from_ref(claim)).await
    }

    /// Removes claims.
    pub async fn remove_claims(&self, user: &mut IdentityUser<X>, claims: &[Claim]) -> Result<IdentityResult> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.remove_claims(user, claims).await?;
        self.update_user(user).await
    }

    /// The user's claims.
    pub async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<Claim>> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.get_claims(user).await
    }

    /// Users holding a claim.
    pub async fn get_users_for_claim(&self, claim: &Claim) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn UserClaimStore<X> = require!(self.claim_store, Capability::Claims);
        store.get_users_for_claim(claim).await
    }

    // ----- Roles -------------------------------------------------------------------------------

    /// Adds the user to a role; `UserAlreadyInRole` when a member, [`Error::RoleNotFound`] when
    /// the role does not exist.
    pub async fn add_to_role(&self, user: &mut IdentityUser<X>, role: &str) -> Result<IdentityResult> {
        self.add_to_roles(user, &[role]).await
    }

    /// Adds the user to several roles (duplicates in `roles` ignored). Memberships are checked
    /// before anything is written, so a failure leaves every membership unchanged.
    pub async fn add_to_roles(&self, user: &mut IdentityUser<X>, roles: &[&str]) -> Result<IdentityResult> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        let mut distinct: Vec<&str> = Vec::new();
        for role in roles {
            if !distinct.contains(role) {
                distinct.push(role);
            }
        }
        for role in &distinct {
            if store.is_in_role(user, &self.normalize_name(role)).await? {
                tracing::debug!(role, "user is already in role");
                return Ok(IdentityResult::failed([self.describer.user_already_in_role(role)]));
            }
        }
        for role in &distinct {
            store.add_to_role(user, &self.normalize_name(role)).await?;
        }
        self.update_user(user).await
    }

    /// Removes the user from a role; `UserNotInRole` when not a member.
    pub async fn remove_from_role(&self, user: &mut IdentityUser<X>, role: &str) -> Result<IdentityResult> {
        self.remove_from_roles(user, &[role]).await
    }

    /// Removes the user from several roles; nothing changes when one is not a membership.
    pub async fn remove_from_roles(&self, user: &mut IdentityUser<X>, roles: &[&str]) -> Result<IdentityResult> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        for role in roles {
            if !store.is_in_role(user, &self.normalize_name(role)).await? {
                tracing::debug!(role, "user is not in role");
                return Ok(IdentityResult::failed([self.describer.user_not_in_role(role)]));
            }
        }
        for role in roles {
            store.remove_from_role(user, &self.normalize_name(role)).await?;
        }
        self.update_user(user).await
    }

    /// Display names of the user's roles.
    pub async fn get_roles(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.get_roles(user).await
    }

    /// Whether the user is in a role.
    pub async fn is_in_role(&self, user: &IdentityUser<X>, role: &str) -> Result<bool> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.is_in_role(user, &self.normalize_name(role)).await
    }

    /// Members of a role.
    pub async fn get_users_in_role(&self, role: &str) -> Result<Vec<IdentityUser<X>>> {
        let store: &dyn UserRoleStore<X> = require!(self.role_store, Capability::Roles);
        store.get_users_in_role(&self.normalize_name(role)).await
    }

    // ----- Email -------------------------------------------------------------------------------

    /// Sets the email, marks it unconfirmed and rotates the stamp.
    pub async fn set_email(&self, user: &mut IdentityUser<X>, email: Option<&str>) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        user.email = email.map(str::to_owned);
        user.email_confirmed = false;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Whether the email is confirmed.
    pub async fn is_email_confirmed(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.email_store, Capability::Email);
        Ok(user.email_confirmed)
    }

    /// An email confirmation token.
    pub async fn generate_email_confirmation_token(&self, user: &IdentityUser<X>) -> Result<String> {
        let provider = self.options.tokens.email_confirmation_token_provider.clone();
        self.generate_user_token(user, &provider, CONFIRM_EMAIL_PURPOSE).await
    }

    /// Confirms the email with a token (no stamp rotation).
    pub async fn confirm_email(&self, user: &mut IdentityUser<X>, token: &str) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        let provider = self.options.tokens.email_confirmation_token_provider.clone();
        if !self.verify_user_token(user, &provider, CONFIRM_EMAIL_PURPOSE, token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.email_confirmed = true;
        self.update_user(user).await
    }

    /// A token that authorizes changing the email to `new_email`.
    pub async fn generate_change_email_token(&self, user: &IdentityUser<X>, new_email: &str) -> Result<String> {
        let provider = self.options.tokens.change_email_token_provider.clone();
        self.generate_user_token(user, &provider, &change_email_purpose(new_email)).await
    }

    /// Changes the email with a change-email token; the new email counts as confirmed.
    pub async fn change_email(
        &self,
        user: &mut IdentityUser<X>,
        new_email: &str,
        token: &str,
    ) -> Result<IdentityResult> {
        require!(self.email_store, Capability::Email);
        let provider = self.options.tokens.change_email_token_provider.clone();
        if !self.verify_user_token(user, &provider, &change_email_purpose(new_email), token).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.email = Some(new_email.to_owned());
        user.email_confirmed = true;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    // ----- Phone -------------------------------------------------------------------------------

    /// Sets the phone number, marks it unconfirmed and rotates the stamp.
    pub async fn set_phone_number(
        &self,
        user: &mut IdentityUser<X>,
        phone_number: Option<&str>,
    ) -> Result<IdentityResult> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        user.phone_number = phone_number.map(str::to_owned);
        user.phone_number_confirmed = false;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Whether the phone number is confirmed.
    pub async fn is_phone_number_confirmed(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        Ok(user.phone_number_confirmed)
    }

    /// A token that authorizes changing the phone number to `phone_number`.
    pub async fn generate_change_phone_number_token(
        &self,
        user: &IdentityUser<X>,
        phone_number: &str,
    ) -> Result<String> {
        let provider = self.options.tokens.change_phone_number_token_provider.clone();
        self.generate_user_token(user, &provider, &change_phone_number_purpose(phone_number)).await
    }

    /// Whether a change-phone-number token is valid for `phone_number`.
    pub async fn verify_change_phone_number_token(
        &self,
        user: &IdentityUser<X>,
        token: &str,
        phone_number: &str,
    ) -> Result<bool> {
        let provider = self.options.tokens.change_phone_number_token_provider.clone();
        self.verify_user_token(user, &provider, &change_phone_number_purpose(phone_number), token).await
    }

    /// Changes the phone number with a token; the new number counts as confirmed.
    pub async fn change_phone_number(
        &self,
        user: &mut IdentityUser<X>,
        phone_number: &str,
        token: &str,
    ) -> Result<IdentityResult> {
        require!(self.phone_number_store, Capability::PhoneNumber);
        if !self.verify_change_phone_number_token(user, token, phone_number).await? {
            return Ok(IdentityResult::failed([self.describer.invalid_token()]));
        }
        user.phone_number = Some(phone_number.to_owned());
        user.phone_number_confirmed = true;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    // ----- Tokens ------------------------------------------------------------------------------

    fn token_provider(&self, name: &str) -> Result<&Arc<dyn TokenProvider<X>>> {
        self.token_providers
            .iter()
            .find(|(registered, _)| registered == name)
            .map(|(_, provider)| provider)
            .ok_or_else(|| Error::NoTokenProvider(name.to_owned()))
    }

    /// The names of the registered token providers, in registration order.
    pub fn token_provider_names(&self) -> Vec<&str> {
        self.token_providers.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// A token from the named provider for a purpose.
    pub async fn generate_user_token(&self, user: &IdentityUser<X>, provider: &str, purpose: &str) -> Result<String> {
        self.token_provider(provider)?.generate(purpose, self, user).await
    }

    /// Whether a token from the named provider is valid for a purpose.
    pub async fn verify_user_token(
        &self,
        user: &IdentityUser<X>,
        provider: &str,
        purpose: &str,
        token: &str,
    ) -> Result<bool> {
        let valid = self.token_provider(provider)?.validate(purpose, token, self, user).await?;
        if !valid {
            tracing::debug!(purpose, "verify user token failed");
        }
        Ok(valid)
    }

    // ----- Two-factor ------------------------------------------------------------------------------

    /// Names of the providers that can serve as a second factor for the user, in registration order.
    pub async fn get_valid_two_factor_providers(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for (name, provider) in &self.token_providers {
            if provider.can_generate_two_factor_token(self, user).await? {
                names.push(name.clone());
            }
        }
        Ok(names)
    }

    /// A two-factor sign-in token from the named provider.
    pub async fn generate_two_factor_token(&self, user: &IdentityUser<X>, provider: &str) -> Result<String> {
        self.token_provider(provider)?.generate(TWO_FACTOR_PURPOSE, self, user).await
    }

    /// Whether a two-factor sign-in token from the named provider is valid.
    pub async fn verify_two_factor_token(&self, user: &IdentityUser<X>, provider: &str, token: &str) -> Result<bool> {
        let valid = self.token_provider(provider)?.validate(TWO_FACTOR_PURPOSE, token, self, user).await?;
        if !valid {
            tracing::debug!("verify two-factor token failed for user");
        }
        Ok(valid)
    }

    /// Whether two-factor authentication is enabled.
    pub async fn get_two_factor_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.two_factor_store, Capability::TwoFactor);
        Ok(user.two_factor_enabled)
    }

    /// Enables or disables two-factor authentication and rotates the stamp.
    pub async fn set_two_factor_enabled(&self, user: &mut IdentityUser<X>, enabled: bool) -> Result<IdentityResult> {
        require!(self.two_factor_store, Capability::TwoFactor);
        user.two_factor_enabled = enabled;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The authenticator key.
    pub async fn get_authenticator_key(&self, user: &IdentityUser<X>) -> Result<Option<String>> {
        let store: &dyn UserAuthenticatorKeyStore<X> =
            require!(self.authenticator_key_store, Capability::AuthenticatorKey);
        store.get_authenticator_key(user).await
    }

    /// Replaces the authenticator key with a fresh one and rotates the stamp.
    pub async fn reset_authenticator_key(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticatorKeyStore<X> =
            require!(self.authenticator_key_store, Capability::AuthenticatorKey);
        store.set_authenticator_key(user, &base32::new_authenticator_key()).await?;
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// Replaces the recovery codes with `count` fresh ones and returns them; `None` when the user
    /// could not be written.
    pub async fn generate_new_two_factor_recovery_codes(
        &self,
        user: &mut IdentityUser<X>,
        count: usize,
    ) -> Result<Option<Vec<String>>> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        let codes: Vec<String> = (0..count).map(|_| base32::new_recovery_code()).collect();
        let mut distinct: Vec<String> = Vec::with_capacity(codes.len());
        for code in &codes {
            if !distinct.contains(code) {
                distinct.push(code.clone());
            }
        }
        store.replace_codes(user, &distinct).await?;
        Ok(self.update_user(user).await?.succeeded().then_some(codes))
    }

    /// Redeems a recovery code once; `RecoveryCodeRedemptionFailed` when it is not valid.
    pub async fn redeem_two_factor_recovery_code(
        &self,
        user: &mut IdentityUser<X>,
        code: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        if store.redeem_code(user, code).await? {
            return self.update_user(user).await;
        }
        Ok(IdentityResult::failed([self.describer.recovery_code_redemption_failed()]))
    }

    /// How many recovery codes remain.
    pub async fn count_recovery_codes(&self, user: &IdentityUser<X>) -> Result<usize> {
        let store: &dyn UserTwoFactorRecoveryCodeStore<X> =
            require!(self.recovery_code_store, Capability::RecoveryCodes);
        store.count_codes(user).await
    }

    // ----- Lockout -----------------------------------------------------------------------------

    /// Whether the user is locked out now: lockout enabled and an end at or after now.
    pub async fn is_locked_out(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_enabled && user.lockout_end.is_some_and(|end| end >= self.clock.now()))
    }

    /// Whether the user can be locked out.
    pub async fn get_lockout_enabled(&self, user: &IdentityUser<X>) -> Result<bool> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_enabled)
    }

    /// Enables or disables lockout for the user.
    pub async fn set_lockout_enabled(&self, user: &mut IdentityUser<X>, enabled: bool) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        user.lockout_enabled = enabled;
        self.update_user(user).await
    }

    /// When the lockout ends.
    pub async fn get_lockout_end_date(&self, user: &IdentityUser<X>) -> Result<Option<DateTime<Utc>>> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.lockout_end)
    }

    /// Locks the user out until `end` (a past date or `None` unlocks); `UserLockoutNotEnabled`
    /// when lockout is disabled for the user.
    pub async fn set_lockout_end_date(
        &self,
        user: &mut IdentityUser<X>,
        end: Option<DateTime<Utc>>,
    ) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        if !user.lockout_enabled {
            tracing::debug!("lockout for user failed because lockout is not enabled for this user");
            return Ok(IdentityResult::failed([self.describer.user_lockout_not_enabled()]));
        }
        user.lockout_end = end;
        self.update_user(user).await
    }

    /// Counts one failed access, atomically in the store: at the configured maximum the user is
    /// locked out for the configured time span and the count restarts. Does not look at
    /// `lockout_enabled`, as in .NET; [`Self::is_locked_out`] does.
    pub async fn access_failed(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let lockout = &self.options.lockout;
        let max = lockout.max_failed_access_attempts;
        let lock_until = self.clock.now() + lockout.default_lockout_time_span;
        let count = move |state| count_failure(state, max, lock_until);
        match self.update_lockout(user, Box::new(move |state| LockoutChange::rotating(count(state)))).await? {
            None => Ok(IdentityResult::failed([self.describer.concurrency_failure()])),
            Some(before) => {
                if count(before).lockout_end != before.lockout_end {
                    tracing::warn!("user is locked out");
                }
                Ok(IdentityResult::Success)
            }
        }
    }

    /// Applies a lockout transition atomically in the store (see
    /// [`UserLockoutStore::update_lockout`]); `None` when the user no longer exists.
    pub(crate) async fn update_lockout(
        &self,
        user: &mut IdentityUser<X>,
        transition: LockoutTransition,
    ) -> Result<Option<LockoutState>> {
        let store: &dyn UserLockoutStore<X> = require!(self.lockout_store, Capability::Lockout);
        store.update_lockout(user, transition).await
    }

    /// Resets the failure count; a no-op success when it is already zero.
    pub async fn reset_access_failed_count(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        require!(self.lockout_store, Capability::Lockout);
        if user.access_failed_count == 0 {
            return Ok(IdentityResult::Success);
        }
        user.access_failed_count = 0;
        self.update_user(user).await
    }

    /// The failure count.
    pub async fn get_access_failed_count(&self, user: &IdentityUser<X>) -> Result<i32> {
        require!(self.lockout_store, Capability::Lockout);
        Ok(user.access_failed_count)
    }

    // ----- Authentication tokens ---------------------------------------------------------------------

    /// Reads an authentication token.
    pub async fn get_authentication_token(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
    ) -> Result<Option<String>> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.get_token(user, login_provider, name).await
    }

    /// Sets an authentication token and writes the user.
    pub async fn set_authentication_token(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.set_token(user, login_provider, name, value).await?;
        self.update_user(user).await
    }

    /// Removes an authentication token and writes the user.
    pub async fn remove_authentication_token(
        &self,
        user: &mut IdentityUser<X>,
        login_provider: &str,
        name: &str,
    ) -> Result<IdentityResult> {
        let store: &dyn UserAuthenticationTokenStore<X> =
            require!(self.authentication_token_store, Capability::AuthenticationTokens);
        store.remove_token(user, login_provider, name).await?;
        self.update_user(user).await
    }

    // ----- Passkeys ----------------------------------------------------------------------------

    /// Adds a passkey, or updates the mutable fields of an existing one, and writes the user.
    pub async fn add_or_update_passkey(
        &self,
        user: &mut IdentityUser<X>,
        passkey: &UserPasskeyInfo,
    ) -> Result<IdentityResult> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.add_or_update_passkey(user, passkey).await?;
        self.update_user(user).await
    }

    /// The user's passkeys.
    pub async fn get_passkeys(&self, user: &IdentityUser<X>) -> Result<Vec<UserPasskeyInfo>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.get_passkeys(user).await
    }

    /// One of the user's passkeys.
    pub async fn get_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<Option<UserPasskeyInfo>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.find_passkey(user, credential_id).await
    }

    /// The owner of a passkey.
    pub async fn find_by_passkey_id(&self, credential_id: &[u8]) -> Result<Option<IdentityUser<X>>> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.find_by_passkey_id(credential_id).await
    }

    /// Removes a passkey and writes the user.
    pub async fn remove_passkey(&self, user: &mut IdentityUser<X>, credential_id: &[u8]) -> Result<IdentityResult> {
        let store: &dyn UserPasskeyStore<X> = require!(self.passkey_store, Capability::Passkeys);
        store.remove_passkey(user, credential_id).await?;
        self.update_user(user).await
    }
}

/// One more failed access: at `max` the user is locked out until `lock_until` and the count
/// restarts, as .NET's `AccessFailedAsync`.
pub(crate) fn count_failure(state: LockoutState, max: i32, lock_until: DateTime<Utc>) -> LockoutState {
    let count = state.access_failed_count.saturating_add(1);
    if count >= max {
        LockoutChange::locked_until(state, lock_until)
    } else {
        LockoutState { access_failed_count: count, ..state }
    }
}

//! `UserManager`: every user operation of ASP.NET Core Identity, with its exact rules for
//! validation, normalization, security-stamp rotation and optimistic concurrency.
//!
//! Every mutating operation ends in the same write pipeline: run all user validators, recompute
//! the normalized name and email, then [`UserStore::update`], whose result (for example
//! `ConcurrencyFailure`) is returned. Operations that change credentials rotate the security
//! stamp first, so that outstanding tokens and sessions die with the old credentials.
//!
//! The operations are grouped by concern in the child modules; this module holds the manager, its
//! builder, its accessors and the write pipeline they all share.

use crate::base32;
use crate::error::{Error, Result};
use crate::hashing_pool::HashingPool;
use crate::model::{IdentityUser, UserExtension};
use crate::normalizer::{LookupNormalizer, UpperInvariantNormalizer};
use crate::options::{AUTHENTICATOR_PROVIDER, DEFAULT_PROVIDER, EMAIL_PROVIDER, IdentityOptions, PHONE_PROVIDER};
use crate::password_hasher::{IdentityPasswordHasher, PasswordHasher};
use crate::result::{ErrorDescriber, IdentityResult};
use crate::store::{Capability, UserStore};
use crate::tokens::{
    AuthenticatorTokenProvider, DataProtectorTokenProvider, EmailTokenProvider, PhoneNumberTokenProvider, TokenProvider,
};
use crate::validators::{DefaultPasswordValidator, DefaultUserValidator, PasswordValidator, UserValidator};
use std::sync::Arc;
use time_source::{Clock, SystemClock};

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

mod authentication_tokens;
mod claims;
mod crud;
mod email;
mod lockout;
mod logins;
mod passkeys;
mod passwords;
mod phone;
mod roles;
mod security_stamp;
mod tokens;
mod two_factor;

pub(crate) use lockout::count_failure;

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

    // ----- Token provider lookup (tokens and two-factor) --------------------------------------

    fn token_provider(&self, name: &str) -> Result<&Arc<dyn TokenProvider<X>>> {
        self.token_providers
            .iter()
            .find(|(registered, _)| registered == name)
            .map(|(_, provider)| provider)
            .ok_or_else(|| Error::NoTokenProvider(name.to_owned()))
    }
}

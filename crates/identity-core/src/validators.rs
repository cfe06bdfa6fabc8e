//! Validators for users, passwords and roles, with ASP.NET Core Identity's default rules and
//! error order. Custom validators implement the same traits and are added to the managers.

use crate::error::Result;
use crate::model::{IdentityRole, IdentityUser, MAX_PASSWORD_BYTES, UserExtension, is_storable_name};
use crate::result::{IdentityError, IdentityResult};
use crate::role_manager::RoleManager;
use crate::user_manager::UserManager;
use async_trait::async_trait;

/// Validates a user before it is created or updated.
#[async_trait]
pub trait UserValidator<X: UserExtension>: Send + Sync + std::fmt::Debug {
    /// Checks `user`; every error found is reported.
    async fn validate(&self, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<IdentityResult>;
}

/// Validates a password before it is hashed.
#[async_trait]
pub trait PasswordValidator<X: UserExtension>: Send + Sync + std::fmt::Debug {
    /// Checks `password` for `user`; every error found is reported.
    async fn validate(
        &self,
        manager: &UserManager<X>,
        user: &IdentityUser<X>,
        password: &str,
    ) -> Result<IdentityResult>;
}

/// Validates a role before it is created or updated.
#[async_trait]
pub trait RoleValidator: Send + Sync + std::fmt::Debug {
    /// Checks `role`; every error found is reported.
    async fn validate(&self, manager: &RoleManager, role: &IdentityRole) -> Result<IdentityResult>;
}

fn outcome(errors: Vec<IdentityError>) -> IdentityResult {
    if errors.is_empty() { IdentityResult::Success } else { IdentityResult::Failed(errors) }
}

/// The default user rules: a valid, unique user name, and a valid, unique email when
/// `require_unique_email` is set.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultUserValidator;

#[async_trait]
impl<X: UserExtension> UserValidator<X> for DefaultUserValidator {
    async fn validate(&self, manager: &UserManager<X>, user: &IdentityUser<X>) -> Result<IdentityResult> {
        let describer = manager.describer();
        let mut errors = Vec::new();
        let user_name = user.user_name.as_deref().unwrap_or("");
        if user_name.trim().is_empty() || !is_storable_name(user_name) {
            errors.push(describer.invalid_user_name(user_name));
        } else if let Some(allowed) =
            manager.options().user.allowed_user_name_characters.as_deref().filter(|a| !a.is_empty())
            && user_name.chars().any(|c| !allowed.contains(c))
        {
            errors.push(describer.invalid_user_name(user_name));
        } else if let Some(owner) = manager.find_by_name(user_name).await?
            && owner.id != user.id
        {
            errors.push(describer.duplicate_user_name(user_name));
        }
        if let Some(email) = user.email.as_deref().filter(|email| !is_storable_name(email)) {
            errors.push(describer.invalid_email(email));
        } else if manager.options().user.require_unique_email {
            let email = user.email.as_deref().unwrap_or("");
            if email.trim().is_empty() || !is_valid_email(email) {
                errors.push(describer.invalid_email(email));
            } else if let Some(owner) = manager.find_by_email(email).await?
                && owner.id != user.id
            {
                errors.push(describer.duplicate_email(email));
            }
        }
        Ok(outcome(errors))
    }
}

/// .NET's `EmailAddressAttribute` rule: exactly one `@`, neither first nor last.
fn is_valid_email(email: &str) -> bool {
    let mut ats = email.match_indices('@');
    match (ats.next(), ats.next()) {
        (Some((index, _)), None) => index != 0 && index != email.len() - 1,
        _ => false,
    }
}

/// The default password rules of [`PasswordOptions`](crate::PasswordOptions): length and unique
/// characters in UTF-16 code units, ASCII-only character classes.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultPasswordValidator;

#[async_trait]
impl<X: UserExtension> PasswordValidator<X> for DefaultPasswordValidator {
    async fn validate(
        &self,
        manager: &UserManager<X>,
        _user: &IdentityUser<X>,
        password: &str,
    ) -> Result<IdentityResult> {
        let options = &manager.options().password;
        let describer = manager.describer();
        let mut errors = Vec::new();
        let utf16: Vec<u16> = password.encode_utf16().collect();
        if password.trim().is_empty() || utf16.len() < options.required_length {
            errors.push(describer.password_too_short(options.required_length));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            errors.push(describer.password_too_long(MAX_PASSWORD_BYTES));
        }
        if options.require_non_alphanumeric && password.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(describer.password_requires_non_alphanumeric());
        }
        if options.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
            errors.push(describer.password_requires_digit());
        }
        if options.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
            errors.push(describer.password_requires_lower());
        }
        if options.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
            errors.push(describer.password_requires_upper());
        }
        if options.required_unique_chars >= 1 {
            let distinct: std::collections::HashSet<u16> = utf16.iter().copied().collect();
            if distinct.len() < options.required_unique_chars {
                errors.push(describer.password_requires_unique_chars(options.required_unique_chars));
            }
        }
        Ok(outcome(errors))
    }
}

/// The default role rule: a non-blank, unique name.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultRoleValidator;

#[async_trait]
impl RoleValidator for DefaultRoleValidator {
    async fn validate(&self, manager: &RoleManager, role: &IdentityRole) -> Result<IdentityResult> {
        let describer = manager.describer();
        let name = role.name.as_deref().unwrap_or("");
        if name.trim().is_empty() {
            return Ok(IdentityResult::failed([describer.invalid_role_name(name)]));
        }
        match manager.find_by_name(name).await? {
            Some(owner) if owner.id != role.id => Ok(IdentityResult::failed([describer.duplicate_role_name(name)])),
            _ => Ok(IdentityResult::Success),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use std::sync::Arc;

    #[test]
    fn email_rule_matches_dotnet() {
        assert!(is_valid_email("a@b"));
        assert!(!is_valid_email("bogus"));
        assert!(!is_valid_email("@@afd"));
        assert!(!is_valid_email("@ab"));
        assert!(!is_valid_email("ab@"));
    }

    /// What no backend can store, or no sign-in would verify, is refused when it is set.
    #[tokio::test]
    async fn names_and_passwords_beyond_what_is_stored_or_verified_are_invalid() {
        let manager = UserManager::builder(Arc::new(MemoryStore::<()>::new())).build();
        let codes = |result: IdentityResult| match result {
            IdentityResult::Success => Vec::new(),
            IdentityResult::Failed(errors) => errors.into_iter().map(|error| error.code).collect(),
        };
        let user = IdentityUser::<()>::new("valid");
        let long = format!("Aa1!{}", "x".repeat(MAX_PASSWORD_BYTES));
        let result = DefaultPasswordValidator.validate(&manager, &user, &long).await.expect("validates");
        assert_eq!(codes(result), ["PasswordTooLong"]);
        for name in ["nul\0name", "line\nbreak", &"n".repeat(257)] {
            let result = DefaultUserValidator.validate(&manager, &IdentityUser::new(name)).await.expect("validates");
            assert_eq!(codes(result), ["InvalidUserName"], "{name:?}");
        }
        let mut user = IdentityUser::<()>::new("mailer");
        user.email = Some(format!("{}@example.com", "e".repeat(250)));
        let result = DefaultUserValidator.validate(&manager, &user).await.expect("validates");
        assert_eq!(codes(result), ["InvalidEmail"]);
    }
}

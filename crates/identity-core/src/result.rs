//! Validation outcomes: [`IdentityError`], [`IdentityResult`] and the [`ErrorDescriber`] that
//! produces the 22 standard error codes with ASP.NET Core Identity's English messages, plus
//! `PasswordTooLong`, which .NET does not have.

use std::fmt;

/// One failure with a stable machine-readable code and a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct IdentityError {
    /// Stable code, e.g. `DuplicateUserName`.
    pub code: String,
    /// Message for people.
    pub description: String,
}

impl IdentityError {
    /// Builds an error from a code and a description.
    pub fn new(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self { code: code.into(), description: description.into() }
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

/// The outcome of an operation that can fail validation.
///
/// Like .NET's `IdentityResult`, a failure may carry zero errors (a validator that said "no"
/// without saying why still blocks the operation).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum IdentityResult {
    /// The operation succeeded.
    Success,
    /// The operation failed with these errors (possibly none).
    Failed(Vec<IdentityError>),
}

impl IdentityResult {
    /// A failure with the given errors.
    pub fn failed(errors: impl IntoIterator<Item = IdentityError>) -> Self {
        IdentityResult::Failed(errors.into_iter().collect())
    }

    /// True on success.
    pub fn succeeded(&self) -> bool {
        matches!(self, IdentityResult::Success)
    }

    /// The errors of a failure; empty on success.
    pub fn errors(&self) -> &[IdentityError] {
        match self {
            IdentityResult::Success => &[],
            IdentityResult::Failed(errors) => errors,
        }
    }

    /// The codes of the errors, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.errors().iter().map(|e| e.code.as_str()).collect()
    }
}

impl fmt::Display for IdentityResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityResult::Success => f.write_str("Succeeded"),
            IdentityResult::Failed(errors) => {
                let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
                write!(f, "Failed : {}", codes.join(","))
            }
        }
    }
}

/// Produces the standard errors. Replace it (see [`crate::UserManagerBuilder::error_describer`])
/// to localise descriptions; the codes stay the same.
#[derive(Debug, Clone, Default)]
pub struct ErrorDescriber;

macro_rules! describe {
    ($( $(#[$doc:meta])* $fn_name:ident => $code:literal, $message:literal; )*) => {
        impl ErrorDescriber {
            $( $(#[$doc])* pub fn $fn_name(&self) -> IdentityError {
                IdentityError::new($code, $message)
            } )*
        }
    };
}

macro_rules! describe_with_arg {
    ($( $(#[$doc:meta])* $fn_name:ident($arg:ident: $ty:ty) => $code:literal, $prefix:literal, $suffix:literal; )*) => {
        impl ErrorDescriber {
            $( $(#[$doc])* pub fn $fn_name(&self, $arg: $ty) -> IdentityError {
                IdentityError::new($code, format!(concat!($prefix, "{}", $suffix), $arg))
            } )*
        }
    };
}

describe! {
    /// `DefaultError`.
    default_error => "DefaultError", "An unknown failure has occurred.";
    /// `ConcurrencyFailure`: the row changed since it was read.
    concurrency_failure => "ConcurrencyFailure", "Optimistic concurrency failure, object has been modified.";
    /// `PasswordMismatch`.
    password_mismatch => "PasswordMismatch", "Incorrect password.";
    /// `InvalidToken`.
    invalid_token => "InvalidToken", "Invalid token.";
    /// `RecoveryCodeRedemptionFailed`.
    recovery_code_redemption_failed => "RecoveryCodeRedemptionFailed", "Recovery code redemption failed.";
    /// `LoginAlreadyAssociated`.
    login_already_associated => "LoginAlreadyAssociated", "A user with this login already exists.";
    /// `UserAlreadyHasPassword`.
    user_already_has_password => "UserAlreadyHasPassword", "User already has a password set.";
    /// `UserLockoutNotEnabled`.
    user_lockout_not_enabled => "UserLockoutNotEnabled", "Lockout is not enabled for this user.";
    /// `PasswordRequiresNonAlphanumeric`.
    password_requires_non_alphanumeric => "PasswordRequiresNonAlphanumeric", "Passwords must have at least one non alphanumeric character.";
    /// `PasswordRequiresDigit`.
    password_requires_digit => "PasswordRequiresDigit", "Passwords must have at least one digit ('0'-'9').";
    /// `PasswordRequiresLower`.
    password_requires_lower => "PasswordRequiresLower", "Passwords must have at least one lowercase ('a'-'z').";
    /// `PasswordRequiresUpper`.
    password_requires_upper => "PasswordRequiresUpper", "Passwords must have at least one uppercase ('A'-'Z').";
}

describe_with_arg! {
    /// `InvalidUserName`.
    invalid_user_name(user_name: &str) => "InvalidUserName", "Username '", "' is invalid, can only contain letters or digits.";
    /// `InvalidEmail`.
    invalid_email(email: &str) => "InvalidEmail", "Email '", "' is invalid.";
    /// `DuplicateUserName`.
    duplicate_user_name(user_name: &str) => "DuplicateUserName", "Username '", "' is already taken.";
    /// `DuplicateEmail`.
    duplicate_email(email: &str) => "DuplicateEmail", "Email '", "' is already taken.";
    /// `InvalidRoleName`.
    invalid_role_name(role: &str) => "InvalidRoleName", "Role name '", "' is invalid.";
    /// `DuplicateRoleName`.
    duplicate_role_name(role: &str) => "DuplicateRoleName", "Role name '", "' is already taken.";
    /// `UserAlreadyInRole`.
    user_already_in_role(role: &str) => "UserAlreadyInRole", "User already in role '", "'.";
    /// `UserNotInRole`.
    user_not_in_role(role: &str) => "UserNotInRole", "User is not in role '", "'.";
    /// `PasswordTooShort`.
    password_too_short(length: usize) => "PasswordTooShort", "Passwords must be at least ", " characters.";
    /// `PasswordRequiresUniqueChars`.
    password_requires_unique_chars(count: usize) => "PasswordRequiresUniqueChars", "Passwords must use at least ", " different characters.";
    /// `PasswordTooLong`: not in .NET; a password longer than a sign-in verifies
    /// ([`MAX_PASSWORD_BYTES`](crate::MAX_PASSWORD_BYTES)) could never be used.
    password_too_long(bytes: usize) => "PasswordTooLong", "Passwords must be at most ", " bytes long.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_arguments_into_descriptions() {
        let d = ErrorDescriber;
        assert_eq!(d.duplicate_user_name("bob").description, "Username 'bob' is already taken.");
        assert_eq!(d.password_too_short(6).description, "Passwords must be at least 6 characters.");
        assert_eq!(d.password_too_long(1024).description, "Passwords must be at most 1024 bytes long.");
        assert_eq!(d.invalid_email("").description, "Email '' is invalid.");
    }

    #[test]
    fn displays_like_dotnet() {
        let d = ErrorDescriber;
        assert_eq!(IdentityResult::Success.to_string(), "Succeeded");
        let failed = IdentityResult::failed([d.password_mismatch(), d.invalid_token()]);
        assert_eq!(failed.to_string(), "Failed : PasswordMismatch,InvalidToken");
    }
}

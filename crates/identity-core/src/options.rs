//! `IdentityOptions` and its groups, with ASP.NET Core Identity's defaults.

use chrono::Duration;

/// All identity options.
#[derive(Debug, Clone, Default)]
pub struct IdentityOptions {
    /// User name and email rules.
    pub user: UserOptions,
    /// Password strength rules.
    pub password: PasswordOptions,
    /// Lockout rules.
    pub lockout: LockoutOptions,
    /// Sign-in requirements.
    pub sign_in: SignInOptions,
    /// Which token provider serves which purpose.
    pub tokens: TokenOptions,
}

/// User name and email rules.
#[derive(Debug, Clone)]
pub struct UserOptions {
    /// Characters allowed in user names; `None` or empty disables the check.
    pub allowed_user_name_characters: Option<String>,
    /// Whether every user needs a valid, unique email.
    pub require_unique_email: bool,
}

impl Default for UserOptions {
    fn default() -> Self {
        Self {
            allowed_user_name_characters: Some(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+".to_owned(),
            ),
            require_unique_email: false,
        }
    }
}

/// Password strength rules.
#[derive(Debug, Clone)]
pub struct PasswordOptions {
    /// Minimum length, in UTF-16 code units.
    pub required_length: usize,
    /// Minimum number of distinct characters.
    pub required_unique_chars: usize,
    /// Whether a character outside `[A-Za-z0-9]` is required.
    pub require_non_alphanumeric: bool,
    /// Whether an ASCII lower-case letter is required.
    pub require_lowercase: bool,
    /// Whether an ASCII upper-case letter is required.
    pub require_uppercase: bool,
    /// Whether an ASCII digit is required.
    pub require_digit: bool,
}

impl Default for PasswordOptions {
    fn default() -> Self {
        Self {
            required_length: 6,
            required_unique_chars: 1,
            require_non_alphanumeric: true,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
        }
    }
}

/// Lockout rules.
#[derive(Debug, Clone)]
pub struct LockoutOptions {
    /// Whether new users can be locked out.
    pub allowed_for_new_users: bool,
    /// Failed attempts before lockout (0 locks on the first failure).
    pub max_failed_access_attempts: i32,
    /// How long a lockout lasts.
    pub default_lockout_time_span: Duration,
}

impl Default for LockoutOptions {
    fn default() -> Self {
        Self {
            allowed_for_new_users: true,
            max_failed_access_attempts: 5,
            default_lockout_time_span: Duration::minutes(5),
        }
    }
}

/// Requirements checked before a sign-in.
#[derive(Debug, Clone, Default)]
pub struct SignInOptions {
    /// A confirmed email is required.
    pub require_confirmed_email: bool,
    /// A confirmed phone number is required.
    pub require_confirmed_phone_number: bool,
    /// A confirmed account (by default: a confirmed email) is required.
    pub require_confirmed_account: bool,
    /// Whether [`SignInManager::password_sign_in`](crate::SignInManager::password_sign_in)
    /// also finds users by e-mail address (a user name matching first). Not in .NET; needs
    /// unique e-mail addresses. Default `false`.
    pub allow_email_login: bool,
}

/// Names of the token providers used for each purpose.
#[derive(Debug, Clone)]
pub struct TokenOptions {
    /// Provider for email confirmation tokens.
    pub email_confirmation_token_provider: String,
    /// Provider for password reset tokens.
    pub password_reset_token_provider: String,
    /// Provider for change-email tokens.
    pub change_email_token_provider: String,
    /// Provider for change-phone-number tokens.
    pub change_phone_number_token_provider: String,
    /// Provider for authenticator-app codes.
    pub authenticator_token_provider: String,
    /// Issuer shown in authenticator apps.
    pub authenticator_issuer: String,
}

/// Name of the data-protection style provider (`DataProtectorTokenProvider` in .NET).
pub const DEFAULT_PROVIDER: &str = "Default";
/// Name of the email TOTP provider.
pub const EMAIL_PROVIDER: &str = "Email";
/// Name of the phone TOTP provider.
pub const PHONE_PROVIDER: &str = "Phone";
/// Name of the authenticator-app provider.
pub const AUTHENTICATOR_PROVIDER: &str = "Authenticator";

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            email_confirmation_token_provider: DEFAULT_PROVIDER.to_owned(),
            password_reset_token_provider: DEFAULT_PROVIDER.to_owned(),
            change_email_token_provider: DEFAULT_PROVIDER.to_owned(),
            change_phone_number_token_provider: PHONE_PROVIDER.to_owned(),
            authenticator_token_provider: AUTHENTICATOR_PROVIDER.to_owned(),
            authenticator_issuer: "Microsoft.AspNetCore.Identity.UI".to_owned(),
        }
    }
}

//! The data model: users, roles, claims, external logins and passkeys, shaped like ASP.NET Core
//! Identity's entities so that a store can map them one to one onto the EF Core schema.

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};
use std::fmt::Debug;

/// Extra fields of a custom user type. `()` (the default) means "no extra fields".
///
/// A library user brings their own fields by choosing `X`, as `TUser` allows in .NET:
///
/// ```
/// use identity_core::IdentityUser;
///
/// #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Profile {
///     disabled: bool,
///     display_name: Option<String>,
/// }
///
/// type AppUser = IdentityUser<Profile>;
/// let mut user = AppUser::new("alice");
/// user.extra.disabled = true;
/// assert_eq!(user.user_name.as_deref(), Some("alice"));
/// ```
///
/// Stores persist the extension as JSON in a table of their own, never by changing the
/// Identity tables.
pub trait UserExtension:
    Clone + Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<T> UserExtension for T where
    T: Clone + Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

/// A user, with the columns of `AspNetUsers`, plus a custom extension `X`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityUser<X = ()> {
    /// Primary key: a lowercase hyphenated GUID by default.
    pub id: String,
    /// The user name as entered.
    pub user_name: Option<String>,
    /// The normalized user name used for lookups; maintained by the manager.
    pub normalized_user_name: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The normalized email used for lookups; maintained by the manager.
    pub normalized_email: Option<String>,
    /// Whether the email address is confirmed.
    pub email_confirmed: bool,
    /// The password hash (PHC Argon2id, or an imported ASP.NET Identity V2/V3 hash).
    pub password_hash: Option<String>,
    /// A random value that changes whenever credentials change.
    pub security_stamp: Option<String>,
    /// A random value that changes on every persisted change (optimistic concurrency).
    pub concurrency_stamp: Option<String>,
    /// The phone number.
    pub phone_number: Option<String>,
    /// Whether the phone number is confirmed.
    pub phone_number_confirmed: bool,
    /// Whether two-factor authentication is enabled.
    pub two_factor_enabled: bool,
    /// When the lockout ends; a past or absent date means not locked out.
    pub lockout_end: Option<DateTime<Utc>>,
    /// Whether the user can be locked out.
    pub lockout_enabled: bool,
    /// Failed sign-in attempts since the last success or lockout.
    pub access_failed_count: i32,
    /// Fields of a custom user type.
    pub extra: X,
}

impl<X: UserExtension> IdentityUser<X> {
    /// A new user with a fresh id and stamps, as .NET's `IdentityUser(string userName)` builds it.
    pub fn new(user_name: impl Into<String>) -> Self {
        Self { user_name: Some(user_name.into()), ..Self::default() }
    }
}

impl<X: UserExtension> Default for IdentityUser<X> {
    fn default() -> Self {
        Self {
            id: new_guid(),
            user_name: None,
            normalized_user_name: None,
            email: None,
            normalized_email: None,
            email_confirmed: false,
            password_hash: None,
            security_stamp: Some(new_guid()),
            concurrency_stamp: Some(new_guid()),
            phone_number: None,
            phone_number_confirmed: false,
            two_factor_enabled: false,
            lockout_end: None,
            lockout_enabled: false,
            access_failed_count: 0,
            extra: X::default(),
        }
    }
}

/// A role, with the columns of `AspNetRoles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRole {
    /// Primary key: a GUID by default.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The normalized name used for lookups; maintained by the role manager.
    pub normalized_name: Option<String>,
    /// Optimistic concurrency stamp.
    pub concurrency_stamp: Option<String>,
}

impl IdentityRole {
    /// A new role with a fresh id and stamp.
    pub fn new(name: impl Into<String>) -> Self {
        Self { id: new_guid(), name: Some(name.into()), normalized_name: None, concurrency_stamp: Some(new_guid()) }
    }
}

/// A stored claim: a type and a value (the columns of `AspNetUserClaims`/`AspNetRoleClaims`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoredClaim {
    /// The claim type, e.g. `given_name`.
    pub claim_type: String,
    /// The claim value.
    pub value: String,
}

impl StoredClaim {
    /// Builds a claim.
    pub fn new(claim_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self { claim_type: claim_type.into(), value: value.into() }
    }
}

/// An external login (the columns of `AspNetUserLogins` without the user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLoginInfo {
    /// The provider, e.g. `Google`.
    pub login_provider: String,
    /// The user's key at that provider.
    pub provider_key: String,
    /// A display name for the provider.
    pub provider_display_name: Option<String>,
}

impl UserLoginInfo {
    /// Builds a login.
    pub fn new(
        login_provider: impl Into<String>,
        provider_key: impl Into<String>,
        provider_display_name: Option<String>,
    ) -> Self {
        Self { login_provider: login_provider.into(), provider_key: provider_key.into(), provider_display_name }
    }
}

/// A WebAuthn credential registered by a user (the row of `AspNetUserPasskeys`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserPasskeyInfo {
    /// The credential id (globally unique).
    #[serde(skip)]
    pub credential_id: Vec<u8>,
    /// The credential's public key.
    #[serde(with = "base64_bytes")]
    pub public_key: Vec<u8>,
    /// A name the user gave it.
    pub name: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// The signature counter.
    pub sign_count: u32,
    /// Transports the authenticator supports.
    pub transports: Option<Vec<String>>,
    /// Whether user verification was performed.
    pub is_user_verified: bool,
    /// Whether the credential may be backed up.
    pub is_backup_eligible: bool,
    /// Whether the credential is backed up.
    pub is_backed_up: bool,
    /// The attestation object.
    #[serde(with = "base64_bytes")]
    pub attestation_object: Vec<u8>,
    /// The client data JSON.
    #[serde(with = "base64_bytes")]
    pub client_data_json: Vec<u8>,
    /// The authenticator's AAGUID.
    pub aaguid: Option<String>,
}

mod base64_bytes {
    //! Serde helpers that write byte vectors as standard base64, as EF Core's JSON column does.
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// The longest user name or e-mail address EF Core's Identity schema stores (`nvarchar(256)`), in
/// UTF-16 code units as .NET counts them.
pub const MAX_USER_NAME_LENGTH: usize = 256;

/// The longest password a sign-in verifies, in bytes: longer input is refused before any hashing,
/// so nobody can make the server hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Whether a user name or e-mail address can be stored on every backend and compared without
/// ambiguity: at most [`MAX_USER_NAME_LENGTH`] long and free of control characters (PostgreSQL's
/// `text` cannot hold NUL, and line breaks forge log lines). Lookups of any other value find
/// nobody, and validation refuses it.
pub fn is_storable_name(value: &str) -> bool {
    value.encode_utf16().count() <= MAX_USER_NAME_LENGTH && !value.chars().any(char::is_control)
}

/// A fresh lowercase hyphenated GUID, the format .NET's `Guid.ToString()` writes.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

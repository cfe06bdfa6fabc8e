//! Bulk transfer of users and roles between stores: records that hold every stored column and
//! child row of a user or a role, the outcome of importing one, and [`UserTransferStore`], the
//! store capability that exports and imports them.
//!
//! A record is the store's rows as they are. Ids, stamps, password hashes, lockout state and
//! normalized names are written back unchanged, never through the managers' rules (validation,
//! normalization, stamp rotation): an imported user signs in with the same password, its
//! security stamp still matches the tokens issued before the move, and a second import of the
//! same records changes nothing.
//!
//! The serde form (snake_case names, byte arrays as standard base64, instants as RFC 3339) is the
//! JSON that `identity-server users export` writes, one record per line.

use crate::error::Result;
use crate::model::{IdentityRole, IdentityUser, StoredClaim, UserExtension, UserLoginInfo, UserPasskeyInfo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A user with every column of `AspNetUsers`, its extension, and its child rows: claims,
/// external logins, authentication tokens (which hold the authenticator key and the recovery
/// codes), passkeys and role memberships. Its `Debug` names the user and counts the rows, never
/// showing the password hash or a token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct UserRecord<X: UserExtension = ()> {
    /// Primary key.
    pub id: String,
    /// The user name as entered.
    pub user_name: Option<String>,
    /// The normalized user name, as stored (never recomputed).
    pub normalized_user_name: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The normalized email, as stored.
    pub normalized_email: Option<String>,
    /// Whether the email address is confirmed.
    pub email_confirmed: bool,
    /// The password hash, in whatever format it is stored (Argon2id PHC, .NET V2 or V3).
    pub password_hash: Option<String>,
    /// The security stamp.
    pub security_stamp: Option<String>,
    /// The concurrency stamp.
    pub concurrency_stamp: Option<String>,
    /// The phone number.
    pub phone_number: Option<String>,
    /// Whether the phone number is confirmed.
    pub phone_number_confirmed: bool,
    /// Whether two-factor authentication is enabled.
    pub two_factor_enabled: bool,
    /// When the lockout ends.
    pub lockout_end: Option<DateTime<Utc>>,
    /// Whether the user can be locked out.
    pub lockout_enabled: bool,
    /// Failed sign-in attempts counted so far.
    pub access_failed_count: i32,
    /// The custom extension, as its own JSON. Left out when it equals `X::default()`, which is
    /// what a store reads for a user without extension data, so a missing field reads back the
    /// same.
    #[serde(default, skip_serializing_if = "is_default")]
    pub extra: X,
    /// Claims, in the store's order (insertion order).
    #[serde(default)]
    pub claims: Vec<ClaimRecord>,
    /// External logins.
    #[serde(default)]
    pub logins: Vec<LoginRecord>,
    /// Authentication tokens, including `[AspNetUserStore]` `AuthenticatorKey` and
    /// `RecoveryCodes`.
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
    /// Passkeys.
    #[serde(default)]
    pub passkeys: Vec<PasskeyRecord>,
    /// The normalized names of the user's roles, sorted. Normalized names, because they are
    /// what identifies a role (a unique index); display names need not be unique.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Whether a value is its type's default: the extension field is left out then.
fn is_default<X: Default + PartialEq>(value: &X) -> bool {
    *value == X::default()
}

impl<X: UserExtension> UserRecord<X> {
    /// A record of `user`'s columns, without child rows.
    pub fn from_user(user: IdentityUser<X>) -> Self {
        Self {
            id: user.id,
            user_name: user.user_name,
            normalized_user_name: user.normalized_user_name,
            email: user.email,
            normalized_email: user.normalized_email,
            email_confirmed: user.email_confirmed,
            password_hash: user.password_hash,
            security_stamp: user.security_stamp,
            concurrency_stamp: user.concurrency_stamp,
            phone_number: user.phone_number,
            phone_number_confirmed: user.phone_number_confirmed,
            two_factor_enabled: user.two_factor_enabled,
            lockout_end: user.lockout_end,
            lockout_enabled: user.lockout_enabled,
            access_failed_count: user.access_failed_count,
            extra: user.extra,
            claims: Vec::new(),
            logins: Vec::new(),
            tokens: Vec::new(),
            passkeys: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// The user's columns, as the model's user.
    pub fn to_user(&self) -> IdentityUser<X> {
        IdentityUser {
            id: self.id.clone(),
            user_name: self.user_name.clone(),
            normalized_user_name: self.normalized_user_name.clone(),
            email: self.email.clone(),
            normalized_email: self.normalized_email.clone(),
            email_confirmed: self.email_confirmed,
            password_hash: self.password_hash.clone(),
            security_stamp: self.security_stamp.clone(),
            concurrency_stamp: self.concurrency_stamp.clone(),
            phone_number: self.phone_number.clone(),
            phone_number_confirmed: self.phone_number_confirmed,
            two_factor_enabled: self.two_factor_enabled,
            lockout_end: self.lockout_end,
            lockout_enabled: self.lockout_enabled,
            access_failed_count: self.access_failed_count,
            extra: self.extra.clone(),
        }
    }

    /// Why no store can hold this record, whatever it stores already: a token, an external login
    /// or a passkey that appears twice in it (each is a key of its table). `None` when it can.
    /// The reason names no value (a token's value is a secret; a login's key identifies a
    /// person elsewhere).
    pub fn duplicate_key(&self) -> Option<String> {
        let mut tokens = HashSet::new();
        if let Some(token) = self.tokens.iter().find(|t| !tokens.insert((t.login_provider.as_str(), t.name.as_str()))) {
            return Some(format!("the token `{}` of `{}` appears twice", token.name, token.login_provider));
        }
        let mut logins = HashSet::new();
        if let Some(login) =
            self.logins.iter().find(|l| !logins.insert((l.login_provider.as_str(), l.provider_key.as_str())))
        {
            return Some(format!("an external login of `{}` appears twice", login.login_provider));
        }
        let mut passkeys = HashSet::new();
        if self.passkeys.iter().any(|p| !passkeys.insert(p.credential_id.as_slice())) {
            return Some("a passkey credential id appears twice".to_owned());
        }
        None
    }
}

/// A claim of a user or a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRecord {
    /// The claim type.
    #[serde(rename = "type")]
    pub claim_type: String,
    /// The claim value.
    pub value: String,
}

impl ClaimRecord {
    /// A claim record.
    pub fn new(claim_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self { claim_type: claim_type.into(), value: value.into() }
    }
}

impl From<StoredClaim> for ClaimRecord {
    fn from(claim: StoredClaim) -> Self {
        Self { claim_type: claim.claim_type, value: claim.value }
    }
}

impl From<ClaimRecord> for StoredClaim {
    fn from(record: ClaimRecord) -> Self {
        Self { claim_type: record.claim_type, value: record.value }
    }
}

/// An external login (`AspNetUserLogins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRecord {
    /// The provider.
    pub login_provider: String,
    /// The user's key at the provider.
    pub provider_key: String,
    /// The provider's display name.
    pub provider_display_name: Option<String>,
}

impl From<UserLoginInfo> for LoginRecord {
    fn from(login: UserLoginInfo) -> Self {
        Self {
            login_provider: login.login_provider,
            provider_key: login.provider_key,
            provider_display_name: login.provider_display_name,
        }
    }
}

impl From<LoginRecord> for UserLoginInfo {
    fn from(record: LoginRecord) -> Self {
        Self {
            login_provider: record.login_provider,
            provider_key: record.provider_key,
            provider_display_name: record.provider_display_name,
        }
    }
}

/// An authentication token (`AspNetUserTokens`). Its `Debug` leaves the value out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The provider the token belongs to (`[AspNetUserStore]` for the authenticator key and the
    /// recovery codes).
    pub login_provider: String,
    /// The token's name.
    pub name: String,
    /// The token's value: a secret.
    pub value: Option<String>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("login_provider", &self.login_provider)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<X: UserExtension> std::fmt::Debug for UserRecord<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("claims", &self.claims.len())
            .field("logins", &self.logins.len())
            .field("tokens", &self.tokens.len())
            .field("passkeys", &self.passkeys.len())
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A passkey (`AspNetUserPasskeys`): the credential id and every field of its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRecord {
    /// The credential id.
    #[serde(with = "base64_bytes")]
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

impl From<UserPasskeyInfo> for PasskeyRecord {
    fn from(passkey: UserPasskeyInfo) -> Self {
        Self {
            credential_id: passkey.credential_id,
            public_key: passkey.public_key,
            name: passkey.name,
            created_at: passkey.created_at,
            sign_count: passkey.sign_count,
            transports: passkey.transports,
            is_user_verified: passkey.is_user_verified,
            is_backup_eligible: passkey.is_backup_eligible,
            is_backed_up: passkey.is_backed_up,
            attestation_object: passkey.attestation_object,
            client_data_json: passkey.client_data_json,
            aaguid: passkey.aaguid,
        }
    }
}

impl From<PasskeyRecord> for UserPasskeyInfo {
    fn from(record: PasskeyRecord) -> Self {
        Self {
            credential_id: record.credential_id,
            public_key: record.public_key,
            name: record.name,
            created_at: record.created_at,
            sign_count: record.sign_count,
            transports: record.transports,
            is_user_verified: record.is_user_verified,
            is_backup_eligible: record.is_backup_eligible,
            is_backed_up: record.is_backed_up,
            attestation_object: record.attestation_object,
            client_data_json: record.client_data_json,
            aaguid: record.aaguid,
        }
    }
}

/// A role with every column of `AspNetRoles` and its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRecord {
    /// Primary key.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The normalized name, as stored: what user records name the role by.
    pub normalized_name: Option<String>,
    /// The concurrency stamp.
    pub concurrency_stamp: Option<String>,
    /// The role's claims, in the store's order (insertion order).
    #[serde(default)]
    pub claims: Vec<ClaimRecord>,
}

impl RoleRecord {
    /// A record of `role`'s columns, without claims.
    pub fn from_role(role: IdentityRole) -> Self {
        Self {
            id: role.id,
            name: role.name,
            normalized_name: role.normalized_name,
            concurrency_stamp: role.concurrency_stamp,
            claims: Vec::new(),
        }
    }

    /// The role's columns, as the model's role.
    pub fn to_role(&self) -> IdentityRole {
        IdentityRole {
            id: self.id.clone(),
            name: self.name.clone(),
            normalized_name: self.normalized_name.clone(),
            concurrency_stamp: self.concurrency_stamp.clone(),
        }
    }
}

/// What importing one record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The record was written, with all its rows.
    Created,
    /// A user or role with this id exists, so nothing was written, even where the stored one
    /// differs: importing the same records twice changes nothing, and an interrupted import can
    /// be run again from the start.
    Skipped,
    /// The record cannot be written here (its normalized name is taken by another id, it names
    /// a role that does not exist, a login or passkey of it belongs to another user, …), so
    /// nothing of it was; the reason says why, naming no secret.
    Failed(String),
}

/// The reasons of [`ImportOutcome::Failed`] that every store words alike.
pub mod reasons {
    /// The record's normalized user name belongs to a user with another id.
    pub fn user_name_taken(normalized_user_name: &str) -> String {
        format!("the normalized user name `{normalized_user_name}` is taken by another user")
    }

    /// The record's normalized role name belongs to a role with another id.
    pub fn role_name_taken(normalized_name: &str) -> String {
        format!("the normalized role name `{normalized_name}` is taken by another role")
    }

    /// The user record names a role that the store does not have.
    pub fn unknown_role(normalized_name: &str) -> String {
        format!("the role `{normalized_name}` does not exist (import the roles first)")
    }

    /// One of the user's external logins is linked to another user.
    pub const LOGIN_TAKEN: &str = "one of its external logins is linked to another user";

    /// One of the user's passkey credential ids is registered to another user.
    pub const PASSKEY_TAKEN: &str = "one of its passkeys is registered to another user";

    /// The user has passkeys, and the store has no table for them.
    pub const NO_PASSKEY_TABLE: &str =
        "it has passkeys, and this database has no AspNetUserPasskeys table (Identity schema version 1 or 2)";
}

/// Bulk export and import of users and roles with everything stored for them, for moving
/// between stores and for seeding many users at once.
///
/// Records are read and written as stored: nothing is validated, normalized or rotated.
#[async_trait]
pub trait UserTransferStore<X: UserExtension>: Send + Sync {
    /// Every role with its claims, ordered by id.
    async fn export_roles(&self) -> Result<Vec<RoleRecord>>;

    /// At most `limit` users whose id comes after `after_id` (all when `None`), ordered by id in
    /// the store's own order (code point in memory and on SQLite, the column's collation on
    /// PostgreSQL; the order its "comes after" agrees with), each with all its rows, read at one
    /// point in time.
    /// Passing the last id of a page gets the next one, so paging sees every user that existed
    /// throughout exactly once, whatever is written meanwhile.
    ///
    /// A membership of a role without a normalized name cannot be named in a record, so it is
    /// [`Error::InconsistentData`](crate::Error::InconsistentData) rather than left out.
    async fn export_users(&self, after_id: Option<&str>, limit: usize) -> Result<Vec<UserRecord<X>>>;

    /// Creates the roles, with their claims, whose ids do not exist yet; one outcome per record,
    /// in order. A role whose normalized name another role holds fails.
    async fn import_roles(&self, roles: &[RoleRecord]) -> Result<Vec<ImportOutcome>>;

    /// Creates the users whose ids do not exist yet, each with all its rows or none of them; one
    /// outcome per record, in order (a record whose id came earlier in the same call is
    /// skipped). The roles they name must exist. An error (the store is unreachable) may come
    /// after some records were written; importing the same records again skips those.
    async fn import_users(&self, users: &[UserRecord<X>]) -> Result<Vec<ImportOutcome>>;
}

pub mod base64_bytes {
    //! Byte vectors as standard base64 strings in serde (`#[serde(with = …)]`), as
    //! System.Text.Json writes `byte[]` (EF Core's passkey data) and PostgreSQL's `encode(…,
    //! 'base64')` writes `bytea`.
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `bytes` as a base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads a base64 string into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UserRecord {
        let mut user = IdentityUser::<()>::new("alice");
        user.id = "00000000-0000-0000-0000-000000000001".to_owned();
        user.normalized_user_name = Some("ALICE".to_owned());
        user.security_stamp = Some("STAMP".to_owned());
        user.concurrency_stamp = Some("CONCURRENCY".to_owned());
        UserRecord::from_user(user)
    }

    #[test]
    fn a_user_record_is_flat_json_without_a_default_extension() {
        let mut record = record();
        record.claims.push(ClaimRecord::new("given_name", "Alice"));
        record.roles.push("ADMIN".to_owned());
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"id":"00000000-0000-0000-0000-000000000001","user_name":"alice","normalized_user_name":"ALICE","email":null,"normalized_email":null,"email_confirmed":false,"password_hash":null,"security_stamp":"STAMP","concurrency_stamp":"CONCURRENCY","phone_number":null,"phone_number_confirmed":false,"two_factor_enabled":false,"lockout_end":null,"lockout_enabled":false,"access_failed_count":0,"claims":[{"type":"given_name","value":"Alice"}],"logins":[],"tokens":[],"passkeys":[],"roles":["ADMIN"]}"#
        );
        assert_eq!(serde_json::from_str::<UserRecord>(&json).unwrap(), record);
    }

    #[test]
    fn records_keep_the_user_exactly() {
        let user = record().to_user();
        assert_eq!(UserRecord::from_user(user.clone()).to_user(), user);
    }

    #[test]
    fn unknown_fields_are_refused_and_child_rows_may_be_left_out() {
        let minimal = r#"{"id":"1","email_confirmed":false,"phone_number_confirmed":false,"two_factor_enabled":false,"lockout_enabled":true,"access_failed_count":2}"#;
        let parsed: UserRecord = serde_json::from_str(minimal).unwrap();
        assert_eq!((parsed.access_failed_count, parsed.claims.len(), parsed.user_name), (2, 0, None));
        let typo = minimal.replace("\"id\"", "\"identifier\"");
        assert!(serde_json::from_str::<UserRecord>(&typo).is_err());
    }

    #[test]
    fn passkeys_are_base64_with_an_rfc_3339_instant() {
        let json = r#"{"credential_id":"AQID","public_key":"+/8=","name":null,"created_at":"2026-11-26T10:00:00.5+01:00","sign_count":7,"transports":["usb"],"is_user_verified":true,"is_backup_eligible":false,"is_backed_up":false,"attestation_object":"","client_data_json":"e30=","aaguid":null}"#;
        let passkey: PasskeyRecord = serde_json::from_str(json).unwrap();
        assert_eq!(passkey.credential_id, [1, 2, 3]);
        assert_eq!(passkey.public_key, [0xfb, 0xff]);
        assert_eq!(passkey.created_at.to_rfc3339(), "2026-11-26T09:00:00.500+00:00");
        let back = PasskeyRecord::from(UserPasskeyInfo::from(passkey.clone()));
        assert_eq!(back, passkey);
    }

    #[test]
    fn keys_twice_in_one_record_are_named_without_values() {
        let mut record = record();
        assert_eq!(record.duplicate_key(), None);
        let token =
            TokenRecord { login_provider: "[AspNetUserStore]".into(), name: "RecoveryCodes".into(), value: None };
        record.tokens = vec![token.clone(), TokenRecord { value: Some("secret".into()), ..token }];
        let reason = record.duplicate_key().expect("a duplicate token");
        assert!(reason.contains("RecoveryCodes") && !reason.contains("secret"), "{reason}");
    }
}

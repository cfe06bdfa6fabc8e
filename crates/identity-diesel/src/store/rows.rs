//! Rows as Diesel reads and writes them, and their conversion to and from the core model.

use crate::error::{DieselStoreError, StoreResult};
use crate::schema::{identity_user_extensions, roles, users};
use crate::sql_types::EfDateTime;
use diesel::prelude::*;
use diesel_any::MultiBackend;
use identity_core::{IdentityRole, IdentityUser, StoredClaim, UserExtension};

/// An `AspNetUsers` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    id: String,
    user_name: Option<String>,
    normalized_user_name: Option<String>,
    email: Option<String>,
    normalized_email: Option<String>,
    email_confirmed: bool,
    password_hash: Option<String>,
    security_stamp: Option<String>,
    concurrency_stamp: Option<String>,
    phone_number: Option<String>,
    phone_number_confirmed: bool,
    two_factor_enabled: bool,
    lockout_end: Option<EfDateTime>,
    lockout_enabled: bool,
    access_failed_count: i32,
}

/// A user row with the JSON of its extension, when it has one.
pub(super) type UserWithExtension = (UserRow, Option<String>);

/// Users, each with its extension JSON (a left join, so users without one have `NULL`).
pub(super) type UsersWithExtension = diesel::dsl::Select<
    diesel::dsl::LeftJoin<users::table, identity_user_extensions::table>,
    (diesel::dsl::AsSelect<UserRow, MultiBackend>, diesel::dsl::Nullable<identity_user_extensions::data>),
>;

/// The query every user lookup starts from.
pub(super) fn users_with_extension() -> UsersWithExtension {
    users::table
        .left_join(identity_user_extensions::table)
        .select((UserRow::as_select(), identity_user_extensions::data.nullable()))
}

/// Builds the model user; the extension is `X::default()` when no JSON is stored.
pub(super) fn to_user<X: UserExtension>((row, extension): UserWithExtension) -> StoreResult<IdentityUser<X>> {
    let extra = match extension {
        Some(json) => serde_json::from_str(&json)
            .map_err(|error| DieselStoreError::Data(format!("extension data of user {}: {error}", row.id)))?,
        None => X::default(),
    };
    Ok(IdentityUser {
        id: row.id,
        user_name: row.user_name,
        normalized_user_name: row.normalized_user_name,
        email: row.email,
        normalized_email: row.normalized_email,
        email_confirmed: row.email_confirmed,
        password_hash: row.password_hash,
        security_stamp: row.security_stamp,
        concurrency_stamp: row.concurrency_stamp,
        phone_number: row.phone_number,
        phone_number_confirmed: row.phone_number_confirmed,
        two_factor_enabled: row.two_factor_enabled,
        lockout_end: row.lockout_end.map(|end| end.0),
        lockout_enabled: row.lockout_enabled,
        access_failed_count: row.access_failed_count,
        extra,
    })
}

/// Builds many model users.
pub(super) fn to_users<X: UserExtension>(rows: Vec<UserWithExtension>) -> StoreResult<Vec<IdentityUser<X>>> {
    rows.into_iter().map(to_user).collect()
}

/// Every column of a user, as written by create and update (the key is skipped in updates).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(super) struct UserValues {
    pub(super) id: String,
    user_name: Option<String>,
    normalized_user_name: Option<String>,
    email: Option<String>,
    normalized_email: Option<String>,
    email_confirmed: bool,
    password_hash: Option<String>,
    security_stamp: Option<String>,
    pub(super) concurrency_stamp: Option<String>,
    phone_number: Option<String>,
    phone_number_confirmed: bool,
    two_factor_enabled: bool,
    lockout_end: Option<EfDateTime>,
    lockout_enabled: bool,
    access_failed_count: i32,
}

impl UserValues {
    /// The columns of `user`, with `concurrency_stamp` as the stamp to write.
    pub(super) fn new<X: UserExtension>(user: &IdentityUser<X>, concurrency_stamp: Option<String>) -> Self {
        Self {
            id: user.id.clone(),
            user_name: user.user_name.clone(),
            normalized_user_name: user.normalized_user_name.clone(),
            email: user.email.clone(),
            normalized_email: user.normalized_email.clone(),
            email_confirmed: user.email_confirmed,
            password_hash: user.password_hash.clone(),
            security_stamp: user.security_stamp.clone(),
            concurrency_stamp,
            phone_number: user.phone_number.clone(),
            phone_number_confirmed: user.phone_number_confirmed,
            two_factor_enabled: user.two_factor_enabled,
            lockout_end: user.lockout_end.map(EfDateTime),
            lockout_enabled: user.lockout_enabled,
            access_failed_count: user.access_failed_count,
        }
    }
}

/// What to do with a user's `identity_user_extensions` row.
#[derive(Debug)]
pub(super) enum ExtensionWrite {
    /// Store this JSON.
    Store(String),
    /// The extension serializes to `null`: there must be no row.
    Remove,
    /// `X` is a zero-sized type serializing to `null` (such as `()`): no row can ever exist,
    /// so there is nothing to write or delete.
    Never,
}

impl ExtensionWrite {
    /// The write for a user's extension value.
    pub(super) fn of<X: UserExtension>(extra: &X) -> StoreResult<Self> {
        let value = serde_json::to_value(extra)?;
        Ok(match value {
            serde_json::Value::Null if size_of::<X>() == 0 => ExtensionWrite::Never,
            serde_json::Value::Null => ExtensionWrite::Remove,
            json => ExtensionWrite::Store(json.to_string()),
        })
    }
}

/// An `AspNetRoles` row (the same shape as the model).
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = roles, treat_none_as_null = true)]
pub(super) struct RoleRow {
    pub(super) id: String,
    name: Option<String>,
    normalized_name: Option<String>,
    pub(super) concurrency_stamp: Option<String>,
}

impl From<&IdentityRole> for RoleRow {
    fn from(role: &IdentityRole) -> Self {
        Self {
            id: role.id.clone(),
            name: role.name.clone(),
            normalized_name: role.normalized_name.clone(),
            concurrency_stamp: role.concurrency_stamp.clone(),
        }
    }
}

impl From<RoleRow> for IdentityRole {
    fn from(row: RoleRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            normalized_name: row.normalized_name,
            concurrency_stamp: row.concurrency_stamp,
        }
    }
}

/// A claim as stored: EF Core's columns are nullable, the model's claim is not.
pub(super) fn to_claim((claim_type, value): (Option<String>, Option<String>)) -> StoreResult<StoredClaim> {
    match (claim_type, value) {
        (Some(claim_type), Some(value)) => Ok(StoredClaim { claim_type, value }),
        (claim_type, _) => Err(DieselStoreError::Data(format!(
            "a stored claim has a NULL type or value (type {})",
            claim_type.as_deref().unwrap_or("NULL")
        ))),
    }
}

/// Builds many claims.
pub(super) fn to_claims(rows: Vec<(Option<String>, Option<String>)>) -> StoreResult<Vec<StoredClaim>> {
    rows.into_iter().map(to_claim).collect()
}

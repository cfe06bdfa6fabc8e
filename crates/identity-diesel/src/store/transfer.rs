//! Bulk export and import of users and roles ([`UserTransferStore`]) on EF Core's tables.
//!
//! **Export.** One read transaction per page, which sees one snapshot (`REPEATABLE READ` on
//! PostgreSQL; SQLite's read transaction in WAL mode already does): the page of users by id,
//! then the claims, logins, tokens, passkeys and role memberships of those ids with one `IN`
//! (`= ANY` on PostgreSQL) query per table, grouped in Rust. Ids are ordered and compared in the column's own collation,
//! the same in the `ORDER BY` and in the keyset condition, so pages never skip or repeat a user
//! and the primary key's index serves each page (a `COLLATE "C"` would sort the whole table for
//! every page on a PostgreSQL database with a linguistic collation).
//!
//! **Import.** One write transaction per call: one query finds the ids that exist, one resolves
//! the named roles to ids, then every new record's rows go in with multi-row INSERTs of at most
//! [`ROWS_PER_INSERT`] rows each, on the backend's own connection ([`diesel_any::on_backend!`]),
//! since Diesel's `MultiConnection` writes one row per INSERT. When the database refuses a row
//! (a taken user name, login or passkey, a value too long for its column), the transaction rolls
//! back and the call starts again with one write transaction per record, so that the refusal is
//! attributed to its record and the others are still created. Either way a record is written
//! whole or not at all.

use super::passkeys::{PasskeyData, to_info};
use super::rows::{ExtensionWrite, RoleRow, UserValues, UserWithExtension, to_claim, to_user, users_with_extension};
use super::{DieselStore, ROLE_NAME_INDEX, USER_NAME_INDEX, UniqueIndex, to_i64};
use crate::error::{DieselStoreError, StoreResult};
use crate::schema::{
    identity_user_extensions, role_claims, roles, user_claims, user_logins, user_passkeys, user_roles, user_tokens,
    users,
};
use crate::sql_types::JsonText;
use async_trait::async_trait;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_any::{AnyConnection, Backend, DatabaseError, write_transaction};
use identity_core::transfer::{
    ClaimRecord, ImportOutcome, LoginRecord, PasskeyRecord, RoleRecord, TokenRecord, UserRecord, UserTransferStore,
    reasons,
};
use identity_core::{IdentityRole, IdentityUser, Result, UserExtension, UserPasskeyInfo};
use std::collections::{HashMap, HashSet};

/// The most rows one INSERT writes: 500 users are 7,500 bind parameters, well under SQLite's
/// 32,766 and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;

/// The most ids one `IN` list binds (SQLite binds each; PostgreSQL binds one array).
const IDS_PER_QUERY: usize = 500;

/// `AspNetUserLogins`' key: a login belongs to one user.
const LOGIN_KEY: UniqueIndex = UniqueIndex { name: "PK_AspNetUserLogins", column: "AspNetUserLogins.LoginProvider" };

/// `AspNetUserPasskeys`' key: a credential id belongs to one user.
const PASSKEY_KEY: UniqueIndex =
    UniqueIndex { name: "PK_AspNetUserPasskeys", column: "AspNetUserPasskeys.CredentialId" };

/// Inserts `$rows` (a vector of insertable rows) into `$table` in chunks of
/// [`ROWS_PER_INSERT`], each chunk one statement on the backend's own connection; returns an
/// [`ImportError`] from the enclosing function on failure.
macro_rules! insert_rows {
    ($connection:ident, $table:path, $rows:ident) => {
        for chunk in $rows.chunks(ROWS_PER_INSERT) {
            diesel_any::on_backend!(
                &mut *$connection,
                |inner| {
                    diesel::insert_into($table).values(chunk).execute(inner)?;
                },
                |backend| return Err(DieselStoreError::from(DatabaseError::BackendDisabled(backend)).into())
            );
        }
    };
}

#[async_trait]
impl<X: UserExtension> UserTransferStore<X> for DieselStore<X> {
    async fn export_roles(&self) -> Result<Vec<RoleRecord>> {
        self.run(move |connection| snapshot(connection, export_roles)).await
    }

    async fn export_users(&self, after_id: Option<&str>, limit: usize) -> Result<Vec<UserRecord<X>>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let page = Page { passkeys: self.passkeys, after_id: after_id.map(str::to_owned) };
        let limit = to_i64(limit);
        self.run(move |connection| snapshot(connection, |connection| export_page(connection, page, limit))).await
    }

    async fn import_roles(&self, records: &[RoleRecord]) -> Result<Vec<ImportOutcome>> {
        let records: Vec<NewRole> = records.iter().map(NewRole::new).collect();
        self.run(move |connection| import(connection, &records)).await
    }

    async fn import_users(&self, records: &[UserRecord<X>]) -> Result<Vec<ImportOutcome>> {
        let passkey_table = self.passkeys;
        let records =
            records.iter().map(|record| NewUser::new(record, passkey_table)).collect::<StoreResult<Vec<_>>>()?;
        self.run(move |connection| import(connection, &records)).await
    }
}

/// Runs `body` in one read transaction that sees one snapshot. PostgreSQL's default isolation
/// lets each statement see the latest commits, so a page's child rows could come from a later
/// state than its users; its first statement raises the isolation. SQLite's read transaction
/// in WAL mode is a snapshot already.
fn snapshot<T>(
    connection: &mut AnyConnection,
    body: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    connection.transaction(|connection| {
        if connection.backend() == Backend::Postgres {
            connection.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        body(connection)
    })
}

/// The record of `key` among `records`, through the index `slots` (key to position).
fn record_of<'r, T>(records: &'r mut [T], slots: &HashMap<&str, usize>, key: &str) -> Option<&'r mut T> {
    slots.get(key).and_then(|&slot| records.get_mut(slot))
}

/// Every role, ordered by id, with its claims.
fn export_roles(connection: &mut AnyConnection) -> StoreResult<Vec<RoleRecord>> {
    let rows: Vec<RoleRow> = roles::table.select(RoleRow::as_select()).order(roles::id).load(connection)?;
    let mut records: Vec<RoleRecord> =
        rows.into_iter().map(|row| RoleRecord::from_role(IdentityRole::from(row))).collect();
    let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
    let slots: HashMap<&str, usize> = ids.iter().enumerate().map(|(slot, id)| (id.as_str(), slot)).collect();
    let claims: Vec<(String, Option<String>, Option<String>)> = role_claims::table
        .order(role_claims::id)
        .select((role_claims::role_id, role_claims::claim_type, role_claims::claim_value))
        .load(connection)?;
    for (role_id, claim_type, value) in claims {
        if let Some(record) = record_of(&mut records, &slots, &role_id) {
            record.claims.push(ClaimRecord::from(to_claim((claim_type, value))?));
        }
    }
    Ok(records)
}

/// What a page of users is read with.
#[derive(Debug)]
struct Page {
    /// Whether the database has `AspNetUserPasskeys`.
    passkeys: bool,
    /// The last id of the previous page.
    after_id: Option<String>,
}

/// A page of users with all their rows: one query for the users, then one per child table (per
/// [`IDS_PER_QUERY`] users).
fn export_page<X: UserExtension>(
    connection: &mut AnyConnection,
    page: Page,
    limit: i64,
) -> StoreResult<Vec<UserRecord<X>>> {
    let Page { passkeys, after_id } = page;
    let mut select = users_with_extension().order(users::id).limit(limit).into_boxed();
    if let Some(after_id) = after_id {
        select = select.filter(users::id.gt(after_id));
    }
    let rows: Vec<UserWithExtension> = select.load(connection)?;
    let mut records =
        rows.into_iter().map(|row| to_user(row).map(UserRecord::from_user)).collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
    let slots: HashMap<&str, usize> = ids.iter().enumerate().map(|(slot, id)| (id.as_str(), slot)).collect();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let claims: Vec<(String, Option<String>, Option<String>)> = user_claims::table
            .filter(user_claims::user_id.eq_any(chunk))
            .order(user_claims::id)
            .select((user_claims::user_id, user_claims::claim_type, user_claims::claim_value))
            .load(connection)?;
        for (user_id, claim_type, value) in claims {
            if let Some(record) = record_of(&mut records, &slots, &user_id) {
                record.claims.push(ClaimRecord::from(to_claim((claim_type, value))?));
            }
        }
        let logins: Vec<(String, String, String, Option<String>)> = user_logins::table
            .filter(user_logins::user_id.eq_any(chunk))
            .order((user_logins::login_provider, user_logins::provider_key))
            .select((
                user_logins::user_id,
                user_logins::login_provider,
                user_logins::provider_key,
                user_logins::provider_display_name,
            ))
            .load(connection)?;
        for (user_id, login_provider, provider_key, provider_display_name) in logins {
            if let Some(record) = record_of(&mut records, &slots, &user_id) {
                record.logins.push(LoginRecord { login_provider, provider_key, provider_display_name });
            }
        }
        let tokens: Vec<(String, String, String, Option<String>)> = user_tokens::table
            .filter(user_tokens::user_id.eq_any(chunk))
            .order((user_tokens::login_provider, user_tokens::name))
            .select((user_tokens::user_id, user_tokens::login_provider, user_tokens::name, user_tokens::value))
            .load(connection)?;
        for (user_id, login_provider, name, value) in tokens {
            if let Some(record) = record_of(&mut records, &slots, &user_id) {
                record.tokens.push(TokenRecord { login_provider, name, value });
            }
        }
        if passkeys {
            let rows: Vec<(String, Vec<u8>, JsonText)> = user_passkeys::table
                .filter(user_passkeys::user_id.eq_any(chunk))
                .order(user_passkeys::credential_id)
                .select((user_passkeys::user_id, user_passkeys::credential_id, user_passkeys::data))
                .load(connection)?;
            for (user_id, credential_id, data) in rows {
                if let Some(record) = record_of(&mut records, &slots, &user_id) {
                    record.passkeys.push(PasskeyRecord::from(to_info((credential_id, data))?));
                }
            }
        }
        let memberships: Vec<(String, String, Option<String>)> = user_roles::table
            .inner_join(roles::table)
            .filter(user_roles::user_id.eq_any(chunk))
            .select((user_roles::user_id, roles::id, roles::normalized_name))
            .load(connection)?;
        for (user_id, role_id, normalized_name) in memberships {
            // A record names roles by normalized name; leaving the membership out instead would
            // lose it without a word.
            let name = normalized_name.ok_or_else(|| {
                DieselStoreError::Data(format!(
                    "role {role_id} has no normalized name, so the membership of user {user_id} cannot be exported"
                ))
            })?;
            if let Some(record) = record_of(&mut records, &slots, &user_id) {
                record.roles.push(name);
            }
        }
    }
    for record in &mut records {
        record.roles.sort();
    }
    Ok(records)
}

/// Why the database refused a record's rows.
#[derive(Debug)]
enum Conflict {
    /// `UserNameIndex`: the normalized user name is another user's.
    UserName,
    /// `RoleNameIndex`: the normalized role name is another role's.
    RoleName,
    /// A login of the record is another user's.
    Login,
    /// A passkey credential id of the record is another user's.
    Passkey,
    /// Anything else the database refused, with its message (which names no value).
    Other(String),
}

impl Conflict {
    /// The conflict behind `error`, when the database refused the rows themselves (a key or
    /// constraint they break, a value that does not fit its column) rather than failed. Anything
    /// else (an unreachable, busy, full or read-only database, a missing table, a refused
    /// permission) stops the import with the error instead of failing every record in turn.
    fn of(error: &DieselStoreError) -> Option<Self> {
        let DieselStoreError::Database(database) = error else { return None };
        if database.is_retryable() {
            return None;
        }
        let DatabaseError::Query(query) = database else { return None };
        match query {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Some(if USER_NAME_INDEX.violated_by(query) {
                    Conflict::UserName
                } else if ROLE_NAME_INDEX.violated_by(query) {
                    Conflict::RoleName
                } else if LOGIN_KEY.violated_by(query) {
                    Conflict::Login
                } else if PASSKEY_KEY.violated_by(query) {
                    Conflict::Passkey
                } else {
                    Conflict::Other(format!("it conflicts with a stored row: {}", info.message()))
                })
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation,
                info,
            ) => Some(Conflict::Other(format!("the database refused it: {}", info.message()))),
            // PostgreSQL's "value too long for type character varying(256)" (SQLSTATE 22001),
            // which Diesel does not classify.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().starts_with("value too long") =>
            {
                Some(Conflict::Other(format!("the database refused it: {}", info.message())))
            }
            DieselError::SerializationError(cause) => {
                Some(Conflict::Other(format!("a value cannot be stored: {cause}")))
            }
            _ => None,
        }
    }

    /// The reason of the record's [`ImportOutcome::Failed`]; `name` is its normalized name.
    fn describe(self, name: Option<&str>) -> String {
        let name = name.unwrap_or_default();
        match self {
            Conflict::UserName => reasons::user_name_taken(name),
            Conflict::RoleName => reasons::role_name_taken(name),
            Conflict::Login => reasons::LOGIN_TAKEN.to_owned(),
            Conflict::Passkey => reasons::PASSKEY_TAKEN.to_owned(),
            Conflict::Other(reason) => reason,
        }
    }
}

/// The error of an import transaction: the database refused some row (the records' fault, to
/// attribute record by record), or it failed.
#[derive(Debug)]
enum ImportError {
    Conflict(Conflict),
    Failed(DieselStoreError),
}

impl From<DieselStoreError> for ImportError {
    fn from(error: DieselStoreError) -> Self {
        match Conflict::of(&error) {
            Some(conflict) => ImportError::Conflict(conflict),
            None => ImportError::Failed(error),
        }
    }
}

impl From<DieselError> for ImportError {
    fn from(error: DieselError) -> Self {
        DieselStoreError::from(error).into()
    }
}

/// What [`Importable::plan`] decides: per record, an outcome, or `None` to create it; and what
/// it found that the writing needs.
type Plan<F> = (Vec<Option<ImportOutcome>>, F);

/// A kind of record (a user or a role) that [`import`] writes.
trait Importable {
    /// What planning found that writing needs.
    type Found;

    /// Decides, inside the write transaction, which records are skipped (their id exists, or
    /// came earlier in the call) or fail before any write (an unknown role, a key twice).
    fn plan(connection: &mut AnyConnection, records: &[&Self]) -> StoreResult<Plan<Self::Found>>;

    /// Writes every row of `records`, which the plan left to create.
    fn write(connection: &mut AnyConnection, records: &[&Self], found: &Self::Found) -> Result<(), ImportError>;

    /// The normalized name, for the reason of a conflict.
    fn name(&self) -> Option<&str>;
}

/// Imports `records` in one write transaction, or, when the database refuses a row, in one
/// write transaction per record.
fn import<R: Importable>(connection: &mut AnyConnection, records: &[R]) -> StoreResult<Vec<ImportOutcome>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<&R> = records.iter().collect();
    match write_transaction(connection, |connection| write_batch(connection, &all)) {
        Ok(outcomes) => Ok(outcomes),
        // Which record conflicted is unknown, and on PostgreSQL the transaction is aborted
        // anyway: everything rolled back, so the records are tried one by one.
        Err(ImportError::Conflict(_)) => records.iter().map(|record| import_one(connection, record)).collect(),
        Err(ImportError::Failed(error)) => Err(error),
    }
}

/// Imports one record in a write transaction of its own; a refused row fails the record.
fn import_one<R: Importable>(connection: &mut AnyConnection, record: &R) -> StoreResult<ImportOutcome> {
    match write_transaction(connection, |connection| write_batch(connection, &[record])) {
        Ok(outcomes) => outcomes
            .into_iter()
            .next()
            .ok_or_else(|| DieselStoreError::Data("the import of one record decided nothing".to_owned())),
        Err(ImportError::Conflict(conflict)) => Ok(ImportOutcome::Failed(conflict.describe(record.name()))),
        Err(ImportError::Failed(error)) => Err(error),
    }
}

/// Plans `records` and writes those to create, inside the caller's write transaction.
fn write_batch<R: Importable>(
    connection: &mut AnyConnection,
    records: &[&R],
) -> Result<Vec<ImportOutcome>, ImportError> {
    // A failed lookup is the database's failure, never a record's.
    let (plan, found) = R::plan(connection, records).map_err(ImportError::Failed)?;
    let creating: Vec<&R> =
        records.iter().zip(&plan).filter(|(_, decided)| decided.is_none()).map(|(record, _)| *record).collect();
    R::write(connection, &creating, &found)?;
    Ok(plan.into_iter().map(|decided| decided.unwrap_or(ImportOutcome::Created)).collect())
}

/// Which of `ids` exist, asked [`IDS_PER_QUERY`] at a time with `query`.
fn existing_ids(
    connection: &mut AnyConnection,
    ids: &[&str],
    mut query: impl FnMut(&mut AnyConnection, &[&str]) -> QueryResult<Vec<String>>,
) -> StoreResult<HashSet<String>> {
    let mut existing = HashSet::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        existing.extend(query(connection, chunk)?);
    }
    Ok(existing)
}

/// A role record as the rows it is written as.
#[derive(Debug)]
struct NewRole {
    role: IdentityRole,
    claims: Vec<ClaimRecord>,
}

impl NewRole {
    fn new(record: &RoleRecord) -> Self {
        Self { role: record.to_role(), claims: record.claims.clone() }
    }
}

/// An `AspNetRoleClaims` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = role_claims)]
struct RoleClaimRow<'a> {
    role_id: &'a str,
    claim_type: &'a str,
    claim_value: &'a str,
}

impl Importable for NewRole {
    type Found = ();

    fn plan(connection: &mut AnyConnection, records: &[&Self]) -> StoreResult<Plan<()>> {
        let ids: Vec<&str> = records.iter().map(|record| record.role.id.as_str()).collect();
        let existing = existing_ids(connection, &ids, |connection, chunk| {
            roles::table.filter(roles::id.eq_any(chunk)).select(roles::id).load(connection)
        })?;
        let mut seen = HashSet::new();
        let plan = records
            .iter()
            .map(|record| {
                let id = record.role.id.as_str();
                (existing.contains(id) || !seen.insert(id)).then_some(ImportOutcome::Skipped)
            })
            .collect();
        Ok((plan, ()))
    }

    fn write(connection: &mut AnyConnection, records: &[&Self], _: &()) -> Result<(), ImportError> {
        let rows: Vec<RoleRow> = records.iter().map(|record| RoleRow::from(&record.role)).collect();
        insert_rows!(connection, roles::table, rows);
        let claims: Vec<RoleClaimRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record.claims.iter().map(move |claim| RoleClaimRow {
                    role_id: &record.role.id,
                    claim_type: &claim.claim_type,
                    claim_value: &claim.value,
                })
            })
            .collect();
        insert_rows!(connection, role_claims::table, claims);
        Ok(())
    }

    fn name(&self) -> Option<&str> {
        self.role.normalized_name.as_deref()
    }
}

/// A user record as the rows it is written as, prepared before the database work.
#[derive(Debug)]
struct NewUser<X: UserExtension> {
    user: IdentityUser<X>,
    /// The extension's JSON, when it has a row.
    extension: Option<String>,
    /// Why the record cannot be written, whatever the database holds.
    problem: Option<String>,
    claims: Vec<ClaimRecord>,
    logins: Vec<LoginRecord>,
    tokens: Vec<TokenRecord>,
    /// Credential ids with the `Data` documents.
    passkeys: Vec<(Vec<u8>, JsonText)>,
    /// Normalized role names, each once (a role named twice is one membership).
    roles: Vec<String>,
}

impl<X: UserExtension> NewUser<X> {
    fn new(record: &UserRecord<X>, passkey_table: bool) -> StoreResult<Self> {
        let extension = match ExtensionWrite::of(&record.extra)? {
            ExtensionWrite::Store(json) => Some(json),
            // A new user has no extension row to remove.
            ExtensionWrite::Remove | ExtensionWrite::Never => None,
        };
        let no_passkey_table = !passkey_table && !record.passkeys.is_empty();
        let problem = record.duplicate_key().or_else(|| no_passkey_table.then(|| reasons::NO_PASSKEY_TABLE.to_owned()));
        let passkeys = record
            .passkeys
            .iter()
            .map(|passkey| -> StoreResult<(Vec<u8>, JsonText)> {
                let info = UserPasskeyInfo::from(passkey.clone());
                Ok((passkey.credential_id.clone(), PasskeyData::from_info(&info).to_json()?))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut roles = record.roles.clone();
        roles.sort_unstable();
        roles.dedup();
        Ok(Self {
            user: record.to_user(),
            extension,
            problem,
            claims: record.claims.clone(),
            logins: record.logins.clone(),
            tokens: record.tokens.clone(),
            passkeys,
            roles,
        })
    }
}

/// An `identity_user_extensions` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = identity_user_extensions)]
struct ExtensionRow<'a> {
    user_id: &'a str,
    data: &'a str,
}

/// An `AspNetUserClaims` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = user_claims)]
struct UserClaimRow<'a> {
    user_id: &'a str,
    claim_type: &'a str,
    claim_value: &'a str,
}

/// An `AspNetUserLogins` row to insert. `None` is written as `NULL` (not `DEFAULT`), so SQLite
/// gets one multi-row statement rather than one statement per row.
#[derive(Debug, Insertable)]
#[diesel(table_name = user_logins, treat_none_as_default_value = false)]
struct LoginRow<'a> {
    login_provider: &'a str,
    provider_key: &'a str,
    provider_display_name: Option<&'a str>,
    user_id: &'a str,
}

/// An `AspNetUserTokens` row to insert (`None` as `NULL`, as for [`LoginRow`]).
#[derive(Debug, Insertable)]
#[diesel(table_name = user_tokens, treat_none_as_default_value = false)]
struct TokenRow<'a> {
    user_id: &'a str,
    login_provider: &'a str,
    name: &'a str,
    value: Option<&'a str>,
}

/// An `AspNetUserPasskeys` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = user_passkeys)]
struct PasskeyRow<'a> {
    credential_id: &'a [u8],
    user_id: &'a str,
    data: &'a JsonText,
}

/// An `AspNetUserRoles` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = user_roles)]
struct UserRoleRow<'a> {
    user_id: &'a str,
    role_id: &'a str,
}

impl<X: UserExtension> Importable for NewUser<X> {
    /// Role ids by normalized name.
    type Found = HashMap<String, String>;

    fn plan(connection: &mut AnyConnection, records: &[&Self]) -> StoreResult<Plan<Self::Found>> {
        let ids: Vec<&str> = records.iter().map(|record| record.user.id.as_str()).collect();
        let existing = existing_ids(connection, &ids, |connection, chunk| {
            users::table.filter(users::id.eq_any(chunk)).select(users::id).load(connection)
        })?;
        let mut names: Vec<&str> = records.iter().flat_map(|record| record.roles.iter().map(String::as_str)).collect();
        names.sort_unstable();
        names.dedup();
        let mut role_ids = HashMap::new();
        for chunk in names.chunks(IDS_PER_QUERY) {
            let found: Vec<(Option<String>, String)> = roles::table
                .filter(roles::normalized_name.eq_any(chunk))
                .select((roles::normalized_name, roles::id))
                .load(connection)?;
            role_ids.extend(found.into_iter().filter_map(|(name, id)| Some((name?, id))));
        }
        let mut seen = HashSet::new();
        let plan = records
            .iter()
            .map(|record| {
                let id = record.user.id.as_str();
                // An id met earlier in this call is skipped, as it would be in a later call.
                if existing.contains(id) || !seen.insert(id) {
                    return Some(ImportOutcome::Skipped);
                }
                if let Some(problem) = &record.problem {
                    return Some(ImportOutcome::Failed(problem.clone()));
                }
                if let Some(unknown) = record.roles.iter().find(|name| !role_ids.contains_key(name.as_str())) {
                    return Some(ImportOutcome::Failed(reasons::unknown_role(unknown)));
                }
                None
            })
            .collect();
        Ok((plan, role_ids))
    }

    fn write(connection: &mut AnyConnection, records: &[&Self], role_ids: &Self::Found) -> Result<(), ImportError> {
        let users: Vec<UserValues> =
            records.iter().map(|record| UserValues::new(&record.user, record.user.concurrency_stamp.clone())).collect();
        insert_rows!(connection, users::table, users);
        let extensions: Vec<ExtensionRow<'_>> = records
            .iter()
            .filter_map(|record| Some(ExtensionRow { user_id: &record.user.id, data: record.extension.as_deref()? }))
            .collect();
        insert_rows!(connection, identity_user_extensions::table, extensions);
        let claims: Vec<UserClaimRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record.claims.iter().map(move |claim| UserClaimRow {
                    user_id: &record.user.id,
                    claim_type: &claim.claim_type,
                    claim_value: &claim.value,
                })
            })
            .collect();
        insert_rows!(connection, user_claims::table, claims);
        let logins: Vec<LoginRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record.logins.iter().map(move |login| LoginRow {
                    login_provider: &login.login_provider,
                    provider_key: &login.provider_key,
                    provider_display_name: login.provider_display_name.as_deref(),
                    user_id: &record.user.id,
                })
            })
            .collect();
        insert_rows!(connection, user_logins::table, logins);
        let tokens: Vec<TokenRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record.tokens.iter().map(move |token| TokenRow {
                    user_id: &record.user.id,
                    login_provider: &token.login_provider,
                    name: &token.name,
                    value: token.value.as_deref(),
                })
            })
            .collect();
        insert_rows!(connection, user_tokens::table, tokens);
        let passkeys: Vec<PasskeyRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record.passkeys.iter().map(move |(credential_id, data)| PasskeyRow {
                    credential_id,
                    user_id: &record.user.id,
                    data,
                })
            })
            .collect();
        insert_rows!(connection, user_passkeys::table, passkeys);
        let memberships: Vec<UserRoleRow<'_>> = records
            .iter()
            .flat_map(|record| {
                record
                    .roles
                    .iter()
                    .filter_map(move |name| role_ids.get(name))
                    .map(move |role_id| UserRoleRow { user_id: &record.user.id, role_id })
            })
            .collect();
        insert_rows!(connection, user_roles::table, memberships);
        Ok(())
    }

    fn name(&self) -> Option<&str> {
        self.user.normalized_user_name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str, Option<&'static str>);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.1
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn refusal(kind: DatabaseErrorKind, message: &'static str, constraint: Option<&'static str>) -> DieselStoreError {
        DieselError::DatabaseError(kind, Box::new(Info(message, constraint))).into()
    }

    #[test]
    fn refused_rows_are_named_by_the_key_they_break() {
        let sqlite = refusal(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: AspNetUsers.NormalizedUserName",
            None,
        );
        let described = Conflict::of(&sqlite).map(|conflict| conflict.describe(Some("ALICE")));
        assert_eq!(described, Some(reasons::user_name_taken("ALICE")));
        let postgres = refusal(DatabaseErrorKind::UniqueViolation, "duplicate key value", Some("PK_AspNetUserLogins"));
        assert!(matches!(Conflict::of(&postgres), Some(Conflict::Login)));
        let passkey = refusal(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: AspNetUserPasskeys.CredentialId",
            None,
        );
        assert!(matches!(Conflict::of(&passkey), Some(Conflict::Passkey)));
        let too_long = refusal(DatabaseErrorKind::Unknown, "value too long for type character varying(256)", None);
        assert!(matches!(Conflict::of(&too_long), Some(Conflict::Other(reason)) if reason.contains("too long")));
    }

    #[test]
    fn an_unavailable_database_is_a_failure_not_a_conflict() {
        assert!(Conflict::of(&refusal(DatabaseErrorKind::Unknown, "database is locked", None)).is_none());
        assert!(Conflict::of(&DieselStoreError::Data("bad json".to_owned())).is_none());
        for message in [
            "no such table: AspNetUsers",
            "permission denied for table AspNetUsers",
            "database or disk is full",
            "cannot execute INSERT in a read-only transaction",
        ] {
            assert!(Conflict::of(&refusal(DatabaseErrorKind::Unknown, message, None)).is_none(), "{message}");
        }
    }
}

//! [`DieselStore`]: every store trait of `identity-core`, with the semantics of its in-memory
//! reference store, over EF Core's Identity tables.
//!
//! Each trait method moves its inputs into one closure that runs on a pooled connection on a
//! blocking thread ([`Database::run`](crate::Database)). Changes to several rows run in one
//! transaction ([`write_transaction`](diesel_any::write_transaction)). Optimistic concurrency is a `WHERE "ConcurrencyStamp" …`
//! on the write itself, and taken names are found by the unique indexes, so neither needs a read
//! before the write.

mod claims;
mod logins;
mod passkeys;
mod roles;
mod rows;
mod transfer;
mod users;

use crate::error::{DieselStoreError, StoreResult};
use crate::migrations::{IdentityMigrations as _, IdentitySchema};
use diesel::expression::SqlLiteral;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Text;
use diesel_any::{Backend, Database, DatabaseError};
use identity_core::{ErrorDescriber, UserExtension};
use std::marker::PhantomData;

/// A user and role store on SQLite or PostgreSQL, for users of type `IdentityUser<X>`.
///
/// It implements every capability of `identity-core`. Passkeys need Identity schema version 3
/// (`AspNetUserPasskeys`): on an older database created by .NET, [`passkey_store`] is `None`.
///
/// [`passkey_store`]: identity_core::store::UserStore::passkey_store
pub struct DieselStore<X: UserExtension = ()> {
    db: Database,
    passkeys: bool,
    describer: ErrorDescriber,
    user_type: PhantomData<fn() -> X>,
}

impl<X: UserExtension> std::fmt::Debug for DieselStore<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.db.backend())
            .field("passkeys", &self.passkeys)
            .finish_non_exhaustive()
    }
}

impl<X: UserExtension> DieselStore<X> {
    /// A store over a migrated database. Fails with [`DieselStoreError::Config`] when the
    /// database has no Identity schema or migrations are pending (run
    /// [`Database::run_migrations`] first).
    pub async fn new(db: Database) -> Result<Self, DieselStoreError> {
        let status = db.migration_status().await?;
        if status.identity_schema == IdentitySchema::Absent || !status.pending.is_empty() {
            return Err(DieselStoreError::Config(format!(
                "the database is not migrated (Identity schema: {:?}, pending migrations: {:?}); run the migrations first",
                status.identity_schema, status.pending
            )));
        }
        Ok(Self {
            db,
            passkeys: status.identity_schema == IdentitySchema::WithPasskeys,
            describer: ErrorDescriber,
            user_type: PhantomData,
        })
    }

    /// Replaces the describer of the errors this store returns (`DuplicateUserName`,
    /// `ConcurrencyFailure`, …), to localise their descriptions.
    pub fn with_error_describer(mut self, describer: ErrorDescriber) -> Self {
        self.describer = describer;
        self
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Whether the database has `AspNetUserPasskeys` (Identity schema version 3).
    pub fn supports_passkeys(&self) -> bool {
        self.passkeys
    }

    /// Runs `work` on a pooled connection, mapping errors to `identity-core`'s.
    async fn run<T, F>(&self, work: F) -> identity_core::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::AnyConnection) -> StoreResult<T> + Send + 'static,
    {
        Ok(self.db.run(work).await?)
    }
}

/// A unique index of EF Core's schema whose violation is an expected outcome.
#[derive(Debug, Clone, Copy)]
struct UniqueIndex {
    /// The index name PostgreSQL reports as the constraint.
    name: &'static str,
    /// `table.column`, as SQLite names it in its message.
    column: &'static str,
}

/// `AspNetUsers.NormalizedUserName`.
const USER_NAME_INDEX: UniqueIndex = UniqueIndex { name: "UserNameIndex", column: "AspNetUsers.NormalizedUserName" };
/// `AspNetRoles.NormalizedName`.
const ROLE_NAME_INDEX: UniqueIndex = UniqueIndex { name: "RoleNameIndex", column: "AspNetRoles.NormalizedName" };

impl UniqueIndex {
    fn violated_by(self, error: &DieselError) -> bool {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                info.constraint_name() == Some(self.name) || info.message().contains(self.column)
            }
            _ => false,
        }
    }
}

/// Whether an error is a unique violation (of any key).
fn is_unique_violation(error: &DieselStoreError) -> bool {
    matches!(
        error,
        DieselStoreError::Database(DatabaseError::Query(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _
        )))
    )
}

/// Runs an insert-or-update twice at most: on PostgreSQL two transactions can both find no row
/// and both insert; the loser's unique violation means the row now exists, so the second attempt
/// updates it. (SQLite's `BEGIN IMMEDIATE` already serializes them.)
fn retry_once_on_conflict<T>(mut attempt: impl FnMut() -> StoreResult<T>) -> StoreResult<T> {
    match attempt() {
        Err(error) if is_unique_violation(&error) => attempt(),
        outcome => outcome,
    }
}

/// A text column in an `ORDER BY` that sorts by code point, as Rust's `str` ordering does:
/// SQLite's default collation already does; PostgreSQL's database collation may not, so it gets
/// `COLLATE "C"`. `column` is a quoted, qualified column name.
fn ordinal(backend: Backend, column: &str) -> SqlLiteral<Text> {
    let collation = match backend {
        Backend::Postgres => " COLLATE \"C\"",
        Backend::Sqlite => "",
    };
    diesel::dsl::sql::<Text>(&format!("{column}{collation}"))
}

diesel::define_sql_function! {
    /// SQL `substr(text, start, length)`, counting characters on both backends.
    fn substr(text: diesel::sql_types::Nullable<Text>, start: diesel::sql_types::Integer, length: diesel::sql_types::Integer) -> diesel::sql_types::Nullable<Text>;
}

/// The arguments of `substr(column, 1, n) = prefix`, a case-sensitive prefix match (SQLite's
/// `LIKE` ignores ASCII case).
fn prefix_arguments(prefix: &str) -> (i32, String) {
    (i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX), prefix.to_owned())
}

/// A count, offset or limit as SQL's `BIGINT`.
fn to_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

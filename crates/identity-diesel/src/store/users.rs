//! Users: the core store, the capability accessors, email lookup, listing, lockout accounting and
//! the bulk load for the claims factory.

use super::rows::{ExtensionWrite, UserValues, to_claims, to_user, to_users, users_with_extension};
use super::{DieselStore, USER_NAME_INDEX, ordinal, prefix_arguments, substr, to_i64};
use crate::error::StoreResult;
use crate::schema::{identity_user_extensions, role_claims, roles, user_claims, user_roles, users};
use crate::sql_types::EfDateTime;
use crate::transaction::TxError;
use async_trait::async_trait;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_any::{AnyConnection, write_transaction};
use identity_core::model::new_guid;
use identity_core::store::{
    LockoutState, LockoutTransition, QueryableUserStore, RoleWithClaims, UserClaimsData, UserClaimsDataStore,
    UserEmailStore, UserLockoutStore, UserPasskeyStore, UserPasswordStore, UserPhoneNumberStore, UserQuery,
    UserSecurityStampStore, UserStore, UserTwoFactorStore,
};
use identity_core::{Error, IdentityResult, IdentityUser, Result, StoredClaim, UserExtension};
use std::collections::HashMap;

/// The SQL of [`stamp_is`]: `column = $1 OR (column IS NULL AND $2)`.
pub(super) type StampIs<C> = dsl::Or<dsl::Eq<C, Option<String>>, dsl::And<dsl::IsNull<C>, bool, Bool>>;

/// `"ConcurrencyStamp" = expected`, where a `NULL` stamp matches `None` (as the in-memory store
/// compares `Option`s), in SQL both backends accept.
pub(super) fn stamp_is<C>(column: C, expected: Option<String>) -> StampIs<C>
where
    C: Column + ExpressionMethods + Expression<SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>> + Copy,
{
    let expect_null = expected.is_none();
    column.eq(expected).or(column.is_null().and::<bool, Bool>(expect_null))
}

/// Writes the extension row of a user inside a write transaction.
fn write_extension(connection: &mut AnyConnection, user_id: &str, write: &ExtensionWrite) -> QueryResult<()> {
    let row = identity_user_extensions::table.find(user_id);
    match write {
        ExtensionWrite::Store(json) => {
            let updated = diesel::update(row).set(identity_user_extensions::data.eq(json)).execute(connection)?;
            if updated == 0 {
                diesel::insert_into(identity_user_extensions::table)
                    .values((identity_user_extensions::user_id.eq(user_id), identity_user_extensions::data.eq(json)))
                    .execute(connection)?;
            }
        }
        ExtensionWrite::Remove => {
            diesel::delete(row).execute(connection)?;
        }
        ExtensionWrite::Never => {}
    }
    Ok(())
}

/// Turns a write's outcome into the trait's result.
fn identity_result(outcome: std::result::Result<(), identity_core::IdentityError>) -> IdentityResult {
    match outcome {
        Ok(()) => IdentityResult::Success,
        Err(refusal) => IdentityResult::failed([refusal]),
    }
}

#[async_trait]
impl<X: UserExtension> UserStore<X> for DieselStore<X> {
    async fn create(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let values = UserValues::new(user, user.concurrency_stamp.clone());
        let extension = ExtensionWrite::of(&user.extra)?;
        let duplicate = self.describer.duplicate_user_name(user.user_name.as_deref().unwrap_or_default());
        let outcome = self
            .run(move |connection| {
                TxError::split(write_transaction(connection, |connection| {
                    let lockout_end = diesel::insert_into(users::table)
                        .values(&values)
                        .returning(users::lockout_end)
                        .get_result::<Option<EfDateTime>>(connection)
                        .map_err(|error| match USER_NAME_INDEX.violated_by(&error) {
                            true => TxError::Refused(duplicate),
                            false => error.into(),
                        })?;
                    write_extension(connection, &values.id, &extension)?;
                    Ok(lockout_end)
                }))
            })
            .await?;
        // The stored lockout end has the backend's precision (100 ns on SQLite, 1 µs on PostgreSQL).
        Ok(identity_result(outcome.map(|lockout_end| user.lockout_end = lockout_end.map(|end| end.0))))
    }

    async fn update(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        let new_stamp = new_guid();
        let values = UserValues::new(user, Some(new_stamp.clone()));
        let expected_stamp = user.concurrency_stamp.clone();
        let extension = ExtensionWrite::of(&user.extra)?;
        let duplicate = self.describer.duplicate_user_name(user.user_name.as_deref().unwrap_or_default());
        let concurrency_failure = self.describer.concurrency_failure();
        let outcome = self
            .run(move |connection| {
                TxError::split(write_transaction(connection, |connection| {
                    let target = users::table
                        .filter(users::id.eq(&values.id))
                        .filter(stamp_is(users::concurrency_stamp, expected_stamp));
                    let lockout_end = diesel::update(target)
                        .set(&values)
                        .returning(users::lockout_end)
                        .get_result::<Option<EfDateTime>>(connection)
                        .optional()
                        .map_err(|error| match USER_NAME_INDEX.violated_by(&error) {
                            true => TxError::Refused(duplicate),
                            false => error.into(),
                        })?
                        .ok_or(TxError::Refused(concurrency_failure))?;
                    write_extension(connection, &values.id, &extension)?;
                    Ok(lockout_end)
                }))
            })
            .await?;
        Ok(identity_result(outcome.map(|lockout_end| {
            user.lockout_end = lockout_end.map(|end| end.0);
            user.concurrency_stamp = Some(new_stamp);
        })))
    }

    async fn delete(&self, user: &IdentityUser<X>) -> Result<IdentityResult> {
        let id = user.id.clone();
        let expected_stamp = user.concurrency_stamp.clone();
        // Claims, logins, tokens, passkeys, role links and the extension row go with the user
        // through their ON DELETE CASCADE foreign keys.
        let deleted = self
            .run(move |connection| {
                let target =
                    users::table.filter(users::id.eq(id)).filter(stamp_is(users::concurrency_stamp, expected_stamp));
                Ok(diesel::delete(target).execute(connection)?)
            })
            .await?;
        Ok(match deleted {
            0 => IdentityResult::failed([self.describer.concurrency_failure()]),
            _ => IdentityResult::Success,
        })
    }

    async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser<X>>> {
        let id = user_id.to_owned();
        self.run(move |connection| {
            let row = users_with_extension().filter(users::id.eq(id)).first(connection).optional()?;
            row.map(to_user).transpose()
        })
        .await
    }

    async fn find_by_name(&self, normalized_user_name: &str) -> Result<Option<IdentityUser<X>>> {
        let name = normalized_user_name.to_owned();
        self.run(move |connection| {
            let row =
                users_with_extension().filter(users::normalized_user_name.eq(name)).first(connection).optional()?;
            row.map(to_user).transpose()
        })
        .await
    }

    identity_core::advertise_capabilities!(X;
        password_store email_store phone_number_store claim_store role_store login_store lockout_store
        security_stamp_store two_factor_store authentication_token_store authenticator_key_store
        recovery_code_store queryable_store claims_data_store transfer_store
    );

    fn passkey_store(&self) -> Option<&dyn UserPasskeyStore<X>> {
        self.passkeys.then_some(self as &dyn UserPasskeyStore<X>)
    }
}

// The scalar capabilities are columns of `AspNetUsers`, written by `update`.
impl<X: UserExtension> UserPasswordStore<X> for DieselStore<X> {}
impl<X: UserExtension> UserPhoneNumberStore<X> for DieselStore<X> {}
impl<X: UserExtension> UserSecurityStampStore<X> for DieselStore<X> {}
impl<X: UserExtension> UserTwoFactorStore<X> for DieselStore<X> {}

#[async_trait]
impl<X: UserExtension> UserEmailStore<X> for DieselStore<X> {
    async fn find_by_email(&self, normalized_email: &str) -> Result<Option<IdentityUser<X>>> {
        let email = normalized_email.to_owned();
        let mut rows = self
            .run(move |connection| {
                Ok(users_with_extension().filter(users::normalized_email.eq(email)).limit(2).load(connection)?)
            })
            .await?;
        if rows.len() > 1 {
            return Err(Error::InconsistentData("more than one user has this email".to_owned()));
        }
        Ok(rows.pop().map(to_user).transpose()?)
    }
}

#[async_trait]
impl<X: UserExtension> QueryableUserStore<X> for DieselStore<X> {
    async fn users(&self, query: &UserQuery) -> Result<Vec<IdentityUser<X>>> {
        let prefix = query.normalized_user_name_prefix.as_deref().map(prefix_arguments);
        let offset = to_i64(query.offset);
        // SQLite accepts no OFFSET without a LIMIT.
        let limit = query.limit.map_or(i64::MAX, to_i64);
        let backend = self.db.backend();
        self.run(move |connection| {
            // Ordered as the in-memory store sorts `Option<String>`s: users without a normalized
            // name first, then by code point; ties (only among those without a name) by id.
            let mut select = users_with_extension()
                .order((
                    users::normalized_user_name.is_not_null(),
                    ordinal(backend, r#""AspNetUsers"."NormalizedUserName""#),
                    ordinal(backend, r#""AspNetUsers"."Id""#),
                ))
                .limit(limit)
                .offset(offset)
                .into_boxed();
            if let Some((length, prefix)) = prefix {
                select = select.filter(substr(users::normalized_user_name, 1, length).eq(prefix));
            }
            to_users(select.load(connection)?)
        })
        .await
    }
}

#[async_trait]
impl<X: UserExtension> UserLockoutStore<X> for DieselStore<X> {
    async fn update_lockout(
        &self,
        user: &mut IdentityUser<X>,
        transition: LockoutTransition,
    ) -> Result<Option<LockoutState>> {
        let id = user.id.clone();
        let stamp = new_guid();
        let updated = self
            .run(move |connection| {
                write_transaction(connection, |connection| {
                    apply_lockout_transition(connection, &id, &stamp, transition)
                })
            })
            .await?;
        let Some(LockoutUpdate { before, after, rotated_stamp }) = updated else {
            return Ok(None);
        };
        user.access_failed_count = after.access_failed_count;
        user.lockout_end = after.lockout_end;
        if let Some(stamp) = rotated_stamp {
            user.concurrency_stamp = Some(stamp);
        }
        Ok(Some(before))
    }
}

/// What [`apply_lockout_transition`] read and left in the row.
struct LockoutUpdate {
    before: LockoutState,
    after: LockoutState,
    /// The new concurrency stamp, when the change rotated it.
    rotated_stamp: Option<String>,
}

/// Applies a lockout transition inside a write transaction. The first statement is an
/// `UPDATE` that changes nothing but takes the row's write lock (on SQLite the transaction holds
/// the database's already) and returns the lockout columns, so concurrent transitions of one
/// user run one after the other, each on the state the previous one committed.
fn apply_lockout_transition(
    connection: &mut AnyConnection,
    id: &str,
    stamp: &str,
    transition: LockoutTransition,
) -> StoreResult<Option<LockoutUpdate>> {
    let count = users::access_failed_count;
    let locked = diesel::update(users::table.find(id))
        .set(count.eq(count))
        .returning((count, users::lockout_end, users::lockout_enabled))
        .get_result::<(i32, Option<EfDateTime>, bool)>(connection)
        .optional()?;
    let Some((access_failed_count, lockout_end, lockout_enabled)) = locked else {
        return Ok(None);
    };
    let before = LockoutState { access_failed_count, lockout_end: lockout_end.map(|end| end.0), lockout_enabled };
    let change = transition(before);
    let (after, rotate_concurrency_stamp) =
        (LockoutState { lockout_enabled, ..change.state }, change.rotate_concurrency_stamp);
    if !change.writes_over(&before) {
        return Ok(Some(LockoutUpdate { before, after, rotated_stamp: None }));
    }
    let columns = (count.eq(after.access_failed_count), users::lockout_end.eq(after.lockout_end.map(EfDateTime)));
    let target = users::table.find(id);
    if !rotate_concurrency_stamp {
        diesel::update(target).set(columns).execute(connection)?;
        return Ok(Some(LockoutUpdate { before, after, rotated_stamp: None }));
    }
    diesel::update(target).set((columns, users::concurrency_stamp.eq(stamp))).execute(connection)?;
    Ok(Some(LockoutUpdate { before, after, rotated_stamp: Some(stamp.to_owned()) }))
}

#[async_trait]
impl<X: UserExtension> UserClaimsDataStore<X> for DieselStore<X> {
    async fn load_claims_data(&self, user_id: &str) -> Result<Option<UserClaimsData<X>>> {
        let id = user_id.to_owned();
        self.run(move |connection| connection.transaction(|connection| load_claims_data(connection, &id))).await
    }
}

/// The user, its claims, its roles and their claims: four queries, whatever the counts.
fn load_claims_data<X: UserExtension>(
    connection: &mut AnyConnection,
    id: &str,
) -> StoreResult<Option<UserClaimsData<X>>> {
    let Some(user) = users_with_extension().filter(users::id.eq(id)).first(connection).optional()? else {
        return Ok(None);
    };
    let claims = user_claims::table
        .filter(user_claims::user_id.eq(id))
        .order(user_claims::id)
        .select((user_claims::claim_type, user_claims::claim_value))
        .load(connection)?;
    let user_roles = user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq(id))
        .order(roles::normalized_name)
        .select(super::rows::RoleRow::as_select())
        .load(connection)?;
    let role_claim_rows: Vec<(String, Option<String>, Option<String>)> = role_claims::table
        .inner_join(user_roles::table.on(user_roles::role_id.eq(role_claims::role_id)))
        .filter(user_roles::user_id.eq(id))
        .order(role_claims::id)
        .select((role_claims::role_id, role_claims::claim_type, role_claims::claim_value))
        .load(connection)?;
    let mut claims_by_role: HashMap<String, Vec<StoredClaim>> = HashMap::new();
    for (role_id, claim_type, value) in role_claim_rows {
        claims_by_role.entry(role_id).or_default().push(super::rows::to_claim((claim_type, value))?);
    }
    let roles = user_roles
        .into_iter()
        .map(|row| {
            let claims = claims_by_role.remove(&row.id).unwrap_or_default();
            RoleWithClaims { role: row.into(), claims }
        })
        .collect();
    Ok(Some(UserClaimsData { user: to_user(user)?, claims: to_claims(claims)?, roles }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Profile {
        display_name: Option<String>,
    }

    #[test]
    fn extension_rows_are_written_only_for_non_null_json() {
        assert!(matches!(ExtensionWrite::of(&()).unwrap(), ExtensionWrite::Never));
        assert!(matches!(ExtensionWrite::of(&None::<String>).unwrap(), ExtensionWrite::Remove));
        match ExtensionWrite::of(&Profile { display_name: Some("Ann".to_owned()) }).unwrap() {
            ExtensionWrite::Store(json) => assert_eq!(json, r#"{"display_name":"Ann"}"#),
            other => panic!("expected a stored row, got {other:?}"),
        }
    }
}

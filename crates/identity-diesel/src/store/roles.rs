//! Roles (`AspNetRoles`) and role membership (`AspNetUserRoles`).

use super::rows::{RoleRow, to_users, users_with_extension};
use super::users::stamp_is;
use super::{DieselStore, ROLE_NAME_INDEX, ordinal, prefix_arguments, substr};
use crate::schema::{roles, user_roles, users};
use async_trait::async_trait;
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Text;
use identity_core::model::new_guid;
use identity_core::store::{QueryableRoleStore, RoleClaimStore, RoleStore, UserRoleStore};
use identity_core::{Error, IdentityResult, IdentityRole, IdentityUser, Result, UserExtension};

/// Role ids with this normalized name (zero or one, by the unique index).
fn role_ids_named(
    normalized_name: String,
) -> diesel::dsl::Select<diesel::dsl::Filter<roles::table, diesel::dsl::Eq<roles::normalized_name, String>>, roles::id>
{
    roles::table.filter(roles::normalized_name.eq(normalized_name)).select(roles::id)
}

#[async_trait]
impl<X: UserExtension> RoleStore for DieselStore<X> {
    async fn create(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let row = RoleRow::from(&*role);
        let duplicate = self.describer.duplicate_role_name(role.name.as_deref().unwrap_or_default());
        self.run(move |connection| match diesel::insert_into(roles::table).values(&row).execute(connection) {
            Ok(_) => Ok(IdentityResult::Success),
            Err(error) if ROLE_NAME_INDEX.violated_by(&error) => Ok(IdentityResult::failed([duplicate])),
            Err(error) => Err(error.into()),
        })
        .await
    }

    async fn update(&self, role: &mut IdentityRole) -> Result<IdentityResult> {
        let expected_stamp = role.concurrency_stamp.clone();
        let new_stamp = new_guid();
        let mut row = RoleRow::from(&*role);
        row.concurrency_stamp = Some(new_stamp.clone());
        let duplicate = self.describer.duplicate_role_name(role.name.as_deref().unwrap_or_default());
        let concurrency_failure = self.describer.concurrency_failure();
        let result = self
            .run(move |connection| {
                let target = roles::table
                    .filter(roles::id.eq(&row.id))
                    .filter(stamp_is(roles::concurrency_stamp, expected_stamp));
                match diesel::update(target).set(&row).execute(connection) {
                    Ok(0) => Ok(IdentityResult::failed([concurrency_failure])),
                    Ok(_) => Ok(IdentityResult::Success),
                    Err(error) if ROLE_NAME_INDEX.violated_by(&error) => Ok(IdentityResult::failed([duplicate])),
                    Err(error) => Err(error.into()),
                }
            })
            .await?;
        if result.succeeded() {
            role.concurrency_stamp = Some(new_stamp);
        }
        Ok(result)
    }

    async fn delete(&self, role: &IdentityRole) -> Result<IdentityResult> {
        let id = role.id.clone();
        let expected_stamp = role.concurrency_stamp.clone();
        // Role claims and memberships go with the role through ON DELETE CASCADE.
        let deleted = self
            .run(move |connection| {
                let target =
                    roles::table.filter(roles::id.eq(id)).filter(stamp_is(roles::concurrency_stamp, expected_stamp));
                Ok(diesel::delete(target).execute(connection)?)
            })
            .await?;
        Ok(match deleted {
            0 => IdentityResult::failed([self.describer.concurrency_failure()]),
            _ => IdentityResult::Success,
        })
    }

    async fn find_by_id(&self, role_id: &str) -> Result<Option<IdentityRole>> {
        let id = role_id.to_owned();
        self.run(move |connection| {
            let row = roles::table.find(id).select(RoleRow::as_select()).first(connection).optional()?;
            Ok(row.map(IdentityRole::from))
        })
        .await
    }

    async fn find_by_name(&self, normalized_name: &str) -> Result<Option<IdentityRole>> {
        let name = normalized_name.to_owned();
        self.run(move |connection| {
            let row = roles::table
                .filter(roles::normalized_name.eq(name))
                .select(RoleRow::as_select())
                .first(connection)
                .optional()?;
            Ok(row.map(IdentityRole::from))
        })
        .await
    }

    fn role_claim_store(&self) -> Option<&dyn RoleClaimStore> {
        Some(self)
    }

    fn queryable_role_store(&self) -> Option<&dyn QueryableRoleStore> {
        Some(self)
    }
}

#[async_trait]
impl<X: UserExtension> QueryableRoleStore for DieselStore<X> {
    async fn roles(&self, normalized_name_prefix: Option<&str>) -> Result<Vec<IdentityRole>> {
        let prefix = normalized_name_prefix.map(prefix_arguments);
        let backend = self.db.backend();
        self.run(move |connection| {
            // The in-memory store's order: roles without a normalized name first, then by code
            // point, ties by id.
            let mut select = roles::table
                .select(RoleRow::as_select())
                .order((
                    roles::normalized_name.is_not_null(),
                    ordinal(backend, r#""AspNetRoles"."NormalizedName""#),
                    ordinal(backend, r#""AspNetRoles"."Id""#),
                ))
                .into_boxed();
            if let Some((length, prefix)) = prefix {
                select = select.filter(substr(roles::normalized_name, 1, length).eq(prefix));
            }
            Ok(select.load(connection)?.into_iter().map(IdentityRole::from).collect())
        })
        .await
    }
}

#[async_trait]
impl<X: UserExtension> UserRoleStore<X> for DieselStore<X> {
    async fn add_to_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()> {
        let user_id = user.id.clone();
        let role_name = normalized_role_name.to_owned();
        let added = self
            .run(move |connection| {
                // One statement: the link is inserted when the role exists, so there is no window
                // between looking the role up and linking it.
                let link = roles::table
                    .filter(roles::normalized_name.eq(role_name))
                    .select((user_id.into_sql::<Text>(), roles::id));
                match diesel::insert_into(user_roles::table)
                    .values(link)
                    .into_columns((user_roles::user_id, user_roles::role_id))
                    .execute(connection)
                {
                    Ok(inserted) => Ok(inserted > 0),
                    // Already a member: adding again changes nothing, as in the in-memory store.
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(true),
                    Err(error) => Err(error.into()),
                }
            })
            .await?;
        match added {
            true => Ok(()),
            false => Err(Error::RoleNotFound(normalized_role_name.to_owned())),
        }
    }

    async fn remove_from_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()> {
        let user_id = user.id.clone();
        let role_name = normalized_role_name.to_owned();
        self.run(move |connection| {
            let link = user_roles::table
                .filter(user_roles::user_id.eq(user_id))
                .filter(user_roles::role_id.eq_any(role_ids_named(role_name)));
            diesel::delete(link).execute(connection)?;
            Ok(())
        })
        .await
    }

    async fn get_roles(&self, user: &IdentityUser<X>) -> Result<Vec<String>> {
        let user_id = user.id.clone();
        self.run(move |connection| {
            let names: Vec<Option<String>> = user_roles::table
                .inner_join(roles::table)
                .filter(user_roles::user_id.eq(user_id))
                .order(roles::normalized_name)
                .select(roles::name)
                .load(connection)?;
            Ok(names.into_iter().flatten().collect())
        })
        .await
    }

    async fn is_in_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<bool> {
        let user_id = user.id.clone();
        let role_name = normalized_role_name.to_owned();
        self.run(move |connection| {
            let link = user_roles::table
                .filter(user_roles::user_id.eq(user_id))
                .filter(user_roles::role_id.eq_any(role_ids_named(role_name)));
            Ok(diesel::select(exists(link)).get_result(connection)?)
        })
        .await
    }

    async fn get_users_in_role(&self, normalized_role_name: &str) -> Result<Vec<IdentityUser<X>>> {
        let role_name = normalized_role_name.to_owned();
        self.run(move |connection| {
            let members = user_roles::table
                .filter(user_roles::role_id.eq_any(role_ids_named(role_name)))
                .select(user_roles::user_id);
            to_users(users_with_extension().filter(users::id.eq_any(members)).order(users::id).load(connection)?)
        })
        .await
    }
}

//! User claims (`AspNetUserClaims`) and role claims (`AspNetRoleClaims`). Only type and value are
//! stored, as EF Core does; claims come back in insertion order (by their identity `Id`).

use super::DieselStore;
use super::rows::{to_claims, to_users, users_with_extension};
use crate::schema::{role_claims, user_claims, users};
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_any::write_transaction;
use identity_core::store::{RoleClaimStore, UserClaimStore};
use identity_core::{IdentityRole, IdentityUser, Result, StoredClaim, UserExtension};

#[async_trait]
impl<X: UserExtension> UserClaimStore<X> for DieselStore<X> {
    async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<StoredClaim>> {
        let id = user.id.clone();
        self.run(move |connection| {
            let rows = user_claims::table
                .filter(user_claims::user_id.eq(id))
                .order(user_claims::id)
                .select((user_claims::claim_type, user_claims::claim_value))
                .load(connection)?;
            to_claims(rows)
        })
        .await
    }

    async fn add_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()> {
        let rows: Vec<_> = claims
            .iter()
            .map(|claim| {
                (
                    user_claims::user_id.eq(user.id.clone()),
                    user_claims::claim_type.eq(claim.claim_type.clone()),
                    user_claims::claim_value.eq(claim.value.clone()),
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        // All claims or none. (Diesel's multi-row INSERT is not available through MultiConnection.)
        self.run(move |connection| {
            write_transaction(connection, |connection| {
                for row in rows {
                    diesel::insert_into(user_claims::table).values(row).execute(connection)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn replace_claim(&self, user: &IdentityUser<X>, claim: &StoredClaim, new_claim: &StoredClaim) -> Result<()> {
        let id = user.id.clone();
        let old = claim.clone();
        let new = new_claim.clone();
        self.run(move |connection| {
            let target = user_claims::table
                .filter(user_claims::user_id.eq(id))
                .filter(user_claims::claim_type.eq(old.claim_type))
                .filter(user_claims::claim_value.eq(old.value));
            diesel::update(target)
                .set((user_claims::claim_type.eq(new.claim_type), user_claims::claim_value.eq(new.value)))
                .execute(connection)?;
            Ok(())
        })
        .await
    }

    async fn remove_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()> {
        let id = user.id.clone();
        let claims = claims.to_vec();
        if claims.is_empty() {
            return Ok(());
        }
        self.run(move |connection| {
            write_transaction(connection, |connection| {
                for claim in &claims {
                    let target = user_claims::table
                        .filter(user_claims::user_id.eq(&id))
                        .filter(user_claims::claim_type.eq(&claim.claim_type))
                        .filter(user_claims::claim_value.eq(&claim.value));
                    diesel::delete(target).execute(connection)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn get_users_for_claim(&self, claim: &StoredClaim) -> Result<Vec<IdentityUser<X>>> {
        let claim = claim.clone();
        self.run(move |connection| {
            let holders = user_claims::table
                .filter(user_claims::claim_type.eq(claim.claim_type))
                .filter(user_claims::claim_value.eq(claim.value))
                .select(user_claims::user_id);
            to_users(users_with_extension().filter(users::id.eq_any(holders)).order(users::id).load(connection)?)
        })
        .await
    }
}

#[async_trait]
impl<X: UserExtension> RoleClaimStore for DieselStore<X> {
    async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<StoredClaim>> {
        let id = role.id.clone();
        self.run(move |connection| {
            let rows = role_claims::table
                .filter(role_claims::role_id.eq(id))
                .order(role_claims::id)
                .select((role_claims::claim_type, role_claims::claim_value))
                .load(connection)?;
            to_claims(rows)
        })
        .await
    }

    async fn add_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        let row = (
            role_claims::role_id.eq(role.id.clone()),
            role_claims::claim_type.eq(claim.claim_type.clone()),
            role_claims::claim_value.eq(claim.value.clone()),
        );
        self.run(move |connection| {
            diesel::insert_into(role_claims::table).values(row).execute(connection)?;
            Ok(())
        })
        .await
    }

    async fn remove_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()> {
        let id = role.id.clone();
        let claim = claim.clone();
        self.run(move |connection| {
            let target = role_claims::table
                .filter(role_claims::role_id.eq(id))
                .filter(role_claims::claim_type.eq(claim.claim_type))
                .filter(role_claims::claim_value.eq(claim.value));
            diesel::delete(target).execute(connection)?;
            Ok(())
        })
        .await
    }
}

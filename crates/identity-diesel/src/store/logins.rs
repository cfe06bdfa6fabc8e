//! External logins (`AspNetUserLogins`) and authentication tokens (`AspNetUserTokens`), which also
//! hold the authenticator key and the recovery codes through the traits' default methods.

use super::rows::{to_user, users_with_extension};
use super::{DieselStore, retry_once_on_conflict};
use crate::schema::{user_logins, user_tokens, users};
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_any::write_transaction;
use identity_core::store::{
    UserAuthenticationTokenStore, UserAuthenticatorKeyStore, UserLoginStore, UserTwoFactorRecoveryCodeStore,
};
use identity_core::{Error, IdentityUser, Result, UserExtension, UserLoginInfo};

#[async_trait]
impl<X: UserExtension> UserLoginStore<X> for DieselStore<X> {
    async fn add_login(&self, user: &IdentityUser<X>, login: &UserLoginInfo) -> Result<()> {
        let row = (
            user_logins::login_provider.eq(login.login_provider.clone()),
            user_logins::provider_key.eq(login.provider_key.clone()),
            user_logins::provider_display_name.eq(login.provider_display_name.clone()),
            user_logins::user_id.eq(user.id.clone()),
        );
        let added = self
            .run(move |connection| match diesel::insert_into(user_logins::table).values(row).execute(connection) {
                Ok(_) => Ok(true),
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
                Err(error) => Err(error.into()),
            })
            .await?;
        match added {
            true => Ok(()),
            false => Err(Error::Store("this login is linked to a user already".to_owned())),
        }
    }

    async fn remove_login(&self, user: &IdentityUser<X>, login_provider: &str, provider_key: &str) -> Result<()> {
        let target = user_logins::table
            .filter(user_logins::user_id.eq(user.id.clone()))
            .filter(user_logins::login_provider.eq(login_provider.to_owned()))
            .filter(user_logins::provider_key.eq(provider_key.to_owned()));
        self.run(move |connection| {
            diesel::delete(target).execute(connection)?;
            Ok(())
        })
        .await
    }

    async fn get_logins(&self, user: &IdentityUser<X>) -> Result<Vec<UserLoginInfo>> {
        let user_id = user.id.clone();
        self.run(move |connection| {
            let rows: Vec<(String, String, Option<String>)> = user_logins::table
                .filter(user_logins::user_id.eq(user_id))
                .order((user_logins::login_provider, user_logins::provider_key))
                .select((user_logins::login_provider, user_logins::provider_key, user_logins::provider_display_name))
                .load(connection)?;
            Ok(rows
                .into_iter()
                .map(|(provider, key, display_name)| UserLoginInfo::new(provider, key, display_name))
                .collect())
        })
        .await
    }

    async fn find_by_login(&self, login_provider: &str, provider_key: &str) -> Result<Option<IdentityUser<X>>> {
        let owner =
            user_logins::table.find((login_provider.to_owned(), provider_key.to_owned())).select(user_logins::user_id);
        self.run(move |connection| {
            let row = users_with_extension().filter(users::id.eq_any(owner)).first(connection).optional()?;
            row.map(to_user).transpose()
        })
        .await
    }
}

#[async_trait]
impl<X: UserExtension> UserAuthenticationTokenStore<X> for DieselStore<X> {
    async fn set_token(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let key = (user.id.clone(), login_provider.to_owned(), name.to_owned());
        let value = value.map(str::to_owned);
        self.run(move |connection| {
            retry_once_on_conflict(|| {
                write_transaction(connection, |connection| {
                    let updated = diesel::update(user_tokens::table.find(key.clone()))
                        .set(user_tokens::value.eq(&value))
                        .execute(connection)?;
                    if updated == 0 {
                        diesel::insert_into(user_tokens::table)
                            .values((
                                user_tokens::user_id.eq(&key.0),
                                user_tokens::login_provider.eq(&key.1),
                                user_tokens::name.eq(&key.2),
                                user_tokens::value.eq(&value),
                            ))
                            .execute(connection)?;
                    }
                    Ok(())
                })
            })
        })
        .await
    }

    async fn remove_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<()> {
        let token = user_tokens::table.find((user.id.clone(), login_provider.to_owned(), name.to_owned()));
        self.run(move |connection| {
            diesel::delete(token).execute(connection)?;
            Ok(())
        })
        .await
    }

    async fn get_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<Option<String>> {
        let token = user_tokens::table.find((user.id.clone(), login_provider.to_owned(), name.to_owned()));
        self.run(move |connection| {
            let value: Option<Option<String>> = token.select(user_tokens::value).first(connection).optional()?;
            Ok(value.flatten())
        })
        .await
    }

    async fn replace_token_if(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        current: &str,
        replacement: &str,
    ) -> Result<bool> {
        // One conditional UPDATE: PostgreSQL re-checks the condition on the row a concurrent
        // writer left, SQLite runs writers one at a time, so only one of two racing callers
        // that read the same value replaces it.
        let token = user_tokens::table
            .find((user.id.clone(), login_provider.to_owned(), name.to_owned()))
            .filter(user_tokens::value.eq(current.to_owned()));
        let replacement = replacement.to_owned();
        self.run(move |connection| {
            let updated = diesel::update(token).set(user_tokens::value.eq(replacement)).execute(connection)?;
            Ok(updated == 1)
        })
        .await
    }
}

impl<X: UserExtension> UserAuthenticatorKeyStore<X> for DieselStore<X> {}
impl<X: UserExtension> UserTwoFactorRecoveryCodeStore<X> for DieselStore<X> {}

//! The administration commands: `users …`, `roles …`, `sessions …`, `clients …`, `grants …`
//! and `keys …`. Each prints
//! what it did on stdout and turns every refusal (a taken name, a weak password, an unknown role)
//! into an error.

mod clients;
mod grants;
mod keys;

pub(crate) use clients::clients;
pub(crate) use grants::grants;
pub(crate) use keys::keys;

use crate::cli::{CreateUser, RolesCommand, SessionsCommand, UsersCommand};
use crate::database;
use crate::error::{Failure, Result};
use crate::identity::{Identity, check};
use chrono::{DateTime, Utc};
use identity_core::store::UserQuery;
use identity_core::{IdentityRole, IdentityUser};
use oidc_server::{
    GrantFilter, PersistedGrantStore as _, PersistedGrantType, ServerSideSessionStore as _, SessionFilter,
};
use std::io::BufRead as _;

/// The end of an administrative lockout: 9999-12-31T23:59:59Z, .NET's `DateTimeOffset.MaxValue`
/// to the second.
const INDEFINITE_LOCKOUT_END: i64 = 253_402_300_799;

/// Runs a `users …` command.
pub(crate) async fn users(identity: &Identity, command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::Create(create) => create_user(identity, create).await,
        UsersCommand::List => list_users(identity).await,
        UsersCommand::Show { user_name } => show_user(identity, &user_name).await,
        UsersCommand::SetPassword { user_name, password_stdin: _ } => set_password(identity, &user_name).await,
        UsersCommand::Lock { user_name } => lock(identity, &user_name).await,
        UsersCommand::RevokeTokens { user_name } => {
            let user = identity.user(&user_name).await?;
            let revoked = revoke_tokens(identity, &user).await?;
            println!("revoked {revoked} refresh tokens and authorization codes of {user_name}");
            Ok(())
        }
        UsersCommand::SignOut { user_name } => {
            let user = identity.user(&user_name).await?;
            let ended = end_sessions(identity, &user).await?;
            let revoked = revoke_tokens(identity, &user).await?;
            println!("signed {user_name} out everywhere ({ended} sessions ended, {revoked} tokens revoked)");
            Ok(())
        }
        UsersCommand::Unlock { user_name } => unlock(identity, &user_name).await,
        UsersCommand::Export { output } => crate::transfer::export(identity, output.as_deref()).await,
        UsersCommand::Import { file } => crate::transfer::import(identity, &file).await,
        UsersCommand::AddClaim { user_name, claim } => {
            let mut user = identity.user(&user_name).await?;
            let doing = format!("cannot add the claim to `{user_name}`");
            check(identity.users.add_claim(&mut user, claim.clone()).await?, doing)?;
            println!("added claim {}={} to {user_name}", claim.claim_type, claim.value);
            Ok(())
        }
        UsersCommand::AddRole { user_name, role } => {
            let mut user = identity.user(&user_name).await?;
            require_role(identity, &role).await?;
            check(
                identity.users.add_to_role(&mut user, &role).await?,
                format!("cannot add `{user_name}` to `{role}`"),
            )?;
            println!("added {user_name} to role {role}");
            Ok(())
        }
        UsersCommand::Delete { user_name } => {
            let user = identity.user(&user_name).await?;
            check(identity.users.delete(&user).await?, format!("cannot delete `{user_name}`"))?;
            let ended = end_sessions(identity, &user).await?;
            let revoked = revoke_tokens(identity, &user).await?;
            println!("deleted user {user_name} ({ended} sessions ended, {revoked} tokens revoked)");
            Ok(())
        }
    }
}

/// Runs a `roles …` command.
pub(crate) async fn roles(identity: &Identity, command: RolesCommand) -> Result<()> {
    match command {
        RolesCommand::Create { name } => {
            let mut role = IdentityRole::new(&name);
            check(identity.roles.create(&mut role).await?, format!("cannot create the role `{name}`"))?;
            println!("created role {name} (id {})", role.id);
            Ok(())
        }
    }
}

/// Reads a password from the first line of standard input, without its line ending.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::context("cannot read the password from standard input", error))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

/// Fails unless the role exists, saying how to create it.
async fn require_role(identity: &Identity, role: &str) -> Result<()> {
    if identity.roles.role_exists(role).await? {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "role `{role}` does not exist (create it with `identity-server roles create {role}`)"
        )))
    }
}

async fn create_user(identity: &Identity, create: CreateUser) -> Result<()> {
    for role in &create.roles {
        require_role(identity, role).await?;
    }
    let password = if create.password_stdin { Some(read_password()?) } else { None };
    let name = create.user_name;
    let mut user = IdentityUser::<()>::new(&name);
    user.email = create.email;
    user.email_confirmed = create.email_confirmed;
    user.phone_number = create.phone;
    let doing = format!("cannot create the user `{name}`");
    let created = match &password {
        Some(password) => identity.users.create_with_password(&mut user, password).await?,
        None => identity.users.create(&mut user).await?,
    };
    check(created, &doing)?;
    if !create.claims.is_empty() {
        check(identity.users.add_claims(&mut user, &create.claims).await?, &doing)?;
    }
    if !create.roles.is_empty() {
        let roles: Vec<&str> = create.roles.iter().map(String::as_str).collect();
        check(identity.users.add_to_roles(&mut user, &roles).await?, &doing)?;
    }
    let without = if password.is_none() { ", without a password" } else { "" };
    println!("created user {name} (id {}){without}", user.id);
    Ok(())
}

async fn list_users(identity: &Identity) -> Result<()> {
    let users = identity.users.users(&UserQuery::default()).await?;
    let mut rows = vec![["USER NAME", "EMAIL", "CONFIRMED", "LOCKED OUT", "ID"].map(str::to_owned)];
    for user in &users {
        rows.push([
            user.user_name.clone().unwrap_or_default(),
            user.email.clone().unwrap_or_else(|| "-".to_owned()),
            user.email_confirmed.to_string(),
            identity.users.is_locked_out(user).await?.to_string(),
            user.id.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..5).map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:width$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
    println!("{} user(s)", users.len());
    Ok(())
}

/// The format of a stored password hash, for display (never the hash itself).
fn password_format(hash: Option<&str>) -> &'static str {
    match hash {
        None => "none",
        Some(hash) if hash.starts_with("$argon2id$") => "argon2id",
        Some(hash) if hash.starts_with("$argon2i$") => "argon2i",
        Some(hash) if hash.starts_with("$argon2d$") => "argon2d",
        // Base64 of the format marker byte: 0x01 (V3) or 0x00 (V2).
        Some(hash) if hash.starts_with("AQ") => "aspnet-identity-v3",
        Some(hash) if hash.starts_with("AA") => "aspnet-identity-v2",
        Some(_) => "unknown",
    }
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

async fn show_user(identity: &Identity, user_name: &str) -> Result<()> {
    let user = identity.user(user_name).await?;
    let lockout_end = user.lockout_end.map(|end| end.to_rfc3339());
    let roles = identity.users.get_roles(&user).await?;
    let claims = identity.users.get_claims(&user).await?;
    println!("id: {}", user.id);
    println!("user_name: {}", or_dash(user.user_name.as_deref()));
    println!("email: {}", or_dash(user.email.as_deref()));
    println!("email_confirmed: {}", user.email_confirmed);
    println!("phone_number: {}", or_dash(user.phone_number.as_deref()));
    println!("phone_number_confirmed: {}", user.phone_number_confirmed);
    println!("two_factor_enabled: {}", user.two_factor_enabled);
    println!("password: {}", password_format(user.password_hash.as_deref()));
    println!("lockout_enabled: {}", user.lockout_enabled);
    println!("lockout_end: {}", or_dash(lockout_end.as_deref()));
    println!("locked_out: {}", identity.users.is_locked_out(&user).await?);
    println!("access_failed_count: {}", user.access_failed_count);
    println!("roles: {}", if roles.is_empty() { "-".to_owned() } else { roles.join(", ") });
    println!("claims:{}", if claims.is_empty() { " -" } else { "" });
    for claim in &claims {
        println!("  {}={}", claim.claim_type, claim.value);
    }
    Ok(())
}

/// Replaces the password in one write (never leaving the user without one): checked against the
/// password rules first, so that a weak one leaves the old password in place.
async fn set_password(identity: &Identity, user_name: &str) -> Result<()> {
    let mut user = identity.user(user_name).await?;
    let password = read_password()?;
    let doing = format!("cannot set the password of `{user_name}`");
    check(identity.users.replace_password(&mut user, &password).await?, &doing)?;
    let ended = end_sessions(identity, &user).await?;
    let revoked = revoke_tokens(identity, &user).await?;
    println!(
        "set the password of {user_name} (signed out everywhere: {ended} sessions ended, {revoked} tokens revoked)"
    );
    Ok(())
}

/// Revokes the user's refresh tokens and unredeemed authorization codes; returns how many.
async fn revoke_tokens(identity: &Identity, user: &IdentityUser) -> Result<u64> {
    let grants = database::grant_store(&identity.db);
    let mut revoked = 0;
    for grant_type in [PersistedGrantType::RefreshToken, PersistedGrantType::AuthorizationCode] {
        revoked += grants.remove_all(&GrantFilter::subject_and_type(user.id.clone(), grant_type)).await?;
    }
    Ok(revoked)
}

/// Ends every sign-in session of the user; returns how many.
async fn end_sessions(identity: &Identity, user: &IdentityUser) -> Result<usize> {
    let sessions = database::session_store(&identity.db);
    Ok(sessions.delete_all(&SessionFilter::subject(user.id.clone())).await?.len())
}

/// Runs a `sessions …` command.
pub(crate) async fn sessions(identity: &Identity, command: SessionsCommand) -> Result<()> {
    let store = database::session_store(&identity.db);
    match command {
        SessionsCommand::List { user } => {
            let filter = match user {
                Some(user_name) => SessionFilter::subject(identity.user(&user_name).await?.id),
                None => SessionFilter::all(),
            };
            for session in store.list(&filter).await? {
                let user_name = identity.users.find_by_id(session.subject_id()).await?.and_then(|user| user.user_name);
                println!(
                    "{}  user {}  signed in {}  last used {}  ends {}{}  clients {}",
                    session.session_id,
                    user_name.as_deref().unwrap_or(session.subject_id()),
                    session.created.to_rfc3339(),
                    session.renewed.to_rfc3339(),
                    session.expires.to_rfc3339(),
                    if session.persistent { " (remembered)" } else { "" },
                    if session.client_ids.is_empty() { "-".to_owned() } else { session.client_ids.join(",") },
                );
            }
            Ok(())
        }
        SessionsCommand::Revoke { session_id } => match store.delete(&session_id).await? {
            Some(session) => {
                println!("ended session {session_id} of {}", session.subject_id());
                Ok(())
            }
            None => Err(Failure::new(format!("no session `{session_id}`"))),
        },
    }
}

async fn lock(identity: &Identity, user_name: &str) -> Result<()> {
    let mut user = identity.user(user_name).await?;
    let until = DateTime::<Utc>::from_timestamp(INDEFINITE_LOCKOUT_END, 0)
        .ok_or_else(|| Failure::new("the indefinite lockout end is out of range"))?;
    let doing = format!("cannot lock `{user_name}` out");
    if !user.lockout_enabled {
        check(identity.users.set_lockout_enabled(&mut user, true).await?, &doing)?;
    }
    check(identity.users.set_lockout_end_date(&mut user, Some(until)).await?, &doing)?;
    // A new security stamp ends the user's browser sessions at their next request; a lockout by
    // wrong passwords does not rotate it, so that nobody can sign a victim out by guessing.
    check(identity.users.update_security_stamp(&mut user).await?, &doing)?;
    let ended = end_sessions(identity, &user).await?;
    let revoked = revoke_tokens(identity, &user).await?;
    println!(
        "locked out {user_name} until {} (signed out everywhere: {ended} sessions ended, {revoked} tokens revoked)",
        until.to_rfc3339()
    );
    Ok(())
}

async fn unlock(identity: &Identity, user_name: &str) -> Result<()> {
    let mut user = identity.user(user_name).await?;
    let doing = format!("cannot unlock `{user_name}`");
    // Without lockout enabled a lockout end has no effect (and cannot be changed).
    if user.lockout_enabled && user.lockout_end.is_some() {
        check(identity.users.set_lockout_end_date(&mut user, None).await?, &doing)?;
    }
    check(identity.users.reset_access_failed_count(&mut user).await?, &doing)?;
    println!("unlocked {user_name}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_formats_are_named_without_showing_the_hash() {
        assert_eq!(password_format(None), "none");
        assert_eq!(password_format(Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")), "argon2id");
        assert_eq!(password_format(Some("AQAAAAEAACcQAAAAE...")), "aspnet-identity-v3");
        assert_eq!(password_format(Some("AAAAAA...")), "aspnet-identity-v2");
        assert_eq!(password_format(Some("plain")), "unknown");
    }

    #[test]
    fn the_indefinite_lockout_ends_at_the_end_of_year_9999() {
        let end = DateTime::<Utc>::from_timestamp(INDEFINITE_LOCKOUT_END, 0).expect("in range");
        assert_eq!(end.to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}

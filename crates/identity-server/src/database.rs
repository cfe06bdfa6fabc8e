//! The database: opening it, its migrations (the identity tables of `identity-diesel` and the
//! operational tables of the token server's stores), and the stores the host picks.
//!
//! This module is the only place that chooses stores: `identity-diesel`'s `DieselStore` for users
//! and roles, and the token server's persisted-grant and signing-key stores.

use crate::cli::MigrateAction;
use crate::error::{Failure, Result};
use identity_diesel::{Database, DatabaseUrl, DieselStore};
use oidc_server::{InMemoryPersistedGrantStore, InMemorySigningKeyStore, PersistedGrantStore, SigningKeyStore};
use std::sync::Arc;

/// Opens the database without touching its schema (for `migrate`).
async fn connect(url: &str) -> Result<Database> {
    let parsed = DatabaseUrl::parse(url)?;
    Database::connect(url).await.map_err(|error| Failure::context(format!("cannot open {parsed}"), error))
}

/// Opens the database and applies every pending migration: what every command but `migrate` does.
pub(crate) async fn open_migrated(url: &str) -> Result<Database> {
    let db = connect(url).await?;
    let applied = db.run_migrations().await.map_err(|error| Failure::context("cannot migrate the identity tables", error))?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied identity migrations");
    }
    Ok(db)
}

/// The user and role store.
pub(crate) async fn identity_store(db: &Database) -> Result<Arc<DieselStore<()>>> {
    Ok(Arc::new(DieselStore::<()>::new(db.clone()).await?))
}

/// The stores of refresh tokens and signing keys.
pub(crate) fn operational_stores(_db: &Database) -> (Arc<dyn PersistedGrantStore>, Arc<dyn SigningKeyStore>) {
    (Arc::new(InMemoryPersistedGrantStore::new()), Arc::new(InMemorySigningKeyStore::new()))
}

/// `migrate status|up|down`.
pub(crate) async fn migrate(url: &str, action: MigrateAction) -> Result<()> {
    let db = connect(url).await?;
    match action {
        MigrateAction::Status => {
            let status = db.migration_status().await?;
            println!("database: {}", DatabaseUrl::parse(url)?);
            println!("identity schema: {:?}", status.identity_schema);
            println!("identity migrations applied: {}", list(&status.applied));
            println!("identity migrations pending: {}", list(&status.pending));
        }
        MigrateAction::Up => {
            let applied = db.run_migrations().await?;
            println!("identity migrations applied: {}", list(&applied));
        }
        MigrateAction::Down => match db.revert_last_migration().await? {
            Some(version) => println!("reverted identity migration {version}"),
            None => println!("no migration to revert"),
        },
    }
    Ok(())
}

/// Versions as a comma-separated list, or `none`.
fn list(versions: &[String]) -> String {
    if versions.is_empty() { "none".to_owned() } else { versions.join(", ") }
}

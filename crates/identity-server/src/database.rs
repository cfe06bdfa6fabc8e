//! The database: opening it, its two sets of migrations (the identity tables of `identity-diesel`
//! and the operational tables of `oidc-server-diesel`, each tracked in its own bookkeeping
//! table), and the stores the host picks.
//!
//! This module is the only place that chooses stores: `DieselStore` for users and roles,
//! `DieselPersistedGrantStore` for refresh tokens and `DieselSigningKeyStore` for signing keys,
//! all on one connection pool.

use crate::cli::MigrateAction;
use crate::error::{Failure, Result};
use identity_diesel::{Database, DatabaseUrl, DieselStore, IdentityMigrations as _, PoolOptions};
use oidc_server::OidcServer;
use oidc_server_diesel::{DieselClientDocuments, DieselPersistedGrantStore, DieselSessionStore, DieselSigningKeyStore};
use std::sync::Arc;
use std::time::Duration;

/// How often expired refresh tokens and ended sessions are deleted while serving.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// How often ended sessions are looked for to notify their clients.
const LOGOUT_DELIVERY_INTERVAL: Duration = Duration::from_secs(2);

/// Opens the database without touching its schema (for `migrate`). Every store call waits at
/// most `operation_timeout` for a connection (checkout and connecting) and for a lock another
/// connection holds (SQLite's busy timeout, PostgreSQL's `lock_timeout`); beyond it the call fails with a retryable error, which the endpoints
/// answer with `temporarily_unavailable` instead of hanging.
async fn connect(url: &DatabaseUrl, operation_timeout: Duration) -> Result<Database> {
    let options = PoolOptions {
        connection_timeout: operation_timeout,
        lock_timeout: operation_timeout,
        ..PoolOptions::default()
    };
    Database::connect_with(url.clone(), options)
        .await
        .map_err(|error| Failure::context(format!("cannot open {url}"), error))
}

/// Applies the pending migrations of both sets; returns the versions applied.
async fn migrate_up(db: &Database) -> Result<(Vec<String>, Vec<String>)> {
    let identity =
        db.run_migrations().await.map_err(|error| Failure::context("cannot migrate the identity tables", error))?;
    let operational = oidc_server_diesel::run_migrations(db)
        .await
        .map_err(|error| Failure::context("cannot migrate the operational tables", error))?;
    Ok((identity, operational))
}

/// Opens the database and applies every pending migration: what every command but `migrate` does.
pub(crate) async fn open_migrated(url: &DatabaseUrl, operation_timeout: Duration) -> Result<Database> {
    let db = connect(url, operation_timeout).await?;
    let (identity, operational) = migrate_up(&db).await?;
    if !identity.is_empty() || !operational.is_empty() {
        tracing::info!(?identity, ?operational, "applied database migrations");
    }
    Ok(db)
}

/// The user and role store.
pub(crate) async fn identity_store(db: &Database) -> Result<Arc<DieselStore<()>>> {
    Ok(Arc::new(DieselStore::<()>::new(db.clone()).await?))
}

/// The refresh-token store.
pub(crate) fn grant_store(db: &Database) -> Arc<DieselPersistedGrantStore> {
    Arc::new(DieselPersistedGrantStore::new(db.clone()))
}

/// The sign-in session store.
pub(crate) fn session_store(db: &Database) -> Arc<DieselSessionStore> {
    Arc::new(DieselSessionStore::new(db.clone()))
}

/// The clients stored by `clients …`.
pub(crate) fn client_documents(db: &Database) -> DieselClientDocuments {
    DieselClientDocuments::new(db.clone())
}

/// The signing-key store.
pub(crate) fn signing_key_store(db: &Database) -> Arc<DieselSigningKeyStore> {
    Arc::new(DieselSigningKeyStore::new(db.clone()))
}

/// Deletes expired refresh tokens and ended sessions now and then, for as long as the server
/// runs (safe with several instances on one database: each row is deleted once).
pub(crate) fn spawn_cleanup(grants: Arc<DieselPersistedGrantStore>, server: OidcServer) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CLEANUP_INTERVAL);
        loop {
            interval.tick().await;
            match grants.remove_expired(server.now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed expired refresh tokens"),
                Err(error) => tracing::warn!(%error, "cannot remove expired refresh tokens"),
            }
            match server.remove_expired_sessions().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed ended sessions"),
                Err(error) => tracing::warn!(%error, "cannot remove ended sessions"),
            }
        }
    });
}

/// Sends the back-channel logout tokens of ended sessions every few seconds, for as long as the
/// server runs: sessions ended here, at another instance or by an administration command in
/// another process are delivered by whichever instance claims them first.
pub(crate) fn spawn_logout_delivery(server: OidcServer) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(LOGOUT_DELIVERY_INTERVAL);
        loop {
            interval.tick().await;
            match server.deliver_logout_notifications().await {
                Ok(0) => {}
                Ok(delivered) => tracing::info!(delivered, "back-channel logout notifications delivered"),
                Err(error) => tracing::warn!(%error, "cannot deliver back-channel logout notifications"),
            }
        }
    });
}

/// `migrate status|up|down`.
pub(crate) async fn migrate(url: &DatabaseUrl, operation_timeout: Duration, action: MigrateAction) -> Result<()> {
    let db = connect(url, operation_timeout).await?;
    match action {
        MigrateAction::Status => {
            let status = db.migration_status().await?;
            println!("database: {url}");
            println!("identity schema: {:?}", status.identity_schema);
            println!("identity migrations applied: {}", list(&status.applied));
            println!("identity migrations pending: {}", list(&status.pending));
            let operational = oidc_server_diesel::migration_status(&db).await?;
            println!("operational migrations applied: {}", list(&operational.applied));
            println!("operational migrations pending: {}", list(&operational.pending));
        }
        MigrateAction::Up => {
            let (identity, operational) = migrate_up(&db).await?;
            println!("identity migrations applied: {}", list(&identity));
            println!("operational migrations applied: {}", list(&operational));
        }
        MigrateAction::Down => {
            let operational = oidc_server_diesel::revert_all_migrations(&db).await?;
            if !operational.is_empty() {
                println!("reverted operational migrations: {}", list(&operational));
            } else {
                match db.revert_last_migration().await? {
                    Some(version) => println!("reverted identity migration {version}"),
                    None => println!("no migration to revert"),
                }
            }
        }
    }
    Ok(())
}

/// Versions as a comma-separated list, or `none`.
fn list(versions: &[String]) -> String {
    if versions.is_empty() { "none".to_owned() } else { versions.join(", ") }
}

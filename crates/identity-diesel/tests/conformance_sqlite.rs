//! The store conformance suite on SQLite: every case gets a fresh, migrated database file in a
//! temporary directory.

#[path = "support/sqlite.rs"]
mod sqlite;

use async_trait::async_trait;
use identity_conformance::StoreFixture;
use identity_core::store::{RoleStore, UserStore};
use identity_diesel::DieselStore;
use std::sync::Arc;
use tempfile::TempDir;

/// Owns the temporary directory, so the database lives as long as the case.
struct SqliteFixture {
    dir: TempDir,
}

impl SqliteFixture {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temporary directory") }
    }
}

#[async_trait]
impl StoreFixture for SqliteFixture {
    async fn stores(&self) -> (Arc<dyn UserStore<()>>, Arc<dyn RoleStore>) {
        let db = sqlite::migrated(&self.dir.path().join("identity.db")).await;
        let store = Arc::new(DieselStore::<()>::new(db).await.expect("store"));
        (store.clone(), store)
    }
}

identity_conformance::conformance_tests!(SqliteFixture::new());

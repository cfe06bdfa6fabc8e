//! The store conformance suite on PostgreSQL (feature `postgres-tests`): every case gets a
//! database of its own on the server in `IDENTITY_TEST_POSTGRES_URL`, dropped afterwards.

#[path = "support/postgres.rs"]
mod postgres;

use async_trait::async_trait;
use identity_conformance::StoreFixture;
use identity_core::store::{RoleStore, UserStore};
use identity_diesel::DieselStore;
use postgres::TestDatabase;
use std::sync::{Arc, Mutex};

/// Owns the test database, which is dropped with the fixture at the end of the case.
#[derive(Default)]
struct PostgresFixture {
    database: Mutex<Option<TestDatabase>>,
}

#[async_trait]
impl StoreFixture for PostgresFixture {
    async fn stores(&self) -> (Arc<dyn UserStore<()>>, Arc<dyn RoleStore>) {
        let database = tokio::task::spawn_blocking(TestDatabase::create).await.expect("create the test database");
        let store = Arc::new(DieselStore::<()>::new(database.migrated().await).await.expect("store"));
        *self.database.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(database);
        (store.clone(), store)
    }
}

identity_conformance::conformance_tests!(PostgresFixture::default());

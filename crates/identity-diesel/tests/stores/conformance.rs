//! The store conformance suite on both backends: every case gets a fresh, migrated database.

use async_trait::async_trait;
use identity_conformance::{EmptyStores, StoreFixture};
use identity_core::store::{RoleStore, UserStore};
use identity_diesel::DieselStore;
use std::sync::Arc;
use test_support::Backend;

use crate::Migrated;

/// Owns the test database, dropped with the fixture at the end of the case.
struct DieselFixture {
    migrated: Migrated,
}

#[async_trait]
impl StoreFixture for DieselFixture {
    async fn stores(&self) -> (Arc<dyn UserStore<()>>, Arc<dyn RoleStore>) {
        let store = Arc::new(DieselStore::<()>::new(self.migrated.db.clone()).await.expect("store"));
        (store.clone(), store)
    }

    /// A fresh, migrated database of the same backend, dropped with the guard.
    async fn empty_stores(&self) -> Option<EmptyStores> {
        let migrated = crate::migrated(self.migrated.database.backend()).await;
        let store = Arc::new(DieselStore::<()>::new(migrated.db.clone()).await.expect("store"));
        Some(EmptyStores { users: store.clone(), roles: store, guard: Box::new(migrated) })
    }
}

/// A fixture on a fresh database of `backend`.
async fn fixture(backend: Backend) -> DieselFixture {
    DieselFixture { migrated: crate::migrated(backend).await }
}

identity_conformance::conformance_tests!(setup: crate::conformance::fixture, backends: [sqlite, postgres]);

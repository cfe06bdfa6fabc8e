//! The in-memory reference store runs the whole suite.

use async_trait::async_trait;
use identity_conformance::{EmptyStores, StoreFixture};
use identity_core::memory::MemoryStore;
use identity_core::store::{RoleStore, UserStore};
use std::sync::Arc;
use test_support::Backend;

struct MemoryFixture;

#[async_trait]
impl StoreFixture for MemoryFixture {
    async fn stores(&self) -> (Arc<dyn UserStore<()>>, Arc<dyn RoleStore>) {
        let store = Arc::new(MemoryStore::<()>::new());
        (store.clone(), store)
    }

    async fn empty_stores(&self) -> Option<EmptyStores> {
        let store = Arc::new(MemoryStore::<()>::new());
        Some(EmptyStores { users: store.clone(), roles: store, guard: Box::new(()) })
    }
}

async fn memory(_: Backend) -> MemoryFixture {
    MemoryFixture
}

identity_conformance::conformance_tests!(setup: crate::memory, backends: [memory]);

//! Every shared case against `identity_core::memory::MemoryStore`.

use crate::cases::Stores;
use identity_core::UserExtension;
use identity_core::memory::MemoryStore;
use std::sync::Arc;

async fn memory_stores<X: UserExtension>() -> Stores<X> {
    Stores::shared(Arc::new(MemoryStore::<X>::new()))
}

factory_cases!(memory_stores);

//! Fixtures for the token provider tests: a manager over the in-memory store with a manual
//! clock, and a bare store with no capabilities.

use crate::error::Result;
use crate::memory::MemoryStore;
use crate::model::IdentityUser;
use crate::result::IdentityResult;
use crate::store::UserStore;
use crate::user_manager::UserManager;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use time_source::ManualClock;

/// The secret the fixtures' "Default" provider signs with.
pub(crate) const SECRET: &[u8] = b"secret";

/// A manager, the clock it reads and a stored user.
pub(crate) struct Fixture {
    pub(crate) manager: UserManager,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) user: IdentityUser,
}

/// An arbitrary fixed start time, in the middle of a 3-minute step.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + 30, 0).expect("a valid timestamp")
}

/// A manager over `store` with the default token providers and a manual clock at [`t0`].
pub(crate) fn manager_over(store: Arc<dyn UserStore<()>>) -> (UserManager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let manager = UserManager::builder(store).clock(clock.clone()).default_token_providers(SECRET.to_vec()).build();
    (manager, clock)
}

/// A manager over a fresh [`MemoryStore`] holding the user `alice`.
pub(crate) async fn fixture() -> Fixture {
    let (manager, clock) = manager_over(Arc::new(MemoryStore::new()));
    let mut user = IdentityUser::new("alice");
    assert!(manager.create(&mut user).await.unwrap().succeeded());
    Fixture { manager, clock, user }
}

/// A store with only the core operations: no stamps, emails, phone numbers or tokens.
#[derive(Debug)]
pub(crate) struct BareStore;

#[async_trait]
impl UserStore<()> for BareStore {
    async fn create(&self, _user: &mut IdentityUser) -> Result<IdentityResult> {
        Ok(IdentityResult::Success)
    }

    async fn update(&self, _user: &mut IdentityUser) -> Result<IdentityResult> {
        Ok(IdentityResult::Success)
    }

    async fn delete(&self, _user: &IdentityUser) -> Result<IdentityResult> {
        Ok(IdentityResult::Success)
    }

    async fn find_by_id(&self, _user_id: &str) -> Result<Option<IdentityUser>> {
        Ok(None)
    }

    async fn find_by_name(&self, _normalized_user_name: &str) -> Result<Option<IdentityUser>> {
        Ok(None)
    }
}

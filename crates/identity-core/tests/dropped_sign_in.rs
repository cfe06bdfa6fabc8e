//! A sign-in whose caller stops waiting (a dropped request) still settles its reserved attempt:
//! a correct password gives it back, a wrong one keeps it as one failure. Uses a hasher that takes
//! a tenth of a second, and callers that give up after a hundredth. A full hashing pool refuses
//! sign-ins before anything is counted.

use std::sync::Arc;
use std::time::Duration;

use identity_core::memory::MemoryStore;
use identity_core::{
    HashingPool, IdentityUser, PasswordHasher, PasswordVerificationResult, SignInManager, UserManager,
};

const PASSWORD: &str = "Pass123$";

/// A plain-text "hasher" that takes 100 ms to verify.
#[derive(Debug)]
struct SlowHasher;

impl PasswordHasher for SlowHasher {
    fn hash_password(&self, password: &str) -> identity_core::Result<String> {
        Ok(password.to_owned())
    }

    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult {
        std::thread::sleep(Duration::from_millis(100));
        if hashed_password == provided_password {
            PasswordVerificationResult::Success
        } else {
            PasswordVerificationResult::Failed
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_sign_in_still_settles_its_attempt() {
    let users = Arc::new(
        UserManager::builder(Arc::new(MemoryStore::<()>::new())).password_hasher(Arc::new(SlowHasher)).build(),
    );
    let mut user = IdentityUser::new("patient");
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("created").succeeded());
    let sign_in = SignInManager::new(Arc::clone(&users));
    let stored_count =
        || async { users.find_by_id(&user.id).await.expect("found").expect("exists").access_failed_count };

    for (password, expected_count) in [(PASSWORD, 0), ("wrong", 1), (PASSWORD, 0)] {
        let mut copy = users.find_by_id(&user.id).await.expect("found").expect("exists");
        let abandoned =
            tokio::time::timeout(Duration::from_millis(10), sign_in.check_password_sign_in(&mut copy, password, true));
        assert!(abandoned.await.is_err(), "the caller gave up before the hash ended");
        // Ten times the hash's duration for the abandoned attempt to finish on its own.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(stored_count().await, expected_count, "after an abandoned sign-in with {password:?}");
    }
}

/// With every hashing place taken, a sign-in is refused with `Overloaded` at once: for a known
/// user (nothing counted toward lockout) and an unknown one alike; once a place is free again,
/// sign-ins go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_pool_refuses_sign_ins_before_counting_anything() {
    let pool = HashingPool::with_queue(Arc::new(SlowHasher), 1, 0);
    let users = Arc::new(UserManager::builder(Arc::new(MemoryStore::<()>::new())).hashing_pool(pool.clone()).build());
    let mut user = IdentityUser::new("busy");
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("created").succeeded());
    let sign_in = SignInManager::new(Arc::clone(&users));

    let taken = pool.try_reserve().expect("the one place");
    for name in ["busy", "nobody"] {
        let refused = sign_in.password_sign_in(name, "wrong", true, false).await;
        assert!(matches!(refused, Err(identity_core::Error::Overloaded)), "{name}: {refused:?}");
    }
    let stored = users.find_by_id(&user.id).await.expect("found").expect("exists");
    assert_eq!(stored.access_failed_count, 0, "a refused attempt counts nothing");
    drop(taken);
    let (result, _) = sign_in.password_sign_in("busy", PASSWORD, true, false).await.expect("room again");
    assert_eq!(result, identity_core::SignInResult::Success);
}

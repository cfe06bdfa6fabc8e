//! Every way a password sign-in can fail costs the same work as a real check, exactly one
//! password verification, so that response times do not tell an unknown name from a locked-out,
//! not-allowed or existing account (counted with an instrumented hasher on the in-memory store).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, TimeZone as _, Utc};
use identity_core::memory::MemoryStore;
use identity_core::{
    IdentityOptions, IdentityUser, MAX_PASSWORD_BYTES, ManualClock, PasswordHasher, PasswordVerificationResult,
    SignInManager, SignInResult, UserManager,
};

const PASSWORD: &str = "Pass123$";

/// A transparent hasher that counts verifications.
#[derive(Debug, Default)]
struct CountingHasher {
    verifications: AtomicUsize,
}

impl PasswordHasher for CountingHasher {
    fn hash_password(&self, password: &str) -> identity_core::Result<String> {
        Ok(format!("counted:{password}"))
    }

    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        if hashed_password.strip_prefix("counted:") == Some(provided_password) {
            PasswordVerificationResult::Success
        } else {
            PasswordVerificationResult::Failed
        }
    }
}

async fn user(users: &UserManager<()>, name: &str, configure: impl FnOnce(&mut IdentityUser)) {
    let mut user = IdentityUser::new(name);
    configure(&mut user);
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("created").succeeded());
}

#[tokio::test]
async fn every_failure_costs_exactly_one_verification() {
    let hasher = Arc::new(CountingHasher::default());
    let mut options = IdentityOptions::default();
    options.sign_in.require_confirmed_email = true;
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let users = Arc::new(
        UserManager::builder(Arc::new(MemoryStore::<()>::new()))
            .options(options)
            .password_hasher(hasher.clone())
            .clock(Arc::new(ManualClock::new(now)))
            .build(),
    );
    let confirmed = |user: &mut IdentityUser| {
        user.email = Some(format!("{}@example.com", user.user_name.clone().unwrap_or_default()));
        user.email_confirmed = true;
    };
    user(&users, "alice", confirmed).await;
    user(&users, "locked", |user| {
        confirmed(user);
        user.lockout_end = Some(now + Duration::hours(1));
    })
    .await;
    user(&users, "unconfirmed", |_| {}).await;
    let sign_in = SignInManager::new(users);
    let long_password = "x".repeat(MAX_PASSWORD_BYTES + 1);

    for (name, password, expected) in [
        ("alice", PASSWORD, SignInResult::Success),
        ("alice", "wrong", SignInResult::Failed),
        ("nobody", PASSWORD, SignInResult::Failed),
        ("locked", PASSWORD, SignInResult::LockedOut),
        ("locked", "wrong", SignInResult::LockedOut),
        ("unconfirmed", PASSWORD, SignInResult::NotAllowed),
        ("unconfirmed", "wrong", SignInResult::Failed),
        ("unconfirmed", PASSWORD, SignInResult::NotAllowed),
        ("alice", long_password.as_str(), SignInResult::Failed),
        ("al\0ice", PASSWORD, SignInResult::Failed),
    ] {
        let before = hasher.verifications.load(Ordering::SeqCst);
        let (result, _) = sign_in.password_sign_in(name, password, true, false).await.expect("signed in");
        assert_eq!(result, expected, "{name:?}");
        let spent = hasher.verifications.load(Ordering::SeqCst) - before;
        assert_eq!(spent, 1, "{name:?} with {} password bytes: {spent} verifications", password.len());
    }
}

//! The transparent upgrade of an outdated password hash at sign-in: saved when the user is as it
//! was read, and otherwise left undone without failing the sign-in, in which case the caller's
//! copy keeps the stored hash and security stamp (a session or token bound to an unsaved stamp
//! would be refused at once). Uses a hasher whose `old:` hashes need a rehash.

use std::sync::Arc;

use identity_core::memory::MemoryStore;
use identity_core::{
    IdentityUser, PasswordHasher, PasswordVerificationResult, SignInManager, SignInResult, UserManager,
};

const PASSWORD: &str = "Pass123$";

/// Writes `new:` hashes and accepts `old:` ones as needing a rehash.
#[derive(Debug)]
struct UpgradingHasher;

impl PasswordHasher for UpgradingHasher {
    fn hash_password(&self, password: &str) -> identity_core::Result<String> {
        Ok(format!("new:{password}"))
    }

    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult {
        match hashed_password.split_once(':') {
            Some(("new", password)) if password == provided_password => PasswordVerificationResult::Success,
            Some(("old", password)) if password == provided_password => PasswordVerificationResult::SuccessRehashNeeded,
            _ => PasswordVerificationResult::Failed,
        }
    }
}

#[tokio::test]
async fn an_unsaved_upgrade_leaves_the_copy_as_stored() {
    let users = Arc::new(
        UserManager::builder(Arc::new(MemoryStore::<()>::new())).password_hasher(Arc::new(UpgradingHasher)).build(),
    );
    let mut user = IdentityUser::new("legacy");
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("created").succeeded());
    user.password_hash = Some(format!("old:{PASSWORD}"));
    assert!(users.update(&mut user).await.expect("updated").succeeded());
    let sign_in = SignInManager::new(Arc::clone(&users));

    // A copy read before someone else's change cannot save the upgrade; the sign-in still works.
    let mut stale = user.clone();
    assert!(users.update(&mut user).await.expect("updated").succeeded());
    assert_eq!(
        sign_in.check_password_sign_in(&mut stale, PASSWORD, true).await.expect("checked"),
        SignInResult::Success
    );
    let stored = users.find_by_id(&user.id).await.expect("found").expect("exists");
    assert_eq!(stored.password_hash.as_deref(), Some("old:Pass123$"), "not upgraded from a stale copy");
    assert_eq!(stale.security_stamp, stored.security_stamp, "the copy keeps the stored stamp");
    assert_eq!(stale.password_hash, stored.password_hash);

    // A fresh sign-in saves the upgrade, and the copy it returns matches what was saved.
    let (result, signed_in) = sign_in.password_sign_in("legacy", PASSWORD, true, false).await.expect("signed in");
    assert_eq!(result, SignInResult::Success);
    let signed_in = signed_in.expect("the user");
    let stored = users.find_by_id(&user.id).await.expect("found").expect("exists");
    assert_eq!(stored.password_hash.as_deref(), Some("new:Pass123$"), "upgraded");
    assert_ne!(stored.security_stamp, user.security_stamp, "the upgrade rotated the stamp, as .NET does");
    assert_eq!(signed_in.security_stamp, stored.security_stamp);
}

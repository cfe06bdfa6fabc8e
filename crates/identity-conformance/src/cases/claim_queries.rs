//! Finding the users that hold a claim.

use crate::CaseResult;
use crate::harness::{Harness, assert_succeeded};
use identity_core::StoredClaim;

/// `CanGetUsersWithClaims`: the claim values carry a GUID, so users of other cases sharing the
/// database do not count.
pub async fn can_get_users_with_claims(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let claim = StoredClaim::new("foo", format!("bar{}", uuid::Uuid::new_v4()));
    let mut holders = Vec::new();
    for i in 0..6 {
        let mut user = h.insert_user(&manager, h.create_test_user("")).await?;
        if i % 2 == 0 {
            assert_succeeded(&manager.add_claim(&mut user, claim.clone()).await?);
            holders.push(user.id);
        }
    }
    let mut found: Vec<String> = manager.get_users_for_claim(&claim).await?.into_iter().map(|u| u.id).collect();
    found.sort();
    holders.sort();
    assert_eq!(found, holders);
    let unknown = StoredClaim::new("123", format!("456{}", uuid::Uuid::new_v4()));
    assert!(manager.get_users_for_claim(&unknown).await?.is_empty());
    Ok(())
}

//! User claims: adding, removing and replacing them, each change touching only its own user.

use crate::harness::{Harness, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::{IdentityUser, StoredClaim, UserManager};

/// The three claims the .NET tests use; two share a type.
fn three_claims() -> [StoredClaim; 3] {
    [StoredClaim::new("c", "value"), StoredClaim::new("c2", "value2"), StoredClaim::new("c2", "value3")]
}

/// Creates a test user and adds `claims` one at a time.
async fn create_user_with_claims(
    h: &Harness,
    manager: &UserManager<()>,
    claims: &[StoredClaim],
) -> Result<IdentityUser, CaseError> {
    let mut user = h.insert_user(manager, h.create_test_user("")).await?;
    for claim in claims {
        assert_succeeded(&manager.add_claim(&mut user, claim.clone()).await?);
    }
    Ok(user)
}

/// Removes `claims` from `user` one at a time, checking that its count drops by one each time and
/// that `bystander` keeps all of its own claims.
async fn remove_one_by_one(
    manager: &UserManager<()>,
    user: &mut IdentityUser,
    claims: &[StoredClaim],
    bystander: Option<&IdentityUser>,
) -> CaseResult {
    assert_eq!(manager.get_claims(user).await?.len(), claims.len());
    for (removed, claim) in claims.iter().enumerate() {
        assert_succeeded(&manager.remove_claim(user, claim).await?);
        assert_eq!(manager.get_claims(user).await?.len(), claims.len() - removed - 1);
        if let Some(other) = bystander {
            assert_eq!(manager.get_claims(other).await?.len(), claims.len(), "the other user's claims");
        }
    }
    Ok(())
}

/// Asserts that the user's only claim is `expected`.
async fn assert_single_claim(manager: &UserManager<()>, user: &IdentityUser, expected: &StoredClaim) -> CaseResult {
    let claims = manager.get_claims(user).await?;
    assert_eq!(claims.len(), 1, "exactly one claim: {claims:?}");
    assert_eq!(claims[0].claim_type, expected.claim_type);
    assert_eq!(claims[0].value, expected.value);
    Ok(())
}

/// `CanAddRemoveUserClaim`.
pub async fn can_add_remove_user_claim(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let claims = three_claims();
    let mut user = create_user_with_claims(&h, &manager, &claims).await?;
    remove_one_by_one(&manager, &mut user, &claims, None).await
}

/// `RemoveClaimOnlyAffectsUser`.
pub async fn remove_claim_only_affects_user(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let claims = three_claims();
    let mut user = create_user_with_claims(&h, &manager, &claims).await?;
    let other = create_user_with_claims(&h, &manager, &claims).await?;
    remove_one_by_one(&manager, &mut user, &claims, Some(&other)).await
}

/// `CanReplaceUserClaim`.
pub async fn can_replace_user_claim(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let old = StoredClaim::new("c", "a");
    let mut user = create_user_with_claims(&h, &manager, std::slice::from_ref(&old)).await?;
    assert_single_claim(&manager, &user, &old).await?;
    let new = StoredClaim::new("c", "b");
    assert_succeeded(&manager.replace_claim(&mut user, &old, &new).await?);
    assert_single_claim(&manager, &user, &new).await
}

/// `ReplaceUserClaimOnlyAffectsUser`.
pub async fn replace_user_claim_only_affects_user(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let old = StoredClaim::new("c", "a");
    let mut user = create_user_with_claims(&h, &manager, std::slice::from_ref(&old)).await?;
    let other = create_user_with_claims(&h, &manager, std::slice::from_ref(&old)).await?;
    assert_single_claim(&manager, &user, &old).await?;
    assert_single_claim(&manager, &other, &old).await?;
    let new = StoredClaim::new("c", "b");
    assert_succeeded(&manager.replace_claim(&mut user, &old, &new).await?);
    assert_single_claim(&manager, &user, &new).await?;
    assert_single_claim(&manager, &other, &old).await
}

//! WebAuthn passkeys: adding, listing, finding, updating and removing them.

use crate::harness::{Harness, assert_succeeded};
use crate::{CaseError, CaseResult};
use chrono::{DateTime, Duration};
use identity_core::{IdentityUser, UserManager, UserPasskeyInfo};

/// `chunks` × 16 random bytes.
fn random_bytes(chunks: usize) -> Vec<u8> {
    (0..chunks).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).collect()
}

/// A passkey with a random credential id and key material, created at a fixed instant (to the
/// microsecond, the precision of database timestamps).
fn test_passkey(name: &str) -> UserPasskeyInfo {
    UserPasskeyInfo {
        credential_id: random_bytes(2),
        public_key: random_bytes(4),
        name: Some(name.to_owned()),
        created_at: DateTime::from_timestamp(1_736_942_400, 123_456_000).unwrap_or_default(),
        sign_count: 1,
        transports: Some(vec!["usb".to_owned(), "nfc".to_owned()]),
        is_user_verified: true,
        is_backup_eligible: true,
        is_backed_up: false,
        attestation_object: random_bytes(8),
        client_data_json: br#"{"type":"webauthn.create","challenge":"Y2hhbGxlbmdl"}"#.to_vec(),
        aaguid: Some(uuid::Uuid::new_v4().to_string()),
    }
}

/// A created test user holding `passkeys`.
async fn user_with_passkeys(
    h: &Harness,
    manager: &UserManager<()>,
    passkeys: &[&UserPasskeyInfo],
) -> Result<IdentityUser, CaseError> {
    let mut user = h.insert_user(manager, h.create_test_user("")).await?;
    for passkey in passkeys {
        assert_succeeded(&manager.add_or_update_passkey(&mut user, passkey).await?);
    }
    Ok(user)
}

/// Asserts that `user` holds exactly `expected`, each also found by credential id, with every
/// field as added.
async fn assert_passkeys(manager: &UserManager<()>, user: &IdentityUser, expected: &[&UserPasskeyInfo]) -> CaseResult {
    let mut listed = manager.get_passkeys(user).await?;
    listed.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
    let mut sorted = expected.to_vec();
    sorted.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
    assert_eq!(listed.iter().collect::<Vec<_>>(), sorted);
    for passkey in expected {
        assert_eq!(manager.get_passkey(user, &passkey.credential_id).await?.as_ref(), Some(*passkey));
        let owner = manager.find_by_passkey_id(&passkey.credential_id).await?.map(|u| u.id);
        assert_eq!(owner.as_ref(), Some(&user.id), "owner of the passkey");
    }
    Ok(())
}

/// `CanAddAndRetrievePasskey`.
pub async fn can_add_and_retrieve_passkey(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let passkey = test_passkey("Test Passkey");
    let user = user_with_passkeys(&h, &manager, &[&passkey]).await?;
    assert_passkeys(&manager, &user, &[&passkey]).await
}

/// `CanRemovePasskey`.
pub async fn can_remove_passkey(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let passkey = test_passkey("Test Passkey");
    let mut user = user_with_passkeys(&h, &manager, &[&passkey]).await?;
    assert_passkeys(&manager, &user, &[&passkey]).await?;
    assert_succeeded(&manager.remove_passkey(&mut user, &passkey.credential_id).await?);
    assert_passkeys(&manager, &user, &[]).await?;
    assert_eq!(manager.get_passkey(&user, &passkey.credential_id).await?, None);
    assert!(manager.find_by_passkey_id(&passkey.credential_id).await?.is_none());
    assert_succeeded(&manager.remove_passkey(&mut user, &passkey.credential_id).await?);
    assert_passkeys(&manager, &user, &[]).await
}

/// `CanAddMultiplePasskeys`.
pub async fn can_add_multiple_passkeys(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let first = test_passkey("Passkey 1");
    let mut second = test_passkey("Passkey 2");
    second.sign_count = 5;
    second.transports = Some(vec!["internal".to_owned()]);
    second.is_backed_up = true;
    let user = user_with_passkeys(&h, &manager, &[&first, &second]).await?;
    assert_passkeys(&manager, &user, &[&first, &second]).await
}

/// `UpdatingPasskeyChangesOnlyMutableFields`: adding a passkey with a known credential id changes
/// its name, sign count and verified and backed-up flags, and nothing else.
pub async fn updating_passkey_changes_only_mutable_fields(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let original = test_passkey("Original Name");
    let mut user = user_with_passkeys(&h, &manager, &[&original]).await?;
    let update = UserPasskeyInfo {
        credential_id: original.credential_id.clone(),
        public_key: random_bytes(4),
        name: Some("Updated Name".to_owned()),
        created_at: original.created_at + Duration::days(1),
        sign_count: original.sign_count + 1,
        transports: Some(vec!["ble".to_owned()]),
        is_user_verified: !original.is_user_verified,
        is_backup_eligible: !original.is_backup_eligible,
        is_backed_up: !original.is_backed_up,
        attestation_object: random_bytes(8),
        client_data_json: br#"{"type":"webauthn.get"}"#.to_vec(),
        aaguid: original.aaguid.clone(),
    };
    assert_succeeded(&manager.add_or_update_passkey(&mut user, &update).await?);
    let expected = UserPasskeyInfo {
        name: update.name.clone(),
        sign_count: update.sign_count,
        is_user_verified: update.is_user_verified,
        is_backed_up: update.is_backed_up,
        ..original.clone()
    };
    assert_passkeys(&manager, &user, &[&expected]).await
}

//! Bulk transfer of users and roles (`UserTransferStore`): an export imported into an empty store
//! reproduces every column and child row, importing the same records again changes nothing, a
//! record that conflicts fails alone and leaves nothing behind, and export pages hold every user
//! once, in id order.

use crate::harness::{Harness, assert_succeeded};
use crate::{CaseError, CaseResult};
use chrono::{DateTime, Utc};
use identity_core::store::{
    AUTHENTICATOR_KEY_TOKEN, Capability, INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN, UserStore,
};
use identity_core::transfer::{ClaimRecord, ImportOutcome, RoleRecord, TokenRecord, UserRecord, UserTransferStore};
use identity_core::{
    Argon2Params, IdentityPasswordHasher, IdentityRole, IdentityUser, RoleManager, StoredClaim, UserLoginInfo,
    UserManager, UserPasskeyInfo,
};
use std::collections::HashSet;
use std::sync::Arc;

/// The store's transfer capability.
fn transfer(store: &dyn UserStore<()>) -> Result<&dyn UserTransferStore<()>, CaseError> {
    store.transfer_store().ok_or(CaseError::NotSupported(Capability::Transfer))
}

/// The lockout end of the seeded user: to the microsecond, the finest precision every backend
/// keeps.
fn lockout_end() -> DateTime<Utc> {
    DateTime::from_timestamp(4_102_444_800, 123_456_000).unwrap_or_default()
}

/// `chunks` × 16 random bytes.
fn random_bytes(chunks: usize) -> Vec<u8> {
    (0..chunks).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).collect()
}

/// A passkey with random key material.
fn passkey() -> UserPasskeyInfo {
    UserPasskeyInfo {
        credential_id: random_bytes(2),
        public_key: random_bytes(4),
        name: Some("laptop".to_owned()),
        created_at: DateTime::from_timestamp(1_736_942_400, 123_456_000).unwrap_or_default(),
        sign_count: 3,
        transports: Some(vec!["usb".to_owned(), "internal".to_owned()]),
        is_user_verified: true,
        is_backup_eligible: true,
        is_backed_up: false,
        attestation_object: random_bytes(8),
        client_data_json: br#"{"type":"webauthn.create"}"#.to_vec(),
        aaguid: Some(uuid::Uuid::new_v4().to_string()),
    }
}

/// What [`seed`] created.
struct Seeded {
    /// The users; the first has a value in every column and rows in every child table.
    user_ids: Vec<String>,
    /// The roles; the first has claims.
    role_ids: Vec<String>,
}

/// Creates, through the managers, two roles (one with claims) and three users: one with a
/// password, claims, a login, a phone number, two-factor with an authenticator key and recovery
/// codes, another token, a failed attempt, a lockout end, two roles and a passkey; one with
/// nothing; one with a claim and a role.
async fn seed(h: &Harness) -> Result<Seeded, CaseError> {
    let manager = h.user_manager();
    let roles = h.role_manager();
    let mut readers = h.insert_role(&roles, "readers").await?;
    for permission in ["orders.read", "orders.list"] {
        assert_succeeded(&roles.add_claim(&mut readers, &StoredClaim::new("permission", permission)).await?);
    }
    let writers = h.insert_role(&roles, "writers").await?;
    let reader_name = readers.name.clone().expect("test roles have names");
    let writer_name = writers.name.clone().expect("test roles have names");

    let mut rich = h.create_test_user("transfer");
    rich.email = Some(format!("{}@example.com", uuid::Uuid::new_v4()));
    assert_succeeded(&manager.create_with_password(&mut rich, "password").await?);
    let claims = [StoredClaim::new("given_name", "Ann"), StoredClaim::new("website", "https://ann.example")];
    assert_succeeded(&manager.add_claims(&mut rich, &claims).await?);
    let login = UserLoginInfo::new("Google", uuid::Uuid::new_v4().to_string(), Some("Google".to_owned()));
    assert_succeeded(&manager.add_login(&mut rich, &login).await?);
    assert_succeeded(&manager.set_phone_number(&mut rich, Some("+1 555 0100")).await?);
    assert_succeeded(&manager.set_two_factor_enabled(&mut rich, true).await?);
    assert_succeeded(&manager.reset_authenticator_key(&mut rich).await?);
    manager.generate_new_two_factor_recovery_codes(&mut rich, 3).await?.expect("the codes are stored");
    assert_succeeded(&manager.set_authentication_token(&mut rich, "Custom", "refresh", Some("a secret")).await?);
    assert_succeeded(&manager.set_lockout_enabled(&mut rich, true).await?);
    assert_succeeded(&manager.access_failed(&mut rich).await?);
    assert_succeeded(&manager.set_lockout_end_date(&mut rich, Some(lockout_end())).await?);
    assert_succeeded(&manager.add_to_roles(&mut rich, &[reader_name.as_str(), writer_name.as_str()]).await?);
    assert_succeeded(&manager.add_or_update_passkey(&mut rich, &passkey()).await?);

    let plain = h.insert_user(&manager, h.create_test_user("transfer")).await?;
    let mut member = h.insert_user(&manager, h.create_test_user("transfer")).await?;
    assert_succeeded(&manager.add_claim(&mut member, StoredClaim::new("given_name", "Bo")).await?);
    assert_succeeded(&manager.add_to_role(&mut member, &reader_name).await?);
    Ok(Seeded { user_ids: vec![rich.id, plain.id, member.id], role_ids: vec![readers.id, writers.id] })
}

/// Every user of the store, read `page_size` at a time; each page holds at most that many.
async fn export_all(transfer: &dyn UserTransferStore<()>, page_size: usize) -> Result<Vec<UserRecord>, CaseError> {
    let mut users: Vec<UserRecord> = Vec::new();
    loop {
        let after = users.last().map(|user| user.id.clone());
        let page = transfer.export_users(after.as_deref(), page_size).await?;
        assert!(page.len() <= page_size, "a page of {} users for a limit of {page_size}", page.len());
        let last_page = page.len() < page_size;
        users.extend(page);
        if last_page {
            return Ok(users);
        }
    }
}

/// The exported roles and users that [`seed`] created (the store may hold others), in id order.
async fn export_seeded(
    transfer: &dyn UserTransferStore<()>,
    seeded: &Seeded,
) -> Result<(Vec<RoleRecord>, Vec<UserRecord>), CaseError> {
    let roles: Vec<RoleRecord> =
        transfer.export_roles().await?.into_iter().filter(|role| seeded.role_ids.contains(&role.id)).collect();
    let users: Vec<UserRecord> =
        export_all(transfer, 2).await?.into_iter().filter(|user| seeded.user_ids.contains(&user.id)).collect();
    assert_eq!(roles.len(), seeded.role_ids.len(), "every seeded role is exported once");
    assert_eq!(users.len(), seeded.user_ids.len(), "every seeded user is exported once");
    Ok((roles, users))
}

/// Asserts that the record of the seeded user with every column holds all of it.
fn assert_complete(record: &UserRecord) {
    assert!(record.password_hash.is_some() && record.security_stamp.is_some() && record.email.is_some());
    assert!(record.two_factor_enabled && record.phone_number.is_some() && record.lockout_enabled);
    assert_eq!((record.access_failed_count, record.lockout_end), (1, Some(lockout_end())));
    let counts = (record.claims.len(), record.logins.len(), record.passkeys.len(), record.roles.len());
    assert_eq!(counts, (2, 1, 1, 2), "claims, logins, passkeys and roles");
    let tokens: HashSet<(&str, &str)> =
        record.tokens.iter().map(|token| (token.login_provider.as_str(), token.name.as_str())).collect();
    let expected = HashSet::from([
        (INTERNAL_LOGIN_PROVIDER, AUTHENTICATOR_KEY_TOKEN),
        (INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN),
        ("Custom", "refresh"),
    ]);
    assert_eq!(tokens, expected, "the authenticator key, the recovery codes and the other token");
}

/// Asserts that `record` holds exactly what the ordinary reads of `manager` return for its user.
async fn assert_matches_reads(manager: &UserManager<()>, record: &UserRecord) -> CaseResult {
    let user = manager.find_by_id(&record.id).await?.expect("the user exists");
    assert_eq!(record.to_user(), user, "the columns of {}", record.id);
    let claims: Vec<StoredClaim> = record.claims.iter().cloned().map(StoredClaim::from).collect();
    assert_eq!(claims, manager.get_claims(&user).await?, "the claims, in order");
    let mut logins: Vec<UserLoginInfo> = record.logins.iter().cloned().map(UserLoginInfo::from).collect();
    let mut stored_logins = manager.get_logins(&user).await?;
    for list in [&mut logins, &mut stored_logins] {
        list.sort_by(|a, b| (&a.login_provider, &a.provider_key).cmp(&(&b.login_provider, &b.provider_key)));
    }
    assert_eq!(logins, stored_logins, "the logins");
    for token in &record.tokens {
        let stored = manager.get_authentication_token(&user, &token.login_provider, &token.name).await?;
        assert_eq!(stored, token.value, "the token {} of {}", token.name, token.login_provider);
    }
    let mut passkeys: Vec<UserPasskeyInfo> = record.passkeys.iter().cloned().map(UserPasskeyInfo::from).collect();
    let mut stored_passkeys = manager.get_passkeys(&user).await?;
    for list in [&mut passkeys, &mut stored_passkeys] {
        list.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
    }
    assert_eq!(passkeys, stored_passkeys, "the passkeys");
    for role in &record.roles {
        assert!(manager.is_in_role(&user, role).await?, "member of {role}");
    }
    assert_eq!(manager.get_roles(&user).await?.len(), record.roles.len(), "no other role");
    Ok(())
}

/// Asserts that `record` holds exactly what the ordinary reads of `roles` return for its role.
async fn assert_role_matches_reads(roles: &RoleManager, record: &RoleRecord) -> CaseResult {
    let role = roles.find_by_id(&record.id).await?.expect("the role exists");
    assert_eq!(record.to_role(), role, "the columns of role {}", record.id);
    let claims: Vec<StoredClaim> = record.claims.iter().cloned().map(StoredClaim::from).collect();
    assert_eq!(claims, roles.get_claims(&role).await?, "the role's claims, in order");
    Ok(())
}

/// An export holds every column and child row as the ordinary reads see them; imported into an
/// empty store, it makes every record `Created`, the second store exports exactly the same
/// records, and its ordinary reads see the same users and roles.
pub async fn export_then_import_into_an_empty_store_round_trips_every_row(h: Harness) -> CaseResult {
    let seeded = seed(&h).await?;
    let source_store = h.user_store();
    let source = transfer(source_store.as_ref())?;
    let (roles, users) = export_seeded(source, &seeded).await?;
    let rich = users.iter().find(|user| user.id == seeded.user_ids[0]).expect("the seeded user");
    assert_complete(rich);
    assert_eq!(roles.iter().map(|role| role.claims.len()).sum::<usize>(), 2, "the role claims");
    let (source_users, source_roles) = (h.user_manager(), h.role_manager());
    for user in &users {
        assert_matches_reads(&source_users, user).await?;
    }
    for role in &roles {
        assert_role_matches_reads(&source_roles, role).await?;
    }

    let empty = h.empty_stores().await?;
    let target = transfer(empty.users.as_ref())?;
    assert_eq!(target.import_roles(&roles).await?, vec![ImportOutcome::Created; roles.len()]);
    assert_eq!(target.import_users(&users).await?, vec![ImportOutcome::Created; users.len()]);
    assert_eq!(target.export_roles().await?, roles, "the second store holds exactly the roles");
    assert_eq!(export_all(target, 2).await?, users, "the second store holds exactly the users, row for row");
    // Reads only: the cheapest hasher keeps the pool small.
    let hasher = IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid Argon2 parameters");
    let target_users = UserManager::builder(Arc::clone(&empty.users)).password_hasher(Arc::new(hasher)).build();
    let target_roles = RoleManager::new(Arc::clone(&empty.roles));
    for user in &users {
        assert_matches_reads(&target_users, user).await?;
    }
    for role in &roles {
        assert_role_matches_reads(&target_roles, role).await?;
    }
    Ok(())
}

/// Importing records whose ids exist skips every one, even those whose contents differ from the
/// stored ones (the id decides; nothing is merged), and changes nothing.
pub async fn importing_the_same_records_again_skips_them_and_changes_nothing(h: Harness) -> CaseResult {
    let seeded = seed(&h).await?;
    let store = h.user_store();
    let transfer = transfer(store.as_ref())?;
    let (roles, users) = export_seeded(transfer, &seeded).await?;
    let mut changed_roles = roles.clone();
    changed_roles[0].name = Some(format!("renamed{}", uuid::Uuid::new_v4()));
    changed_roles[0].claims.clear();
    let mut changed_users = users.clone();
    changed_users[0].email = Some("changed@example.com".to_owned());
    changed_users[0].claims.push(ClaimRecord::new("added", "by the import"));
    for _ in 0..2 {
        assert_eq!(transfer.import_roles(&roles).await?, vec![ImportOutcome::Skipped; roles.len()]);
        assert_eq!(transfer.import_users(&users).await?, vec![ImportOutcome::Skipped; users.len()]);
    }
    assert_eq!(transfer.import_roles(&changed_roles).await?, vec![ImportOutcome::Skipped; roles.len()]);
    assert_eq!(transfer.import_users(&changed_users).await?, vec![ImportOutcome::Skipped; users.len()]);
    assert_eq!(export_seeded(transfer, &seeded).await?, (roles, users), "nothing changed");
    Ok(())
}

/// A new user record with a marker claim (its id), a token and the role `role`.
fn new_record(manager: &UserManager<()>, role: &str) -> UserRecord {
    let mut user = IdentityUser::<()>::new(format!("imported{}", uuid::Uuid::new_v4()));
    user.normalized_user_name = user.user_name.as_deref().map(|name| manager.normalize_name(name));
    let mut record = UserRecord::from_user(user);
    record.claims.push(ClaimRecord::new("import-marker", record.id.clone()));
    record.tokens.push(TokenRecord {
        login_provider: "Custom".to_owned(),
        name: "refresh".to_owned(),
        value: Some("a secret".to_owned()),
    });
    record.roles.push(role.to_owned());
    record
}

/// In one call, a user record whose normalized name another user holds and one that names an
/// unknown role fail, naming why, with nothing of them written; the records around them are
/// created whole. A role record whose normalized name another role holds fails the same way.
pub async fn import_fails_only_the_records_that_conflict(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let role_manager = h.role_manager();
    let taken = h.insert_user(&manager, h.create_test_user("taken")).await?;
    let taken_name = taken.normalized_user_name.clone().expect("the manager normalizes names");
    let role = h.insert_role(&role_manager, "import").await?;
    let role_name = role.normalized_name.clone().expect("the role manager normalizes names");
    let store = h.user_store();
    let transfer = transfer(store.as_ref())?;

    let first = new_record(&manager, &role_name);
    let mut clash = new_record(&manager, &role_name);
    clash.normalized_user_name = Some(taken_name.clone());
    let missing_role = format!("MISSING{}", uuid::Uuid::new_v4().simple());
    let mut unknown_role = new_record(&manager, &role_name);
    unknown_role.roles.push(missing_role.clone());
    let last = new_record(&manager, &role_name);
    let records = [first.clone(), clash.clone(), unknown_role.clone(), last.clone()];
    let outcomes = transfer.import_users(&records).await?;
    assert_eq!(outcomes.len(), records.len(), "one outcome per record");
    assert_eq!((&outcomes[0], &outcomes[3]), (&ImportOutcome::Created, &ImportOutcome::Created), "{outcomes:?}");
    assert!(matches!(&outcomes[1], ImportOutcome::Failed(reason) if reason.contains(&taken_name)), "{outcomes:?}");
    assert!(matches!(&outcomes[2], ImportOutcome::Failed(reason) if reason.contains(&missing_role)), "{outcomes:?}");
    for failed in [&clash, &unknown_role] {
        assert!(manager.find_by_id(&failed.id).await?.is_none(), "a failed record writes no user");
        let marker = StoredClaim::new("import-marker", failed.id.clone());
        assert!(manager.get_users_for_claim(&marker).await?.is_empty(), "a failed record writes no claim");
    }
    let created: Vec<UserRecord> =
        export_all(transfer, 100).await?.into_iter().filter(|user| user.id == first.id || user.id == last.id).collect();
    let mut expected = vec![first, last];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(created, expected, "the other records are written whole, as they were");

    let mut role_clash = RoleRecord::from_role(IdentityRole::new(format!("clash{}", uuid::Uuid::new_v4())));
    role_clash.normalized_name = Some(role_name.clone());
    role_clash.claims.push(ClaimRecord::new("permission", "everything"));
    let fresh_name = format!("fresh{}", uuid::Uuid::new_v4());
    let mut fresh = RoleRecord::from_role(IdentityRole::new(&fresh_name));
    fresh.normalized_name = Some(role_manager.normalize_key(&fresh_name));
    let outcomes = transfer.import_roles(&[role_clash.clone(), fresh.clone()]).await?;
    assert!(matches!(&outcomes[0], ImportOutcome::Failed(reason) if reason.contains(&role_name)), "{outcomes:?}");
    assert_eq!(outcomes[1], ImportOutcome::Created);
    assert!(role_manager.find_by_id(&role_clash.id).await?.is_none(), "a failed role is not written");
    assert_role_matches_reads(&role_manager, &fresh).await
}

/// Export pages, each at most the limit, hold every user exactly once, with ids that a
/// linguistic collation orders unlike code points (it skips punctuation and folds case at first),
/// so that the page order and the "comes after" condition must agree for none to be skipped or
/// repeated.
pub async fn export_pages_hold_every_user_once_in_id_order(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let prefix = uuid::Uuid::new_v4().simple().to_string();
    let mut created = Vec::new();
    for suffix in ["a-b", "ab", "aB", "a_b", "a", "b-", "B", "a~"] {
        let mut user = h.create_test_user("page");
        user.id = format!("{prefix}{suffix}");
        created.push(h.insert_user(&manager, user).await?.id);
    }
    let store = h.user_store();
    let transfer = transfer(store.as_ref())?;
    let exported = export_all(transfer, 3).await?;
    let ids: Vec<&str> = exported.iter().map(|user| user.id.as_str()).collect();
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "no user is exported twice: {ids:?}");
    for id in &created {
        assert_eq!(ids.iter().filter(|exported| **exported == id.as_str()).count(), 1, "{id} is exported once");
    }
    assert!(transfer.export_users(ids.last().copied(), 3).await?.is_empty(), "nothing comes after the last id");
    assert!(transfer.export_users(None, 0).await?.is_empty(), "a limit of zero reads nothing");
    Ok(())
}

//! Scenarios that run unchanged on SQLite and PostgreSQL, each on a freshly migrated database:
//! concurrency (name races, lockout accounting, stale stamps), .NET-format writes, extension
//! rows, passkeys and the bulk claims load.

use chrono::{DateTime, TimeZone, Utc};
use diesel::{QueryableByName, RunQueryDsl};
use identity_core::store::{UserClaimsDataStore, UserStore};
use identity_core::{
    IdentityResult, IdentityRole, IdentityUser, RoleManager, SignInManager, SignInResult, StoredClaim, UserExtension,
    UserManager, UserPasskeyInfo,
};
use identity_diesel::{Backend, Database, DatabaseUrl, DieselStore, PoolOptions, establish};

use crate::Migrated;
use std::sync::Arc;

/// The password every scenario user gets.
pub(crate) const PASSWORD: &str = "Pass123$";

/// A pool on a migrated database, sized for the concurrency scenarios.
pub(crate) async fn open(url: &DatabaseUrl) -> Database {
    Database::connect_with(url.clone(), PoolOptions { max_size: 8, ..PoolOptions::default() })
        .await
        .unwrap_or_else(|error| panic!("cannot open {url}: {error}"))
}

/// A store for users of type `IdentityUser<X>`.
pub(crate) async fn store<X: UserExtension>(url: &DatabaseUrl) -> Arc<DieselStore<X>> {
    Arc::new(DieselStore::new(open(url).await).await.unwrap_or_else(|error| panic!("cannot open the store: {error}")))
}

/// A user manager with the default options, on a manual clock at the tests' start instant.
pub(crate) fn manager<X: UserExtension>(store: Arc<DieselStore<X>>) -> Arc<UserManager<X>> {
    Arc::new(UserManager::builder(store).clock(Arc::new(test_support::clock::manual_clock())).build())
}

#[track_caller]
fn assert_success(result: &IdentityResult) {
    assert!(result.succeeded(), "expected success, got {result}");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Counts rows with a query `SELECT count(*) AS n …` written for both backends.
pub(crate) fn count(url: &DatabaseUrl, query: &str) -> i64 {
    let mut connection = establish(url).unwrap_or_else(|error| panic!("cannot connect: {error}"));
    diesel::sql_query(query).get_result::<Count>(&mut connection).unwrap_or_else(|error| panic!("{query}: {error}")).n
}

/// Sixteen concurrent creations of one user name: exactly one succeeds, every other one fails
/// with `DuplicateUserName` (from the validator or from the unique index), never an error.
pub(crate) async fn concurrent_creations_of_one_name(database: Migrated) {
    let url = &database.url;
    let manager = manager(store::<()>(url).await);
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let manager = Arc::clone(&manager);
            tokio::spawn(async move { manager.create(&mut IdentityUser::new("race.winner")).await })
        })
        .collect();
    let mut successes = 0;
    for attempt in attempts {
        let result = attempt.await.expect("task panicked").expect("create returned an error");
        match result.succeeded() {
            true => successes += 1,
            false => assert_eq!(result.codes(), ["DuplicateUserName"], "{result}"),
        }
    }
    assert_eq!(successes, 1);
    assert_eq!(count(url, "SELECT count(*) AS n FROM \"AspNetUsers\" WHERE \"NormalizedUserName\" = 'RACE.WINNER'"), 1);
}

/// Concurrent wrong passwords are each counted once: 4 at once with a maximum of 5 leave the
/// count at exactly 4; of 3 more at once, at most one is evaluated (one attempt is left), all get
/// `LockedOut`, and the lockout restarts the count.
pub(crate) async fn concurrent_wrong_passwords_are_all_counted(database: Migrated) {
    let url = &database.url;
    let store = store::<()>(url).await;
    let manager = manager(Arc::clone(&store));
    let sign_in = Arc::new(SignInManager::new(Arc::clone(&manager)));
    let mut user = IdentityUser::new("lockout.target");
    assert_success(&manager.create_with_password(&mut user, PASSWORD).await.expect("create"));
    assert!(user.lockout_enabled);

    let failures = |attempts: usize| {
        let outcomes: Vec<_> = (0..attempts)
            .map(|_| {
                let sign_in = Arc::clone(&sign_in);
                let mut copy = user.clone();
                tokio::spawn(async move { sign_in.check_password_sign_in(&mut copy, "wrong password", true).await })
            })
            .collect();
        async move {
            let mut results = Vec::new();
            for outcome in outcomes {
                results.push(outcome.await.expect("task panicked").expect("sign-in returned an error"));
            }
            results
        }
    };

    assert_eq!(failures(4).await, [SignInResult::Failed; 4]);
    let stored = store.find_by_id(&user.id).await.expect("find").expect("user exists");
    assert_eq!((stored.access_failed_count, stored.lockout_end), (4, None));

    // One attempt is left: the first of three concurrent wrong passwords takes it, and the
    // others find the account locked (or lock it, since every remaining attempt is in flight).
    assert_eq!(failures(3).await, [SignInResult::LockedOut; 3]);
    let stored = store.find_by_id(&user.id).await.expect("find").expect("user exists");
    assert_eq!(stored.access_failed_count, 0, "the lockout restarts the count");
    assert_eq!(stored.lockout_end, Some(test_support::clock::start() + chrono::Duration::minutes(5)));
    assert_ne!(stored.concurrency_stamp, user.concurrency_stamp);

    let mut fresh = stored.clone();
    assert_eq!(
        sign_in.check_password_sign_in(&mut fresh, PASSWORD, true).await.expect("sign-in"),
        SignInResult::LockedOut
    );
}

/// Concurrent updates from the same stale copy: one wins, the others get `ConcurrencyFailure`;
/// the stale copy can neither update nor delete afterwards. The same holds for roles.
pub(crate) async fn concurrent_stale_updates_fail(database: Migrated) {
    let url = &database.url;
    let store = store::<()>(url).await;
    let manager = manager(Arc::clone(&store));
    let mut user = IdentityUser::new("stale.copy");
    assert_success(&manager.create(&mut user).await.expect("create"));
    let updates: Vec<_> = (0..8)
        .map(|i| {
            let manager = Arc::clone(&manager);
            let mut copy = user.clone();
            copy.phone_number = Some(format!("+1555000{i}"));
            tokio::spawn(async move { manager.update(&mut copy).await.map(|result| (result, copy)) })
        })
        .collect();
    let mut winners = Vec::new();
    for update in updates {
        let (result, copy) = update.await.expect("task panicked").expect("update returned an error");
        match result.succeeded() {
            true => winners.push(copy),
            false => assert_eq!(result.codes(), ["ConcurrencyFailure"]),
        }
    }
    assert_eq!(winners.len(), 1);
    let stored = store.find_by_id(&user.id).await.expect("find").expect("user exists");
    assert_eq!(stored, winners[0]);
    assert_eq!(manager.update(&mut user.clone()).await.expect("update").codes(), ["ConcurrencyFailure"]);
    assert_eq!(manager.delete(&user).await.expect("delete").codes(), ["ConcurrencyFailure"]);

    let roles = Arc::new(RoleManager::new(store));
    let mut role = IdentityRole::new("Stale Role");
    assert_success(&roles.create(&mut role).await.expect("create role"));
    let role_updates: Vec<_> = (0..4)
        .map(|i| {
            let mut copy = role.clone();
            let roles = Arc::clone(&roles);
            tokio::spawn(async move {
                copy.name = Some(format!("Renamed {i}"));
                roles.update(&mut copy).await
            })
        })
        .collect();
    let mut role_successes = 0;
    for update in role_updates {
        let result = update.await.expect("task panicked").expect("role update returned an error");
        match result.succeeded() {
            true => role_successes += 1,
            false => assert_eq!(result.codes(), ["ConcurrencyFailure"]),
        }
    }
    assert_eq!(role_successes, 1);
}

/// The instant the .NET-format scenario locks its user out until (exact at both backends'
/// precision: 100 ns on SQLite, 1 µs on PostgreSQL).
pub(crate) fn lockout_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).single().expect("valid date") + chrono::Duration::microseconds(123_456)
}

/// Creates `Ann.Example` through the user manager as a .NET application would (email, password,
/// lockout end, claims), checks that it reads back unchanged, and returns it so that the caller
/// can check the raw columns of its backend.
pub(crate) async fn write_user_through_the_manager(url: &DatabaseUrl) -> IdentityUser {
    let store = store::<()>(url).await;
    let manager = manager(Arc::clone(&store));
    let mut user = IdentityUser::new("Ann.Example");
    user.email = Some("Ann.Example@Example.com".to_owned());
    assert_success(&manager.create_with_password(&mut user, PASSWORD).await.expect("create"));
    assert_success(&manager.set_lockout_end_date(&mut user, Some(lockout_end())).await.expect("lockout"));
    let claims = [StoredClaim::new("given_name", "Ann"), StoredClaim::new("website", "https://ann.example")];
    assert_success(&manager.add_claims(&mut user, &claims).await.expect("claims"));

    let found = manager.find_by_name("ann.example").await.expect("find").expect("user exists");
    assert_eq!(found, user);
    assert_eq!(found.lockout_end, Some(lockout_end()));
    assert_eq!(found.normalized_user_name.as_deref(), Some("ANN.EXAMPLE"));
    assert_eq!(found.normalized_email.as_deref(), Some("ANN.EXAMPLE@EXAMPLE.COM"));
    assert_eq!(manager.find_by_email("ann.example@example.com").await.expect("find").as_ref(), Some(&user));
    assert_eq!(manager.get_claims(&found).await.expect("claims"), claims);
    for guid in [&found.id, found.concurrency_stamp.as_ref().expect("a stamp")] {
        let parsed = uuid::Uuid::parse_str(guid).expect("a GUID");
        assert_eq!(*guid, parsed.hyphenated().to_string(), "lowercase hyphenated, as .NET's Guid.ToString()");
    }
    found
}

/// [`write_user_through_the_manager`], then the lockout end as the backend stores it: EF
/// Core's text with an offset on SQLite, `timestamp with time zone` on PostgreSQL.
pub(crate) async fn user_manager_writes_read_back(database: Migrated) {
    let url = &database.url;
    let user = write_user_through_the_manager(url).await;
    assert!(!user.id.is_empty());
    let (query, expected) = match url.backend() {
        Backend::Sqlite => (
            "SELECT \"LockoutEnd\" AS text FROM \"AspNetUsers\" WHERE \"UserName\" = 'Ann.Example'",
            "2026-11-26 10:00:00.123456+00:00",
        ),
        Backend::Postgres => (
            "SELECT to_char(\"LockoutEnd\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS text \
             FROM \"AspNetUsers\" WHERE \"UserName\" = 'Ann.Example'",
            "2026-11-26 10:00:00.123456",
        ),
    };
    let mut connection = establish(url).unwrap_or_else(|error| panic!("cannot connect: {error}"));
    let stored = diesel::sql_query(query).get_result::<Text>(&mut connection).expect("the lockout end").text;
    assert_eq!(stored, expected);
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// A custom user type, stored as JSON in `identity_user_extensions`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Profile {
    /// A display name.
    pub(crate) display_name: String,
    /// Whether the account is disabled.
    pub(crate) disabled: bool,
}

/// Extension rows exist exactly when the extension serializes to something other than `null`,
/// follow updates, and go with their user.
pub(crate) async fn extension_rows_follow_the_json(database: Migrated) {
    let url = &database.url;
    const EXTENSION_ROWS: &str = "SELECT count(*) AS n FROM identity_user_extensions";
    let plain = manager(store::<()>(url).await);
    assert_success(&plain.create(&mut IdentityUser::new("no.extension")).await.expect("create"));
    assert_eq!(count(url, EXTENSION_ROWS), 0);

    let store = store::<Option<Profile>>(url).await;
    let profiles = manager(Arc::clone(&store));
    let mut user = IdentityUser::<Option<Profile>>::new("with.extension");
    user.extra = Some(Profile { display_name: "Ann \"the\" Example ✓".to_owned(), disabled: true });
    assert_success(&profiles.create(&mut user).await.expect("create"));
    assert_eq!(count(url, EXTENSION_ROWS), 1);
    assert_eq!(store.find_by_id(&user.id).await.expect("find").expect("exists").extra, user.extra);
    // Users written without an extension read back with the default.
    let other = store.find_by_name("NO.EXTENSION").await.expect("find").expect("exists");
    assert_eq!(other.extra, None);

    user.extra = None;
    assert_success(&profiles.update(&mut user).await.expect("update"));
    assert_eq!(count(url, EXTENSION_ROWS), 0);
    user.extra = Some(Profile { display_name: "Back".to_owned(), disabled: false });
    assert_success(&profiles.update(&mut user).await.expect("update"));
    assert_eq!(store.find_by_id(&user.id).await.expect("find").expect("exists").extra, user.extra);
    assert_success(&profiles.delete(&user).await.expect("delete"));
    assert_eq!(count(url, EXTENSION_ROWS), 0);
}

/// The bulk load returns the user, its claims, its roles and their claims.
pub(crate) async fn claims_data_has_roles_and_role_claims(database: Migrated) {
    let url = &database.url;
    let store = store::<()>(url).await;
    let users = manager(Arc::clone(&store));
    let roles = RoleManager::new(Arc::clone(&store) as Arc<dyn identity_core::store::RoleStore>);
    let mut admin = IdentityRole::new("Admin");
    let mut reader = IdentityRole::new("Reader");
    for role in [&mut admin, &mut reader] {
        assert_success(&roles.create(role).await.expect("create role"));
    }
    assert_success(&roles.add_claim(&mut admin, &StoredClaim::new("permission", "all")).await.expect("role claim"));
    assert_success(&roles.add_claim(&mut admin, &StoredClaim::new("permission", "audit")).await.expect("role claim"));
    let mut user = IdentityUser::new("claims.data");
    assert_success(&users.create(&mut user).await.expect("create"));
    assert_success(&users.add_claim(&mut user, StoredClaim::new("name", "Claims Data")).await.expect("claim"));
    assert_success(&users.add_to_roles(&mut user, &["Admin", "Reader"]).await.expect("roles"));

    let data = store.load_claims_data(&user.id).await.expect("load").expect("user exists");
    assert_eq!(data.user, user);
    assert_eq!(data.claims, [StoredClaim::new("name", "Claims Data")]);
    let loaded: Vec<_> = data.roles.iter().map(|r| (r.role.name.clone(), r.claims.clone())).collect();
    assert_eq!(
        loaded,
        [
            (
                Some("Admin".to_owned()),
                vec![StoredClaim::new("permission", "all"), StoredClaim::new("permission", "audit")]
            ),
            (Some("Reader".to_owned()), vec![]),
        ]
    );
    assert!(store.load_claims_data("no such user").await.expect("load").is_none());
}

fn passkey(credential_id: &[u8], name: &str) -> UserPasskeyInfo {
    UserPasskeyInfo {
        credential_id: credential_id.to_vec(),
        public_key: vec![0x04, 0xff, 0x00],
        name: Some(name.to_owned()),
        created_at: lockout_end(),
        sign_count: 1,
        transports: Some(vec!["usb".to_owned(), "nfc".to_owned()]),
        is_user_verified: false,
        is_backup_eligible: true,
        is_backed_up: false,
        attestation_object: vec![1, 2, 3],
        client_data_json: br#"{"type":"webauthn.create"}"#.to_vec(),
        aaguid: Some("00000000-0000-0000-0000-000000000000".to_owned()),
    }
}

/// Passkeys round-trip through the `Data` document; re-adding a credential changes only its
/// mutable fields; deleting the user removes them.
pub(crate) async fn passkeys_round_trip(database: Migrated) {
    let url = &database.url;
    let store = store::<()>(url).await;
    let manager = manager(Arc::clone(&store));
    let mut user = IdentityUser::new("passkey.owner");
    assert_success(&manager.create(&mut user).await.expect("create"));
    let first = passkey(&[1, 2, 3, 4], "laptop");
    let second = passkey(&[9; 64], "phone");
    for key in [&first, &second] {
        assert_success(&manager.add_or_update_passkey(&mut user, key).await.expect("add"));
    }
    let mut listed = manager.get_passkeys(&user).await.expect("list");
    listed.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
    assert_eq!(listed, [first.clone(), second.clone()]);

    let mut changed = passkey(&first.credential_id, "renamed");
    changed.sign_count = 42;
    changed.is_user_verified = true;
    changed.is_backed_up = true;
    changed.public_key = vec![0xee];
    changed.transports = None;
    assert_success(&manager.add_or_update_passkey(&mut user, &changed).await.expect("update"));
    let mut expected = first.clone();
    expected.name = Some("renamed".to_owned());
    expected.sign_count = 42;
    expected.is_user_verified = true;
    expected.is_backed_up = true;
    assert_eq!(manager.get_passkey(&user, &first.credential_id).await.expect("find"), Some(expected));
    let owner =
        store.passkey_store().expect("passkeys").find_by_passkey_id(&second.credential_id).await.expect("owner");
    assert_eq!(owner.map(|owner| owner.id), Some(user.id.clone()));

    let current = store.find_by_id(&user.id).await.expect("find").expect("exists");
    assert_success(&manager.delete(&current).await.expect("delete"));
    assert_eq!(count(url, "SELECT count(*) AS n FROM \"AspNetUserPasskeys\""), 0);
}

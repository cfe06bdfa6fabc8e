//! What only SQLite has: EF Core's SQLite schema and a real .NET-written database (left
//! untouched by the migrations, read and written in .NET's formats, signing in with .NET
//! password hashes), the fresh-database bootstrap, and database URLs.

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use identity_core::store::{Capability, UserStore};
use identity_core::{Error, ManualClock, SignInManager, SignInResult, StoredClaim, UserManager};
use identity_diesel::{
    AnyConnection, Database, DatabaseError, DatabaseUrl, DieselStore, DieselStoreError, IdentityMigrations as _,
    IdentitySchema, establish,
};
use std::path::Path;
use std::sync::Arc;
use test_support::fixtures::{fixture, fixture_text};
use test_support::{Backend, TestDatabase};

use crate::Migrated;
use crate::scenarios::{PASSWORD, count, write_user_through_the_manager};

fn connect(url: &DatabaseUrl) -> AnyConnection {
    establish(url).unwrap_or_else(|error| panic!("cannot open {url}: {error}"))
}

/// A database file with EF Core's SQLite Identity schema, as a .NET application leaves it.
fn ef_core_database(dir: &Path) -> Option<DatabaseUrl> {
    let ddl = fixture_text("efcore-identity-sqlite.sql")?;
    let url = DatabaseUrl::sqlite(dir.join("efcore.db"));
    connect(&url).batch_execute(&ddl).expect("the EF Core fixture loads");
    Some(url)
}

#[derive(Debug, PartialEq, QueryableByName)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

/// Every schema object except this crate's own (`identity_…`, Diesel's migration table).
fn foreign_schema(url: &DatabaseUrl) -> Vec<SchemaObject> {
    diesel::sql_query(
        "SELECT type AS kind, name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'identity%' AND tbl_name NOT IN ('identity_user_extensions', '__diesel_schema_migrations') \
         ORDER BY name",
    )
    .load(&mut connect(url))
    .expect("schema")
}

#[derive(Debug, PartialEq, QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

fn columns(url: &DatabaseUrl, table: &str) -> Vec<Column> {
    diesel::sql_query(format!("SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid"))
        .load(&mut connect(url))
        .expect("table info")
}

#[derive(Debug, PartialEq, QueryableByName)]
struct RawUser {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    normalized_user_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    lockout_end: Option<String>,
    #[diesel(sql_type = Integer)]
    lockout_enabled: i32,
    #[diesel(sql_type = Integer)]
    email_confirmed: i32,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
}

/// The raw columns of a user, as text and integers.
fn raw_user(url: &DatabaseUrl, user_name: &str) -> RawUser {
    diesel::sql_query(format!(
        "SELECT \"Id\" AS id, \"NormalizedUserName\" AS normalized_user_name, \"LockoutEnd\" AS lockout_end, \
         \"LockoutEnabled\" AS lockout_enabled, \"EmailConfirmed\" AS email_confirmed, \"PasswordHash\" AS password_hash \
         FROM \"AspNetUsers\" WHERE \"UserName\" = '{user_name}'"
    ))
    .get_result(&mut connect(url))
    .expect("raw user")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ef_core_schema_is_left_untouched_and_written_in_dotnet_formats() {
    let database = TestDatabase::sqlite();
    let dir = database.dir();
    let Some(url) = ef_core_database(dir) else { return };
    let before = foreign_schema(&url);
    let db = crate::migrate(&url).await;
    assert_eq!(foreign_schema(&url), before, "migrations must not touch EF Core's objects");
    assert!(!before.iter().any(|object| object.name == "AspNetUserPasskeys"));
    assert!(db.run_migrations().await.expect("second run").is_empty(), "nothing left to apply");
    let status = db.migration_status().await.expect("status");
    assert_eq!(status.identity_schema, IdentitySchema::WithoutPasskeys);
    assert!(status.pending.is_empty());

    let store = DieselStore::<()>::new(db).await.expect("store");
    assert!(!store.supports_passkeys() && store.passkey_store().is_none());

    let user = write_user_through_the_manager(&url).await;
    let raw = raw_user(&url, "Ann.Example");
    assert_eq!(raw.id, user.id);
    assert_eq!(raw.normalized_user_name.as_deref(), Some("ANN.EXAMPLE"));
    assert_eq!(raw.lockout_end.as_deref(), Some("2026-11-26 10:00:00.123456+00:00"));
    assert_eq!((raw.lockout_enabled, raw.email_confirmed), (1, 0));
    assert!(raw.password_hash.is_some_and(|hash| hash.starts_with("$argon2id$")));
    #[derive(QueryableByName)]
    struct RawClaim {
        #[diesel(sql_type = Text)]
        claim_type: String,
        #[diesel(sql_type = Text)]
        claim_value: String,
    }
    let claims: Vec<RawClaim> = diesel::sql_query(format!(
        "SELECT \"ClaimType\" AS claim_type, \"ClaimValue\" AS claim_value FROM \"AspNetUserClaims\" WHERE \"UserId\" = '{}' ORDER BY \"Id\"",
        user.id
    ))
    .load(&mut connect(&url))
    .expect("claims");
    let claims: Vec<_> = claims.into_iter().map(|c| (c.claim_type, c.claim_value)).collect();
    assert_eq!(
        claims,
        [("given_name".to_owned(), "Ann".to_owned()), ("website".to_owned(), "https://ann.example".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_database_gets_ef_core_schema_version_3() {
    let Migrated { url, db, database } = crate::migrated(Backend::Sqlite).await;
    let dir = database.dir();
    let status = db.migration_status().await.expect("status");
    assert_eq!(status.identity_schema, IdentitySchema::WithPasskeys);
    assert_eq!(status.applied.len(), 1);
    assert!(status.pending.is_empty());
    assert!(DieselStore::<()>::new(db.clone()).await.expect("store").supports_passkeys());

    // Every table EF Core's version 1 has, column for column, and the same indexes by name.
    if let Some(ef_core) = ef_core_database(dir) {
        for table in [
            "AspNetRoles",
            "AspNetUsers",
            "AspNetRoleClaims",
            "AspNetUserClaims",
            "AspNetUserLogins",
            "AspNetUserRoles",
            "AspNetUserTokens",
        ] {
            assert_eq!(columns(&url, table), columns(&ef_core, table), "{table}");
        }
        let ef_names: Vec<String> = foreign_schema(&ef_core)
            .into_iter()
            .filter(|o| !o.name.contains("EFMigrationsHistory"))
            .map(|o| o.name)
            .collect();
        let names: Vec<String> = foreign_schema(&url).into_iter().map(|o| o.name).collect();
        for name in &ef_names {
            assert!(names.contains(name), "{name} missing from the bootstrapped schema");
        }
    }
    let passkeys: Vec<_> =
        columns(&url, "AspNetUserPasskeys").into_iter().map(|c| (c.name, c.r#type, c.notnull, c.pk)).collect();
    assert_eq!(
        passkeys,
        [
            ("CredentialId".to_owned(), "BLOB".to_owned(), 1, 1),
            ("UserId".to_owned(), "TEXT".to_owned(), 1, 0),
            ("Data".to_owned(), "TEXT".to_owned(), 1, 0)
        ]
    );

    // Reverting removes only this crate's objects; applying again restores them.
    let reverted = db.revert_last_migration().await.expect("revert").expect("a migration to revert");
    assert_eq!(db.pending_migrations().await.expect("pending"), std::slice::from_ref(&reverted));
    assert_eq!(count(&url, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'identity_user_extensions'"), 0);
    assert_eq!(count(&url, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'AspNetUsers'"), 1);
    assert!(
        matches!(DieselStore::<()>::new(db.clone()).await, Err(DieselStoreError::Config(_))),
        "pending migrations are refused"
    );
    assert_eq!(db.revert_last_migration().await.expect("revert"), None);
    assert_eq!(db.run_migrations().await.expect("migrate"), [reverted]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotnet_database_signs_in_with_its_hashes_and_upgrades_them() {
    let Some(fixture) = fixture("isaspid-template-users.db") else { return };
    let database = TestDatabase::sqlite();
    let dir = database.dir();
    let path = dir.join("users.db");
    std::fs::copy(&fixture, &path).expect("copy the fixture");
    let url = DatabaseUrl::sqlite(&path);
    let before = foreign_schema(&url);
    let db = crate::migrate(&url).await;
    assert_eq!(foreign_schema(&url), before, "the .NET schema (version 1) is left as it is");

    let store = Arc::new(DieselStore::<()>::new(db).await.expect("store"));
    // An hour before the lockout end written below, so "locked out" does not depend on today's date.
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()));
    let manager = Arc::new(UserManager::builder(store.clone()).clock(clock).build());
    let sign_in = SignInManager::new(Arc::clone(&manager));
    assert!(!manager.supports_user_passkey());

    for (name, full_name, website, extra) in [
        ("alice", "Alice Smith", "http://alice.com", None),
        ("bob", "Bob Smith", "http://bob.com", Some(StoredClaim::new("location", "somewhere"))),
    ] {
        let mut user = manager.find_by_name(name).await.expect("find").unwrap_or_else(|| panic!("{name} exists"));
        assert!(user.password_hash.as_deref().is_some_and(|hash| hash.starts_with("AQAAAAEAACcQ")), "a .NET V3 hash");
        let result = sign_in.check_password_sign_in(&mut user, PASSWORD, true).await.expect("sign in");
        assert_eq!(result, SignInResult::Success, "{name}");
        let stored = manager.find_by_name(name).await.expect("find").expect("exists");
        assert!(
            stored.password_hash.as_deref().is_some_and(|hash| hash.starts_with("$argon2id$")),
            "{name}'s hash is upgraded"
        );
        assert_eq!(stored, user);
        let mut again = stored.clone();
        assert_eq!(
            sign_in.check_password_sign_in(&mut again, PASSWORD, true).await.expect("sign in"),
            SignInResult::Success
        );

        let first_name = full_name.split(' ').next().unwrap_or_default();
        let mut expected = vec![
            StoredClaim::new("name", full_name),
            StoredClaim::new("given_name", first_name),
            StoredClaim::new("family_name", "Smith"),
            StoredClaim::new("website", website),
        ];
        expected.extend(extra);
        assert_eq!(manager.get_claims(&stored).await.expect("claims"), expected);
        assert!(matches!(manager.get_passkeys(&stored).await, Err(Error::NotSupported(Capability::Passkeys))));
    }

    // A lockout end as EF Core writes it, with an offset, reads back as the same instant.
    connect(&url)
        .batch_execute("UPDATE \"AspNetUsers\" SET \"LockoutEnd\" = '2026-11-26 10:00:00.1234567+01:00' WHERE \"UserName\" = 'bob'")
        .expect("raw update");
    let mut bob = manager.find_by_name("bob").await.expect("find").expect("exists");
    let expected = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap() + chrono::Duration::nanoseconds(123_456_700);
    assert_eq!(bob.lockout_end, Some(expected));
    assert!(manager.is_locked_out(&bob).await.expect("locked out"));
    let next_year = Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(500);
    assert!(manager.set_lockout_end_date(&mut bob, Some(next_year)).await.expect("lockout").succeeded());
    assert_eq!(raw_user(&url, "bob").lockout_end.as_deref(), Some("2027-01-02 03:04:05.5+00:00"));
}

#[tokio::test]
async fn database_urls_are_checked_before_anything_is_created() {
    let database = TestDatabase::sqlite();
    let dir = database.dir();
    let bare = dir.join("bare.db");
    for url in
        [bare.display().to_string(), "postgress://localhost/identity".to_owned(), format!("sqlite:{}", bare.display())]
    {
        match Database::connect(&url).await {
            Err(DatabaseError::InvalidUrl { .. }) => {}
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }
    assert!(!bare.exists(), "no SQLite file is created for a rejected URL");
    let missing_dir = format!("sqlite://{}/missing/identity.db", dir.display());
    match Database::connect(&missing_dir).await {
        Err(error @ DatabaseError::Connection(_)) => {
            assert!(matches!(Error::from(DieselStoreError::from(error)), Error::Unavailable(_)))
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    let created = dir.join("created.db");
    Database::connect(&format!("sqlite://{}", created.display())).await.expect("an absolute sqlite:// URL");
    assert!(created.exists());
}

/// Password hashes (and a host's signing keys) live in the file: only its owner may read it.
#[cfg(unix)]
#[tokio::test]
async fn new_database_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let database = TestDatabase::sqlite();
    let dir = database.dir();
    let path = dir.join("private.db");
    let db = Database::connect(&format!("sqlite://{}", path.display())).await.expect("connects");
    db.run_migrations().await.expect("migrates");
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file).unwrap_or_else(|error| panic!("{file}: {error}")).permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

//! What only PostgreSQL has: EF Core's Npgsql schema left untouched by the migrations and
//! written in .NET's formats, and the fresh-database bootstrap.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use identity_core::store::UserStore;
use identity_diesel::{AnyConnection, DatabaseUrl, DieselStore, IdentityMigrations as _, IdentitySchema, establish};
use test_support::fixtures::fixture_text;
use test_support::{Backend, TestDatabase};

use crate::Migrated;
use crate::scenarios::{count, write_user_through_the_manager};

fn connect(url: &DatabaseUrl) -> AnyConnection {
    establish(url).unwrap_or_else(|error| panic!("cannot open {url}: {error}"))
}

#[derive(Debug, PartialEq, QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Columns, indexes and constraints of every table except this crate's own, one line each.
fn foreign_schema(url: &DatabaseUrl) -> Vec<String> {
    let lines: Vec<Line> = diesel::sql_query(
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type \
                || coalesce('(' || character_maximum_length || ')', '') || ' nullable=' || is_nullable \
                || ' identity=' || is_identity || ' default=' || coalesce(column_default, '') AS line \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT IN ('identity_user_extensions', '__diesel_schema_migrations') \
         UNION ALL \
         SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename NOT IN ('identity_user_extensions', '__diesel_schema_migrations') \
           AND indexname NOT LIKE 'identity%' \
         UNION ALL \
         SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE connamespace = current_schema()::regnamespace \
           AND conrelid::regclass::text NOT IN ('identity_user_extensions', '__diesel_schema_migrations') \
         ORDER BY 1",
    )
    .load(&mut connect(url))
    .expect("schema");
    lines.into_iter().map(|line| line.line).collect()
}

/// A test database holding EF Core's Npgsql Identity schema, as a .NET application leaves it.
fn ef_core_database() -> Option<(TestDatabase, DatabaseUrl)> {
    let ddl = fixture_text("efcore-identity-postgres.sql")?;
    let database = TestDatabase::postgres();
    let url = DatabaseUrl::parse(database.url()).unwrap_or_else(|error| panic!("{error}"));
    connect(&url).batch_execute(&ddl).expect("the EF Core fixture loads");
    Some((database, url))
}

#[derive(Debug, PartialEq, QueryableByName)]
struct RawUser {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    normalized_user_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    lockout_end_utc: Option<String>,
    #[diesel(sql_type = Integer)]
    lockout_enabled: i32,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
}

fn raw_user(url: &DatabaseUrl, user_name: &str) -> RawUser {
    diesel::sql_query(format!(
        "SELECT \"Id\" AS id, \"NormalizedUserName\" AS normalized_user_name, \
                to_char(\"LockoutEnd\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS lockout_end_utc, \
                \"LockoutEnabled\"::integer AS lockout_enabled, \"PasswordHash\" AS password_hash \
         FROM \"AspNetUsers\" WHERE \"UserName\" = '{user_name}'"
    ))
    .get_result(&mut connect(url))
    .expect("raw user")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ef_core_schema_is_left_untouched_and_written_in_dotnet_formats() {
    let Some((_database, url)) = ef_core_database() else { return };
    let before = foreign_schema(&url);
    assert!(before.iter().any(|line| line.contains("AspNetUsers.LockoutEnd timestamp with time zone")), "{before:#?}");
    let db = crate::migrate(&url).await;
    assert_eq!(foreign_schema(&url), before, "migrations must not touch EF Core's objects");
    assert!(db.run_migrations().await.expect("second run").is_empty());
    let status = db.migration_status().await.expect("status");
    assert_eq!(status.identity_schema, IdentitySchema::WithoutPasskeys);
    assert!(DieselStore::<()>::new(db).await.expect("store").passkey_store().is_none());

    let user = write_user_through_the_manager(&url).await;
    let raw = raw_user(&url, "Ann.Example");
    assert_eq!(raw.id, user.id);
    assert_eq!(raw.normalized_user_name.as_deref(), Some("ANN.EXAMPLE"));
    assert_eq!(raw.lockout_end_utc.as_deref(), Some("2026-11-26 10:00:00.123456"));
    assert_eq!(raw.lockout_enabled, 1);
    assert!(raw.password_hash.is_some_and(|hash| hash.starts_with("$argon2id$")));
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) AS n FROM \"AspNetUserClaims\" WHERE \"UserId\" = '{}' AND \"ClaimType\" = 'website'",
                user.id
            )
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_database_gets_ef_core_schema_version_3() {
    let Migrated { url, db, database: _database } = crate::migrated(Backend::Postgres).await;
    let status = db.migration_status().await.expect("status");
    assert_eq!(status.identity_schema, IdentitySchema::WithPasskeys);
    assert!(status.pending.is_empty());
    let schema = foreign_schema(&url);
    for expected in [
        "column AspNetUserPasskeys.CredentialId bytea nullable=NO",
        "column AspNetUserPasskeys.Data jsonb nullable=NO",
        "column AspNetUsers.PhoneNumber character varying(256) nullable=YES",
        "column AspNetUserLogins.ProviderKey character varying(128) nullable=NO",
        "column AspNetUserClaims.Id integer nullable=NO identity=YES",
        "index UserNameIndex: CREATE UNIQUE INDEX \"UserNameIndex\" ON public.\"AspNetUsers\" USING btree (\"NormalizedUserName\")",
    ] {
        assert!(schema.iter().any(|line| line.starts_with(expected)), "missing `{expected}` in {schema:#?}");
    }
    // Version 1's tables, as EF Core made them, apart from version 2's lengths.
    if let Some((_ef_database, ef_url)) = ef_core_database() {
        let without_lengths = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .filter(|line| !line.contains("EFMigrationsHistory") && !line.contains("AspNetUserPasskeys"))
                .map(|line| line.replace("character varying(256)", "text").replace("character varying(128)", "text"))
                .collect()
        };
        assert_eq!(without_lengths(schema), without_lengths(foreign_schema(&ef_url)));
    }

    let reverted = db.revert_last_migration().await.expect("revert").expect("a migration to revert");
    assert_eq!(db.pending_migrations().await.expect("pending"), std::slice::from_ref(&reverted));
    assert_eq!(db.run_migrations().await.expect("migrate"), [reverted]);
}

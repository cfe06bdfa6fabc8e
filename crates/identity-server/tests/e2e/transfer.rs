//! `users export` and `users import` through the real binary: the users and roles of a SQLite
//! database, moved into an empty database of each backend, keep their ids, stamps, claims and
//! roles, sign in there with their original passwords, and a second import changes nothing;
//! a malformed, foreign or truncated file is refused with the line that is wrong; the export
//! file is private.

use test_support::Backend;

use crate::support::{TestEnv, field};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::transfer,
    cases: [
        users_moved_from_sqlite_sign_in_with_their_password_and_keep_their_claims,
        imports_refuse_bad_lines_by_number_and_import_the_rest,
        the_export_file_is_private_and_never_written_through_a_link,
    ],
}

pub(crate) async fn users_moved_from_sqlite_sign_in_with_their_password_and_keep_their_claims(target: TestEnv) {
    let source = crate::support::env(Backend::Sqlite).await;
    source.cli(&["roles", "create", "auditor"]).ok();
    let alice_id = source.create_user("alice", &["--email", "alice@example.com", "--email-confirmed"]);
    source.cli(&["users", "add-claim", "alice", "name=Alice Smith"]).ok();
    source.cli(&["users", "add-role", "alice", "auditor"]).ok();
    source.create_user("bob", &[]);
    let file = source.dir().join("users.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    source.cli(&["users", "export", "--output", file]).ok();
    let alice_before = source.show_user("alice");

    target.cli(&["migrate", "up"]).ok();
    let summary = target.cli(&["users", "import", file]).ok();
    assert!(summary.contains("imported 3 records: 3 created, 0 skipped, 0 failed"), "{summary}");
    let alice_after = target.show_user("alice");
    assert_eq!(alice_after, alice_before, "every field, role and claim as it was");
    assert_eq!(field(&alice_after, "id"), alice_id);
    let again = target.cli(&["users", "import", file]).ok();
    assert!(again.contains("imported 3 records: 0 created, 3 skipped, 0 failed"), "{again}");
    assert_eq!(target.show_user("alice"), alice_before, "a second import changes nothing");

    let server = target.serve(&[]);
    let (access_token, _) = server.password_grant("alice", &["openid", "profile"]).await;
    let userinfo = server.get("/connect/userinfo", Some(&access_token)).await.ok_json();
    assert_eq!(userinfo["sub"], alice_id.as_str());
    assert_eq!(userinfo["name"], "Alice Smith");
    server.password_grant("bob", &["openid"]).await;
}

pub(crate) async fn imports_refuse_bad_lines_by_number_and_import_the_rest(target: TestEnv) {
    let source = crate::support::env(Backend::Sqlite).await;
    source.create_user("carol", &[]);
    let exported = source.cli(&["users", "export"]).ok();
    let mut lines = exported.lines();
    let header = lines.next().expect("a header line");
    let carol = lines.next().expect("carol's line");

    target.cli(&["migrate", "up"]).ok();
    let foreign = target.write_file("foreign.jsonl", "{\"format\":\"something-else\",\"version\":1}\n");
    target.cli(&["users", "import", foreign.to_str().expect("UTF-8")]).fails_with("not the header of a users export");

    // Cut short (no end line): what it holds is imported, and the import says it is incomplete.
    let truncated = target.write_file("truncated.jsonl", &format!("{header}\n{carol}\n"));
    target.cli(&["users", "import", truncated.to_str().expect("UTF-8")]).fails_with("incomplete");
    assert_eq!(field(&target.show_user("carol"), "user_name"), "carol");

    let end = "{\"end\":{\"roles\":0,\"users\":3}}";
    let mixed =
        target.write_file("mixed.jsonl", &format!("{header}\n{{\"user\":{{\"id\":42}}}}\nnot json\n{carol}\n{end}\n"));
    let run = target.cli(&["users", "import", mixed.to_str().expect("UTF-8")]);
    assert!(!run.success, "an import with failures exits non-zero: {run:#?}");
    assert!(run.stdout.contains("0 created, 1 skipped, 2 failed"), "{run:#?}");
    assert!(run.stdout.contains("line 2") && run.stdout.contains("line 3"), "{run:#?}");
}

pub(crate) async fn the_export_file_is_private_and_never_written_through_a_link(env: TestEnv) {
    use std::os::unix::fs::PermissionsExt as _;
    env.create_user("dave", &[]);
    let existing = env.write_file("existing.jsonl", "old content\n");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.cli(&["users", "export", "--output", existing.to_str().expect("UTF-8")]).ok();
    let metadata = std::fs::metadata(&existing).expect("the export exists");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "an existing file is made private");
    let content = std::fs::read_to_string(&existing).expect("readable");
    assert!(!content.contains("old content") && content.lines().count() == 3, "{content}");

    let link = env.dir().join("link.jsonl");
    let target = env.write_file("elsewhere.txt", "not to be overwritten\n");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    env.cli(&["users", "export", "--output", link.to_str().expect("UTF-8")]).fails_with("symbolic link");
    assert_eq!(std::fs::read_to_string(&target).expect("readable"), "not to be overwritten\n");
}

/// The PostgreSQL query of the migration guide, run with `psql` exactly as the guide says, on
/// EF Core's tables (created by this server's migrations, which match EF Core's DDL) writes a
/// file that `users import` reads back into the same users.
#[cfg(feature = "postgres-tests")]
#[tokio::test]
async fn the_guides_postgresql_query_writes_a_file_the_import_reads() {
    let source = crate::support::env(Backend::Postgres).await;
    source.cli(&["roles", "create", "auditor"]).ok();
    source.create_user("alice", &["--email", "alice@example.com", "--email-confirmed"]);
    source.cli(&["users", "add-claim", "alice", "name=Alice Smith"]).ok();
    source.cli(&["users", "add-role", "alice", "auditor"]).ok();
    source.create_user("bob", &[]);
    let query = source.write_file("export.sql", &guide_postgresql_query());
    let file = source.dir().join("users.jsonl");
    let status = std::process::Command::new("psql")
        .env("PGCLIENTENCODING", "UTF8")
        .args(["--no-psqlrc", "--tuples-only", "--no-align", "--quiet", "-v", "ON_ERROR_STOP=1"])
        .args(["-v", "FETCH_COUNT=10000", "--file"])
        .arg(&query)
        .arg("--output")
        .arg(&file)
        .arg(source.database_url())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {status}");

    let target = crate::support::env(Backend::Sqlite).await;
    target.cli(&["migrate", "up"]).ok();
    let summary = target.cli(&["users", "import", file.to_str().expect("UTF-8")]).ok();
    assert!(summary.contains("imported 3 records: 3 created, 0 skipped, 0 failed"), "{summary}");
    for user in ["alice", "bob"] {
        assert_eq!(target.show_user(user), source.show_user(user), "{user} as the query exported them");
    }
}

/// The SQL block under the guide's "PostgreSQL" heading.
#[cfg(feature = "postgres-tests")]
fn guide_postgresql_query() -> String {
    let guide = include_str!("../../../../docs/migrating-from-aspnet-identity.md");
    let section = guide.split("#### PostgreSQL").nth(1).expect("the guide has a PostgreSQL section");
    let block = section.split("```sql\n").nth(1).expect("with an SQL block");
    block.split("\n```").next().expect("that ends").to_owned()
}

//! The stores on SQLite: every case of `support::cases` on a fresh database file.

mod support;

use identity_diesel::DatabaseUrl;
use tempfile::TempDir;

/// A database file in a temporary directory, deleted with the directory.
fn sqlite_database() -> (TempDir, DatabaseUrl) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = DatabaseUrl::sqlite(directory.path().join("oidc.db"));
    (directory, url)
}

support::store_tests!(sqlite_database);

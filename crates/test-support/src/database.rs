//! Throwaway databases: [`TestDatabase`], the one place tests create and drop databases.

use std::path::{Path, PathBuf};

use diesel::{Connection as _, PgConnection, RunQueryDsl as _};

use crate::Backend;

/// The variable naming an administrative PostgreSQL connection URL, such as
/// `postgres://postgres@127.0.0.1:5432/postgres`; `cargo xtask test` sets it.
pub const POSTGRES_URL_VARIABLE: &str = "IDENTITY_TEST_POSTGRES_URL";

/// An empty database for one test: a SQLite file in a temporary directory, or a PostgreSQL
/// database named `test_<random>` on the server in [`POSTGRES_URL_VARIABLE`], dropped (with
/// any connections left) when the guard drops. Either way the test also gets a temporary
/// directory of its own ([`dir`](Self::dir)) for configuration files and logs.
#[derive(Debug)]
pub struct TestDatabase {
    dir: tempfile::TempDir,
    url: String,
    postgres: Option<PostgresDatabase>,
}

/// The PostgreSQL database to drop.
#[derive(Debug)]
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// An empty SQLite database file (not yet created) in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("identity.db").display());
        Self { dir, url, postgres: None }
    }

    /// A new, empty PostgreSQL database. Blocking; panics (rather than letting a test pass) when
    /// [`POSTGRES_URL_VARIABLE`] is unset or the server refuses.
    pub fn postgres() -> Self {
        let admin_url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VARIABLE} is not set: the `postgres-tests` feature needs a PostgreSQL server \
                 (for example postgres://postgres@127.0.0.1:5432/postgres); `cargo xtask test` provides one"
            )
        });
        Self::postgres_on(admin_url)
    }

    /// A new, empty PostgreSQL database on the server at `admin_url` (a cluster of the test's
    /// own, say). Blocking; panics when the server refuses.
    pub fn postgres_on(admin_url: String) -> Self {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("cannot connect to {admin_url}: {error}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .unwrap_or_else(|error| panic!("cannot create the database {name}: {error}"));
        let url = with_database(&admin_url, &name);
        let dir = tempfile::tempdir().expect("a temporary directory");
        Self { dir, url, postgres: Some(PostgresDatabase { admin_url, name }) }
    }

    /// A database of `backend`, created on a blocking thread. Panics for [`Backend::Memory`],
    /// which has no database.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => tokio::task::spawn_blocking(Self::postgres).await.expect("create the test database"),
            Backend::Memory => panic!("the in-memory backend has no database"),
        }
    }

    /// The database's URL (`sqlite://…` or `postgres://…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend of the database.
    pub fn backend(&self) -> Backend {
        if self.postgres.is_some() { Backend::Postgres } else { Backend::Sqlite }
    }

    /// The test's temporary directory (which holds the SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path for `name` in the test's temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(database) = &self.postgres else { return };
        let dropped =
            PgConnection::establish(&database.admin_url).map_err(|error| error.to_string()).and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", database.name))
                    .execute(&mut admin)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("warning: could not drop the test database {}: {error}", database.name);
        }
    }
}

/// `url` with its database name replaced by `database`, any query string kept.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or_else(|| panic!("{POSTGRES_URL_VARIABLE} is not a URL"));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map(|start| &tail[start..]).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgresql://u:p@h/db?sslmode=disable", "x"), "postgresql://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}

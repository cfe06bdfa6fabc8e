//! Every scenario on PostgreSQL: each test gets a database of its own, created on the server in
//! `IDENTITY_TEST_POSTGRES_URL` and dropped afterwards. With the `postgres-tests` feature on, a
//! missing variable fails the tests rather than skipping them.

use crate::support::TestEnv;
use diesel::{Connection as _, PgConnection, RunQueryDsl as _};

/// The variable naming an administrative connection URL.
const ADMIN_URL_VARIABLE: &str = "IDENTITY_TEST_POSTGRES_URL";

/// A database dropped (with its connections) when this guard drops.
struct Database {
    admin_url: String,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        let dropped =
            PgConnection::establish(&self.admin_url).map_err(|error| error.to_string()).and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                    .execute(&mut admin)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("warning: could not drop the test database {}: {error}", self.name);
        }
    }
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or_else(|| panic!("{ADMIN_URL_VARIABLE} is not a URL"));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map(|start| &tail[start..]).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// A fresh, empty PostgreSQL database.
pub(crate) async fn env() -> TestEnv {
    let admin_url = std::env::var(ADMIN_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ADMIN_URL_VARIABLE} is not set: the `postgres-tests` feature needs a PostgreSQL server \
             (for example postgres://postgres@127.0.0.1:5432/postgres); `cargo xtask test` provides one"
        )
    });
    let name = format!("identity_server_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url)
        .unwrap_or_else(|error| panic!("cannot connect to {ADMIN_URL_VARIABLE}: {error}"));
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .unwrap_or_else(|error| panic!("cannot create the database {name}: {error}"));
    let url = with_database(&admin_url, &name);
    let dir = tempfile::tempdir().expect("a temporary directory");
    TestEnv::new(dir, url, Box::new(Database { admin_url, name }))
}

crate::scenarios::backend_scenarios!(env);

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(with_database("postgresql://u:p@h/db?sslmode=disable", "x"), "postgresql://u:p@h/x?sslmode=disable");
}

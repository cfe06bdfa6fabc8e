//! PostgreSQL test databases: each test gets a database of its own, named `identity_test_…`,
//! created on the server in `IDENTITY_TEST_POSTGRES_URL` and dropped when the guard drops.
//! `cargo xtask test` sets the variable; without it these tests panic rather than pass.

use diesel::{Connection, PgConnection, RunQueryDsl};
use identity_diesel::{Database, DatabaseUrl, PoolOptions};

/// The variable naming an administrative connection URL.
const ADMIN_URL_VARIABLE: &str = "IDENTITY_TEST_POSTGRES_URL";

fn admin_url() -> String {
    std::env::var(ADMIN_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ADMIN_URL_VARIABLE} is not set: the `postgres-tests` feature needs a PostgreSQL server \
             (for example postgres://postgres@127.0.0.1:5432/postgres); run `cargo xtask test`, which provides one"
        )
    })
}

fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::establish(admin_url).unwrap_or_else(|error| panic!("cannot connect to {ADMIN_URL_VARIABLE}: {error}"))
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or_else(|| panic!("{ADMIN_URL_VARIABLE} is not a URL"));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map(|start| &tail[start..]).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// An empty database, dropped (with its connections) when this guard drops.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database. Blocking.
    pub(crate) fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("identity_test_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin_connection(&admin_url))
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = with_database(&admin_url, &name);
        Self { admin_url, name, url }
    }

    /// The database's URL.
    pub(crate) fn url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Opens a pool on the database and runs the migrations.
    pub(crate) async fn migrated(&self) -> Database {
        let db = Database::connect_with(self.url(), PoolOptions { max_size: 8, ..PoolOptions::default() })
            .await
            .unwrap_or_else(|error| panic!("cannot open {}: {error}", self.name));
        db.run_migrations().await.unwrap_or_else(|error| panic!("cannot migrate {}: {error}", self.name));
        db
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop_sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let dropped = match PgConnection::establish(&self.admin_url) {
            Ok(mut admin) => {
                diesel::sql_query(drop_sql).execute(&mut admin).map(drop).map_err(|error| error.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = dropped {
            eprintln!("warning: could not drop test database {}: {error}", self.name);
        }
    }
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(with_database("postgresql://u:p@h/db?sslmode=disable", "x"), "postgresql://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

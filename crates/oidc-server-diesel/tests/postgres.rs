//! The stores on PostgreSQL (feature `postgres-tests`): every case of `support::cases` on a
//! fresh database, created on the server in `IDENTITY_TEST_POSTGRES_URL` and dropped afterwards.
//! Without the variable these tests panic rather than pass.

mod support;

use diesel::{Connection, PgConnection, RunQueryDsl};
use identity_diesel::DatabaseUrl;

/// The variable naming an administrative connection URL, such as
/// `postgres://postgres@127.0.0.1:5432/postgres`.
const ADMIN_URL_VARIABLE: &str = "IDENTITY_TEST_POSTGRES_URL";

/// A database of one test, dropped (with any connections left) when the guard drops.
#[derive(Debug)]
struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    fn admin_connection(admin_url: &str) -> diesel::ConnectionResult<PgConnection> {
        PgConnection::establish(admin_url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped =
            Self::admin_connection(&self.admin_url).map_err(|error| error.to_string()).and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                    .execute(&mut admin)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("warning: could not drop the test database {}: {error}", self.name);
        }
    }
}

/// The admin URL pointed at the database `name`: the path after the host is replaced, any
/// query string kept.
fn database_url(admin_url: &str, name: &str) -> String {
    let (before_query, query) = admin_url.split_once('?').map_or((admin_url, None), |(url, query)| (url, Some(query)));
    let host_start = before_query.find("://").map_or(0, |scheme_end| scheme_end + 3);
    let server = match before_query[host_start..].find('/') {
        Some(path_start) => &before_query[..host_start + path_start],
        None => before_query,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Creates `oidc_test_<random>` on the server.
fn postgres_database() -> (TestDatabase, DatabaseUrl) {
    let admin_url = std::env::var(ADMIN_URL_VARIABLE).unwrap_or_else(|_| {
        panic!("{ADMIN_URL_VARIABLE} must name a PostgreSQL server for the `postgres-tests` feature")
    });
    let name = format!("oidc_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = TestDatabase::admin_connection(&admin_url)
        .unwrap_or_else(|error| panic!("cannot connect to {ADMIN_URL_VARIABLE}: {error}"));
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .unwrap_or_else(|error| panic!("cannot create the database {name}: {error}"));
    let url = DatabaseUrl::parse(&database_url(&admin_url, &name)).unwrap_or_else(|error| panic!("{error}"));
    (TestDatabase { admin_url, name }, url)
}

#[test]
fn database_urls_keep_the_server_and_query() {
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432/postgres", "t"),
        "postgres://postgres@127.0.0.1:5432/t"
    );
    assert_eq!(database_url("postgresql://u:p@db/x?sslmode=disable", "t"), "postgresql://u:p@db/t?sslmode=disable");
    assert_eq!(database_url("postgres://db", "t"), "postgres://db/t");
}

support::store_tests!(postgres_database);

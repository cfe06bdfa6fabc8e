//! What every crate's tests share, so a new test needs no infrastructure of its own:
//!
//! - [`TestDatabase`]: an empty SQLite file in a temporary directory, or a throwaway PostgreSQL
//!   database on the server in `IDENTITY_TEST_POSTGRES_URL`, dropped with the guard. It is the
//!   only place in the workspace that creates and drops test databases.
//! - [`backend_cases!`]: stamps one `#[tokio::test]` per case and backend, so a suite is listed
//!   once and every backend runs all of it.
//! - [`clock`]: the fixed instant tests start from, so no test depends on today's date.
//! - [`fixtures`]: the shared .NET fixtures, required under `CI=true`.
//! - [`http`]: the HTTP test client and response checks, for the in-process server and for the
//!   real binary alike.
//! - [`json`]: generated JSON documents for property tests.
//! - [`secrets`]: the secrets tests sent and received, for scanning server logs for leaks.

mod cases;
pub mod clock;
mod database;
pub mod fixtures;
pub mod http;
pub mod json;
pub mod secrets;

pub use cases::{Backend, CaseOutcome};
pub use database::{POSTGRES_URL_VARIABLE, TestDatabase};

//! End-to-end tests of the `identity-server` binary: each starts the real binary on an ephemeral
//! port, creates users with its administration commands and drives the token server with the
//! `openidconnect` and `oauth2` client crates (and raw `reqwest` for exact error shapes).
//!
//! The scenarios of [`scenarios`] run on SQLite always and on PostgreSQL with the
//! `postgres-tests` feature (which needs `IDENTITY_TEST_POSTGRES_URL`).

mod cli;
mod dotnet_database;
#[cfg(feature = "postgres-tests")]
mod postgres;
mod scenarios;
mod sqlite;
mod support;

//! End-to-end tests of the `identity-server` binary: each starts the real binary on an ephemeral
//! port, creates users with its administration commands and drives the token server with the
//! `openidconnect` and `oauth2` client crates (and raw `reqwest` for exact error shapes).
//!
//! The scenarios of [`scenarios`], [`interactive`] and [`security`] run on SQLite always and on
//! PostgreSQL with the `postgres-tests` feature (which needs `IDENTITY_TEST_POSTGRES_URL`). [`headless`] signs in
//! through the login page in headless Chromium. [`outage`] stops a PostgreSQL cluster of its own
//! under load (with `postgres-tests`); [`crash`] kills the server in the middle of writes;
//! [`hostile`] sends a table of hostile requests to every endpoint and page. Every server runs at `debug`, and its log is scanned for
//! the secrets the tests used when it stops ([`test_support::secrets`]).

mod account;
mod cli;
mod clients;
mod crash;
mod dotnet_database;
mod faults;
mod headless;
mod hostile;
mod instances;
mod interactive;
mod keys;
#[cfg(feature = "postgres-tests")]
mod outage;
mod proxy;
mod read_only;
mod registration;
mod scenarios;
mod security;
mod self_service;
mod sessions;
mod smtp_sink;
mod support;
mod tls;
mod transfer;
mod two_factor;

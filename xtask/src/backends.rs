//! The one-backend builds: `identity-server` (and with it `diesel-any`, `identity-diesel` and
//! `oidc-server-diesel`) built with only its `sqlite` feature links no libpq, and with only its
//! `postgres` feature no libsqlite3. The workspace's own test run enables everything, so without
//! these checks a feature that leaked (a workspace-wide Diesel feature, a dependency taken with
//! its default features) would go unnoticed.
//!
//! For each backend alone: the normal dependency tree must not contain the other backend's
//! client library, and the host must build (`cargo check`, no dev-dependencies). Then the host's
//! end-to-end tests run once on SQLite with the `sqlite` feature alone: the test build still
//! links libpq (its dev-dependencies open PostgreSQL connections, and Cargo unifies their
//! features), but every crate of the stack runs with its PostgreSQL half compiled out.

use crate::util::{cargo, command_output, phase, run_command};

/// Each backend feature, and the client library crate it must not pull in.
const BACKENDS: [(&str, &str); 2] = [("sqlite", "pq-sys"), ("postgres", "libsqlite3-sys")];

/// Runs the checks.
pub(crate) fn check() -> Result<(), String> {
    for (feature, foreign) in BACKENDS {
        phase(&format!("{feature}-only build"), || {
            let tree = command_output(
                cargo().args(["tree", "-p", "identity-server", "-e", "normal", "--prefix", "none"]).args([
                    "--no-default-features",
                    "--features",
                    feature,
                ]),
            )?;
            if let Some(line) = tree.lines().find(|line| line.starts_with(&format!("{foreign} "))) {
                return Err(format!("the {feature}-only build of identity-server depends on {line}"));
            }
            run_command(cargo().args([
                "check",
                "-p",
                "identity-server",
                "--no-default-features",
                "--features",
                feature,
            ]))
        })?;
    }
    phase("sqlite-only end-to-end tests", || {
        run_command(
            cargo()
                .args(["test", "-p", "identity-server", "--no-default-features", "--features", "sqlite"])
                .args(["--test", "e2e"]),
        )
    })
}

//! `cargo xtask test`: the tidy checks, then the whole test suite with every backend enabled,
//! then the benchmark harness once with `--quick` (against the binaries the tests built), then
//! the one-backend builds (`backends.rs`), then every fuzz target for a few seconds.
//!
//! PostgreSQL is found or started by [`crate::postgres::provide`]. Without one, the PostgreSQL
//! half is skipped with the reason printed, except under `CI=true`, where that is a failure.

use crate::backends;
use crate::bench;
use crate::fuzz;
use crate::postgres;
use crate::tidy;
use crate::util::{cargo, in_ci, phase, run_command};

/// Runs the checks and the tests; extra arguments go to `cargo test` after `--`.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    tidy::run_checks()?;
    let server = match phase("PostgreSQL", postgres::provide) {
        Ok(server) => Some(server),
        Err(reason) if in_ci() => return Err(format!("PostgreSQL is required under CI=true: {reason}")),
        Err(reason) => {
            eprintln!("xtask: WARNING: PostgreSQL tests skipped: {reason}");
            None
        }
    };
    let mut command = cargo();
    command.args(["test", "--workspace"]);
    match &server {
        Some(server) => {
            command.arg("--all-features").env("IDENTITY_TEST_POSTGRES_URL", &server.admin_url);
        }
        None => {
            command.env_remove("IDENTITY_TEST_POSTGRES_URL");
        }
    }
    if !extra.is_empty() {
        command.arg("--").args(extra);
    }
    let outcome = phase("tests", || run_command(&mut command)).and_then(|()| {
        let admin_url = server.as_ref().map(|server| server.admin_url.as_str());
        phase("bench --quick", || bench::run_quick(admin_url))
    });
    drop(server);
    outcome?;
    backends::check()?;
    fuzz::run_briefly()?;
    eprintln!("xtask: all tests passed");
    Ok(())
}

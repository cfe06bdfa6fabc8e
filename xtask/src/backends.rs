//! The one-backend builds: `identity-server` (and with it `diesel-any`, `identity-diesel` and
//! `oidc-server-diesel`) built with only its `sqlite` feature links no libpq, and with only its
//! `postgres` feature no libsqlite3. The workspace's own test run enables everything, so without
//! these checks a feature that leaked (a workspace-wide Diesel feature, a dependency taken with
//! its default features) would go unnoticed.
//!
//! For each backend alone: the normal dependency tree must not contain the other backend's
//! client library, and the host must build (`cargo check`, no dev-dependencies). Then the host's
//! end-to-end tests run once on SQLite with the `sqlite` feature alone, so the binary that users
//! of that build get is the one tested.

use std::process::Command;

use crate::util::{cargo, phase, run_command};

/// Each backend feature, and the client library crate it must not pull in.
const BACKENDS: [(&str, &str); 2] = [("sqlite", "pq-sys"), ("postgres", "libsqlite3-sys")];

/// Runs the checks.
pub(crate) fn check() -> Result<(), String> {
    for (feature, foreign) in BACKENDS {
        phase(&format!("{feature}-only build"), || {
            let tree =
                output(cargo().args(["tree", "-p", "identity-server", "-e", "normal", "--prefix", "none"]).args([
                    "--no-default-features",
                    "--features",
                    feature,
                ]))?;
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

/// The standard output of a command that must succeed.
fn output(command: &mut Command) -> Result<String, String> {
    eprintln!("xtask: running {command:?}");
    let output = command.output().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

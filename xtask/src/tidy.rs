//! Format, lint and architecture checks: rustfmt, clippy with `-D warnings`, then the
//! invariants of [`crate::invariants`] (which `cargo test` also runs as tests).

use crate::invariants;
use crate::util::{cargo, phase, run_command, workspace_root};

/// Runs every tidy check.
pub(crate) fn run_checks() -> Result<(), String> {
    phase("rustfmt", || run_command(cargo().args(["fmt", "--all", "--", "--check"])))?;
    phase("clippy", || {
        run_command(cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))
    })?;
    phase("architecture invariants", || {
        let root = workspace_root();
        invariants::check_dependency_edges(&root)?;
        invariants::check_sources(&root)
    })?;
    eprintln!("xtask: tidy checks passed");
    Ok(())
}

/// `cargo xtask tidy`.
pub(crate) fn run() -> Result<(), String> {
    run_checks()
}

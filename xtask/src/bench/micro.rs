//! `cargo xtask bench micro`: runs the criterion micro-benchmarks in release mode.

use crate::util::{cargo, run_command};

/// Runs `cargo bench` on the workspace with any extra arguments.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let mut command = cargo();
    command.args(["bench", "--workspace"]);
    if !extra.is_empty() {
        command.arg("--").args(extra);
    }
    run_command(&mut command)
}

//! Small helpers for running commands from the workspace root.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(PathBuf::from).unwrap_or(manifest_dir)
}

/// A `cargo` command (the same cargo that runs xtask) in the workspace root.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// Runs a command to completion, failing with its description when it does not succeed.
pub(crate) fn run_command(command: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {command:?}");
    let status = command.status().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{command:?} failed with {status}")) }
}

/// The standard output of a command that must succeed.
pub(crate) fn command_output(command: &mut Command) -> Result<String, String> {
    eprintln!("xtask: running {command:?}");
    let output = command.output().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

/// Whether `CI=true` (or any non-empty value other than `false`/`0`).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Runs one phase of a command and prints how long it took, whatever its outcome, so that a
/// slow phase shows in CI's log.
pub(crate) fn phase<T>(name: &str, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let started = std::time::Instant::now();
    let outcome = work();
    let verdict = if outcome.is_ok() { "took" } else { "failed after" };
    eprintln!("xtask: phase `{name}` {verdict} {:.1} s", started.elapsed().as_secs_f64());
    outcome
}

//! Format, lint and architecture checks: rustfmt, clippy with `-D warnings`, the forbidden
//! dependency edges between crates, and a `//!` doc at the top of every Rust file.

use crate::util::{cargo, output, phase, run_command, workspace_root};
use std::path::Path;

/// Normal (non-dev) dependency edges that must not exist: `(package, forbidden dependency, why)`.
const FORBIDDEN_EDGES: &[(&str, &str, &str)] = &[
    ("identity-core", "diesel", "the abstractions know nothing about SQL"),
    ("identity-core", "axum", "the abstractions know nothing about HTTP"),
    ("identity-claims", "identity-diesel", "the storage crate is swappable"),
    ("identity-claims", "diesel", "claims mapping does no SQL"),
    ("identity-oidc", "identity-diesel", "the storage crate is swappable"),
    ("identity-oidc", "diesel", "the adapter does no SQL"),
    ("oidc-server", "identity-core", "the token server knows nothing about identity stores"),
    ("oidc-server", "identity-claims", "the token server knows nothing about identity stores"),
    ("oidc-server", "identity-diesel", "the token server knows nothing about identity stores"),
    ("oidc-server", "identity-oidc", "the token server knows nothing about identity stores"),
    ("oidc-server", "diesel", "the token server's storage is behind its store traits"),
];

/// Runs every tidy check.
pub(crate) fn run_checks() -> Result<(), String> {
    phase("rustfmt", || run_command(cargo().args(["fmt", "--all", "--", "--check"])))?;
    phase("clippy", || {
        run_command(cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))
    })?;
    phase("layering and module docs", || {
        check_dependency_edges()?;
        check_module_docs()
    })?;
    eprintln!("xtask: tidy checks passed");
    Ok(())
}

/// `cargo xtask tidy`.
pub(crate) fn run() -> Result<(), String> {
    run_checks()
}

fn workspace_packages() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("crates");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

fn check_dependency_edges() -> Result<(), String> {
    let packages = workspace_packages()?;
    let mut violations = Vec::new();
    for (package, forbidden, why) in FORBIDDEN_EDGES {
        if !packages.iter().any(|p| p == package) {
            continue;
        }
        let tree = output(cargo().args(["tree", "-e", "normal", "--all-features", "-p", package, "--prefix", "none"]))?;
        let depends = tree.lines().skip(1).any(|line| line.split_whitespace().next() == Some(forbidden));
        if depends {
            violations.push(format!("{package} depends on {forbidden}: {why}"));
        }
    }
    if violations.is_empty() {
        eprintln!("xtask: layering holds ({} forbidden edges checked)", FORBIDDEN_EDGES.len());
        Ok(())
    } else {
        Err(format!("forbidden dependencies:\n  {}", violations.join("\n  ")))
    }
}

fn check_module_docs() -> Result<(), String> {
    let root = workspace_root();
    let mut missing = Vec::new();
    for top in ["crates", "tests", "xtask"] {
        collect_undocumented(&root.join(top), &mut missing)?;
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("Rust files without a leading `//!` module doc:\n  {}", missing.join("\n  ")))
    }
}

fn collect_undocumented(dir: &Path, missing: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                collect_undocumented(&path, missing)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if !source.trim_start().starts_with("//!") {
                missing.push(path.display().to_string());
            }
        }
    }
    Ok(())
}

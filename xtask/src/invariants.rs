//! The architecture invariants of `ARCHITECTURE.md` that a machine can check, by reading the
//! manifests and the sources only (no build, so the checks also run as plain `#[test]`s inside
//! `cargo test`, where cargo's build lock is held): forbidden dependency edges, SQL only in the
//! store crates, protocol error codes only where `oidc-server` defines them, `oidc-server`'s
//! router and facade (`server/`) imported by nothing below them, no direct reads of the wall
//! clock, test databases created only by `test-support`, a `//!` doc on every file, and
//! no source file over [`MAX_SOURCE_LINES`] lines outside its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a source file may have before its `#[cfg(test)]` module.
pub(crate) const MAX_SOURCE_LINES: usize = 700;

/// Dependencies a crate must not have, directly or through other crates of the workspace:
/// `(crate, forbidden dependencies, why)`.
const FORBIDDEN_EDGES: &[(&str, &[&str], &str)] = &[
    ("time-source", &WORKSPACE_CRATES, "the clock is the bottom leaf, under both halves of the stack"),
    ("throwaway-postgres", &WORKSPACE_CRATES, "xtask builds it before anything else, so it stays dependency-free"),
    (
        "identity-core",
        &["diesel", "diesel-any", "axum", "hyper", "reqwest", "oidc-server", "identity-claims", "identity-oidc"],
        "the abstractions know nothing about SQL, HTTP or OAuth",
    ),
    ("identity-conformance", &["diesel", "diesel-any", "identity-diesel", "axum"], "the suite runs on any store"),
    ("diesel-any", &["identity-core", "oidc-server", "axum"], "Diesel plumbing knows no model of either half"),
    ("identity-diesel", &["oidc-server", "oidc-server-diesel", "axum", "hyper"], "the identity store knows no OAuth"),
    ("identity-claims", &["identity-diesel", "diesel", "diesel-any", "oidc-server"], "the storage crate is swappable"),
    (
        "oidc-server",
        &["identity-core", "identity-claims", "identity-diesel", "identity-oidc", "diesel", "diesel-any"],
        "the token server knows nothing about identity stores; its storage is behind its store traits",
    ),
    (
        "oidc-server-diesel",
        &["identity-core", "identity-diesel", "identity-claims", "identity-oidc"],
        "the token server's store knows nothing about identity stores",
    ),
    ("identity-oidc", &["identity-diesel", "oidc-server-diesel", "diesel", "diesel-any"], "the storage is swappable"),
];

/// Every crate of the workspace, for rules that forbid them all.
const WORKSPACE_CRATES: [&str; 13] = [
    "time-source",
    "test-support",
    "throwaway-postgres",
    "diesel-any",
    "identity-core",
    "identity-conformance",
    "identity-diesel",
    "identity-claims",
    "oidc-server",
    "oidc-server-diesel",
    "identity-oidc",
    "identity-server",
    "xtask",
];

/// Crates no other crate may depend on outside its tests (test infrastructure and the host), with
/// the crates that may all the same: `(crate, allowed dependents)`.
const NEVER_A_NORMAL_DEPENDENCY: &[(&str, &[&str])] =
    &[("test-support", &[]), ("identity-server", &[]), ("xtask", &[]), ("throwaway-postgres", &["xtask"])];

/// Crates whose sources may contain SQL.
const STORE_CRATES: &[&str] = &["diesel-any", "identity-diesel", "oidc-server-diesel", "test-support"];

/// SQL statements as they start in a string literal.
const SQL_STARTS: &[&str] = &["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ALTER ", "PRAGMA "];

/// The file that defines the protocol's error codes; no other non-test source spells them.
const ERROR_CODES_FILE: &str = "crates/oidc-server/src/protocol/error.rs";

/// OAuth 2.0 and OpenID Connect error codes.
const ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "login_required",
    "consent_required",
    "interaction_required",
];

/// The one file allowed to read the wall clock.
const CLOCK_FILE: &str = "crates/time-source/src/lib.rs";

/// The one file allowed to create and drop test databases.
const TEST_DATABASE_FILE: &str = "crates/test-support/src/database.rs";

/// A workspace crate's manifest, as far as the checks need it.
#[derive(Debug)]
struct Manifest {
    /// Normal dependencies (not dev- or build-dependencies).
    dependencies: BTreeSet<String>,
}

/// Reads `crates/*/Cargo.toml`, `tests/Cargo.toml` and `xtask/Cargo.toml`, by package name.
fn manifests(root: &Path) -> Result<BTreeMap<String, Manifest>, String> {
    let mut paths = vec![root.join("tests/Cargo.toml"), root.join("xtask/Cargo.toml")];
    let crates = root.join("crates");
    for entry in std::fs::read_dir(&crates).map_err(|e| format!("cannot read {}: {e}", crates.display()))? {
        let manifest = entry.map_err(|e| e.to_string())?.path().join("Cargo.toml");
        if manifest.is_file() {
            paths.push(manifest);
        }
    }
    let mut manifests = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (name, manifest) = parse_manifest(&text).ok_or_else(|| format!("{}: no package name", path.display()))?;
        manifests.insert(name, manifest);
    }
    Ok(manifests)
}

/// The package name and normal dependencies of a manifest (the keys of its `[dependencies]`).
fn parse_manifest(text: &str) -> Option<(String, Manifest)> {
    let mut section = "";
    let mut name = None;
    let mut dependencies = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = line.split(['=', '.']).next().unwrap_or_default().trim();
        match section {
            "[package]" if key == "name" => {
                name = line.split('"').nth(1).map(str::to_owned);
            }
            "[dependencies]" => {
                dependencies.insert(key.to_owned());
            }
            _ => {}
        }
    }
    Some((name?, Manifest { dependencies }))
}

/// A crate's dependencies, direct and through other workspace crates.
fn closure(manifests: &BTreeMap<String, Manifest>, package: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = vec![package.to_owned()];
    while let Some(current) = pending.pop() {
        for dependency in manifests.get(&current).map(|m| &m.dependencies).into_iter().flatten() {
            if seen.insert(dependency.clone()) && manifests.contains_key(dependency) {
                pending.push(dependency.clone());
            }
        }
    }
    seen
}

/// Forbidden dependency edges, and test infrastructure or the host as a normal dependency.
pub(crate) fn check_dependency_edges(root: &Path) -> Result<(), String> {
    let manifests = manifests(root)?;
    let mut violations = Vec::new();
    for (package, forbidden, why) in FORBIDDEN_EDGES {
        if !manifests.contains_key(*package) {
            violations.push(format!("the rule for {package} names no crate of the workspace"));
            continue;
        }
        let dependencies = closure(&manifests, package);
        for dependency in forbidden.iter().filter(|forbidden| **forbidden != *package) {
            if dependencies.contains(*dependency) {
                violations.push(format!("{package} depends on {dependency}: {why}"));
            }
        }
    }
    for (package, manifest) in &manifests {
        let forbidden = NEVER_A_NORMAL_DEPENDENCY
            .iter()
            .filter(|(dependency, allowed)| {
                manifest.dependencies.contains(*dependency) && !allowed.contains(&package.as_str())
            })
            .map(|(dependency, _)| dependency);
        for dependency in forbidden {
            violations.push(format!("{package} depends on {dependency}, which only tests may use"));
        }
    }
    verdict(violations, "forbidden dependencies")
}

/// A Rust source file of the workspace.
struct Source {
    /// The path relative to the workspace root, with `/` separators.
    path: String,
    text: String,
}

impl Source {
    /// The crate directory name (`crates/<name>/…`), if any.
    fn krate(&self) -> Option<&str> {
        self.path.strip_prefix("crates/").and_then(|rest| rest.split('/').next())
    }

    /// Library or binary code: under a crate's `src/`, before any `#[cfg(test)]` item.
    fn non_test_code(&self) -> Option<&str> {
        let in_src = self.path.split('/').nth(2) == Some("src") || self.path.starts_with("xtask/src/");
        in_src.then(|| self.text.split("#[cfg(test)]").next().unwrap_or_default())
    }
}

/// Every `.rs` file under `crates/`, `tests/` and `xtask/`.
fn sources(root: &Path) -> Result<Vec<Source>, String> {
    let mut files = Vec::new();
    for top in ["crates", "tests", "xtask"] {
        collect_rust_files(&root.join(top), &mut files)?;
    }
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let path = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            Ok(Source { path, text })
        })
        .collect()
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                collect_rust_files(&path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// The text checks over every source file.
pub(crate) fn check_sources(root: &Path) -> Result<(), String> {
    let sources = sources(root)?;
    let this_file = "xtask/src/invariants.rs";
    let mut violations = Vec::new();
    for source in sources.iter().filter(|source| source.path != this_file) {
        let path = &source.path;
        if !source.text.trim_start().starts_with("//!") {
            violations.push(format!("{path}: no leading `//!` module doc"));
        }
        if path != CLOCK_FILE {
            for clock in ["Utc::now()", "SystemTime::now()", "Local::now()"] {
                if source.text.contains(clock) {
                    violations.push(format!("{path}: reads the wall clock ({clock}); take an injected Clock"));
                }
            }
        }
        if path != TEST_DATABASE_FILE && source.text.contains("CREATE DATABASE") {
            violations.push(format!("{path}: creates a database; tests use test_support::TestDatabase"));
        }
        let Some(code) = source.non_test_code() else { continue };
        if code.lines().count() > MAX_SOURCE_LINES {
            violations
                .push(format!("{path}: {} lines before its tests (at most {MAX_SOURCE_LINES})", code.lines().count()));
        }
        let below_the_router = path.starts_with("crates/oidc-server/src/")
            && !path.starts_with("crates/oidc-server/src/server/")
            && path != "crates/oidc-server/src/lib.rs";
        if below_the_router {
            let endpoints = path.starts_with("crates/oidc-server/src/endpoints/");
            for floor in ["crate::server", "crate::endpoints"]
                .iter()
                .filter(|floor| !(endpoints && **floor == "crate::endpoints"))
            {
                if code.contains(&format!("use {floor}")) {
                    violations.push(format!("{path}: imports {floor}, the top floor that builds the router"));
                }
            }
        }
        let store_crate = source.krate().is_some_and(|krate| STORE_CRATES.contains(&krate));
        if !store_crate && let Some(sql) = SQL_STARTS.iter().find(|start| code.contains(&format!("\"{start}"))) {
            violations.push(format!("{path}: SQL (`{}…`) outside the store crates", sql.trim()));
        }
        let test_infrastructure = source.krate() == Some("test-support");
        if path != ERROR_CODES_FILE && !test_infrastructure {
            for error_code in ERROR_CODES.iter().filter(|error| code.contains(&format!("\"{error}\""))) {
                violations
                    .push(format!("{path}: spells the protocol error `{error_code}`; use oidc_server::ErrorCode"));
            }
        }
    }
    verdict(violations, "architecture invariants broken")
}

fn verdict(violations: Vec<String>, what: &str) -> Result<(), String> {
    if violations.is_empty() { Ok(()) } else { Err(format!("{what}:\n  {}", violations.join("\n  "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
    }

    #[test]
    fn the_layering_holds() {
        check_dependency_edges(&root()).unwrap_or_else(|violations| panic!("{violations}"));
    }

    #[test]
    fn the_sources_keep_the_invariants() {
        check_sources(&root()).unwrap_or_else(|violations| panic!("{violations}"));
    }

    #[test]
    fn every_crate_of_the_workspace_is_listed() {
        let manifests = manifests(&root()).expect("manifests");
        let listed: BTreeSet<&str> = WORKSPACE_CRATES.iter().copied().collect();
        let crates: BTreeSet<&str> =
            manifests.keys().map(String::as_str).filter(|name| *name != "stack-tests").collect();
        assert_eq!(crates, listed, "WORKSPACE_CRATES must name every crate, so the rules stay complete");
    }

    #[test]
    fn manifests_are_read_as_cargo_does() {
        let (name, manifest) = parse_manifest(
            "[package]\nname = \"demo\"\n\n[dependencies]\n# a comment\nchrono.workspace = true\n\
             diesel = { workspace = true, features = [\"sqlite\"] }\nserde = \"1\"\n\n[dev-dependencies]\ntempfile = \"3\"\n",
        )
        .expect("a package");
        assert_eq!(name, "demo");
        assert_eq!(manifest.dependencies, ["chrono", "diesel", "serde"].map(str::to_owned).into_iter().collect());
    }

    #[test]
    fn a_forbidden_edge_through_another_crate_is_found() {
        let manifest = |deps: &[&str]| Manifest { dependencies: deps.iter().map(|d| (*d).to_owned()).collect() };
        let manifests: BTreeMap<String, Manifest> =
            [("a".to_owned(), manifest(&["b"])), ("b".to_owned(), manifest(&["diesel"]))].into_iter().collect();
        assert!(closure(&manifests, "a").contains("diesel"));
        assert!(!closure(&manifests, "b").contains("b"));
    }
}

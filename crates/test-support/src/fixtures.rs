//! The shared .NET fixtures (`../shared/fixtures` next to the workspace): EF Core's Identity
//! DDL and a database written by .NET. Outside this project's machines the folder may be
//! missing: the tests that need it say so loudly and skip, except under `CI=true`, where a
//! missing fixture is a failure.

use std::path::PathBuf;

/// The path of a fixture file, or `None` (after a warning) when the folder is missing.
pub fn fixture(name: &str) -> Option<PathBuf> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let path = folder.join(name);
    if path.is_file() {
        return Some(path);
    }
    let message = format!("fixture {} not found (expected the shared fixtures folder at {})", name, folder.display());
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{message}; fixtures are required under CI=true");
    }
    eprintln!("WARNING: SKIPPED: {message}");
    None
}

/// The text of a fixture file, or `None` when it is missing (see [`fixture`]).
pub fn fixture_text(name: &str) -> Option<String> {
    let path = fixture(name)?;
    Some(std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display())))
}

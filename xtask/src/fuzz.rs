//! `cargo xtask fuzz [--seconds N] [--target NAME]`: builds the cargo-fuzz targets of `fuzz/` and
//! runs each of them (or the one named) for `N` seconds, 30 by default, installing `cargo-fuzz`
//! first when it is missing. A finding (a panic, a failed assertion, an input slower than
//! [`INPUT_TIMEOUT_SECONDS`]) fails the command and leaves the input in `fuzz/artifacts/<target>/`.
//!
//! Everything runs with `--sanitizer none`: the sanitizers need a nightly compiler, which this
//! project does not have, while libFuzzer's coverage-guided search only needs codegen flags that
//! stable rustc accepts (`-Cpasses=sancov-module`, `-Cllvm-args=…`), so no `RUSTC_BOOTSTRAP` is
//! set. The workspace forbids `unsafe` code, so the memory errors only a sanitizer would catch are
//! not what the targets look for. The instrumented builds stay in `fuzz/target` (`fuzz/` is a
//! workspace of its own), apart from the workspace's target directory.

use std::process::{Command, Stdio};

use crate::util::{cargo, phase, run_command};

/// The fuzz targets, as `fuzz/Cargo.toml` names them.
const TARGETS: [&str; 5] = ["password_hash", "normalize", "claims_json", "client_authentication", "jose"];

/// How long each target runs unless `--seconds` says otherwise.
const DEFAULT_SECONDS: u64 = 30;

/// How long one input may run before libFuzzer reports it as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// How long `cargo xtask test` runs each target: enough to prove the targets build and run and
/// to catch a shallow crash, within the CI budget.
const TEST_SECONDS: u64 = 10;

/// The cargo-fuzz release installed when none is: pinned, so that a new release needing a newer
/// compiler cannot break a fresh machine.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// What to fuzz, and for how long.
#[derive(Debug)]
struct Options {
    seconds: u64,
    targets: Vec<&'static str>,
}

/// `cargo xtask fuzz`: parses the arguments and fuzzes.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    fuzz(&parse(args)?)
}

/// The fuzzing phase of `cargo xtask test`: every target for [`TEST_SECONDS`].
pub(crate) fn run_briefly() -> Result<(), String> {
    fuzz(&Options { seconds: TEST_SECONDS, targets: TARGETS.to_vec() })
}

/// Installs cargo-fuzz if needed, builds every target, then runs those of `options`.
fn fuzz(options: &Options) -> Result<(), String> {
    phase("cargo-fuzz", install_cargo_fuzz)?;
    phase("fuzz build", || run_command(&mut cargo_fuzz("build")))?;
    for target in &options.targets {
        phase(&format!("fuzz {target}"), || {
            let mut command = cargo_fuzz("run");
            command
                .arg(target)
                .arg("--")
                .arg(format!("-max_total_time={}", options.seconds))
                .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"));
            run_command(&mut command)
        })?;
    }
    eprintln!("xtask: {} fuzz target(s) ran {} s each without a finding", options.targets.len(), options.seconds);
    Ok(())
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = iter.next().ok_or("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .ok()
                    .filter(|seconds| *seconds > 0)
                    .ok_or_else(|| format!("--seconds: `{value}` is not a positive whole number"))?;
            }
            "--target" => {
                let name = iter.next().ok_or("--target needs a name")?;
                let target = TARGETS
                    .into_iter()
                    .find(|target| *target == name.as_str())
                    .ok_or_else(|| format!("unknown fuzz target `{name}` (the targets: {})", TARGETS.join(", ")))?;
                targets.push(target);
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok(Options { seconds, targets })
}

/// `cargo fuzz <subcommand> --sanitizer none` in the workspace root, where cargo-fuzz finds
/// `fuzz/`. Build and run get the same options, so `run` reuses the build.
fn cargo_fuzz(subcommand: &str) -> Command {
    let mut command = cargo();
    command.args(["fuzz", subcommand, "--sanitizer", "none"]);
    // A target directory set for the workspace would mix instrumented and normal builds.
    command.env_remove("CARGO_TARGET_DIR").env_remove("CARGO_BUILD_TARGET_DIR");
    command
}

/// Installs cargo-fuzz when `cargo fuzz --version` does not run.
fn install_cargo_fuzz() -> Result<(), String> {
    let mut probe = cargo();
    probe.args(["fuzz", "--version"]).stdout(Stdio::null()).stderr(Stdio::null());
    if probe.status().is_ok_and(|status| status.success()) {
        return Ok(());
    }
    eprintln!("xtask: cargo-fuzz is not installed; installing it");
    run_command(cargo().args(["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ_VERSION]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::workspace_root;

    #[test]
    fn the_targets_are_those_of_the_fuzz_manifest() {
        let fuzz = workspace_root().join("fuzz");
        let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
        let mut bins = Vec::new();
        let mut in_bin = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if in_bin && let Some(name) = line.strip_prefix("name = ") {
                bins.push(name.trim_matches('"').to_owned());
            }
        }
        assert_eq!(bins, TARGETS);
        for target in TARGETS {
            assert!(fuzz.join("fuzz_targets").join(format!("{target}.rs")).is_file(), "{target}");
        }
    }

    #[test]
    fn arguments_choose_the_time_and_the_targets() {
        let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
        let defaults = parse(&[]).expect("no arguments");
        assert_eq!((defaults.seconds, defaults.targets), (30, TARGETS.to_vec()));
        let chosen = parse(&args(&["--target", "jose", "--seconds", "5"])).expect("valid arguments");
        assert_eq!((chosen.seconds, chosen.targets), (5, vec!["jose"]));
        let invalid: [&[&str]; 5] =
            [&["--seconds"], &["--seconds", "0"], &["--seconds", "x"], &["--target", "nope"], &["--release"]];
        for arguments in invalid {
            assert!(parse(&args(arguments)).is_err(), "{arguments:?}");
        }
    }
}

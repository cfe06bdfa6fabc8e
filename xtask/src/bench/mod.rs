//! `cargo xtask bench`: drives the real `identity-server` over HTTP and measures it beside its
//! floors on the same machine in the same run.
//!
//! It builds the release server and the floor binary (`crates/identity-server/examples/
//! bench_floor.rs`), measures the floors (a plain axum handler, token signing alone, Argon2id on
//! every core with the server's hasher and with the reference C implementation) and the peer (node
//! `oidc-provider`, see `peer.rs`), then for each backend (SQLite; PostgreSQL when one is found, else a printed skip)
//! seeds a throwaway database through the server's own commands, starts the server on an
//! ephemeral port and runs every scenario against it. `--quick` is the harness's own test: run by
//! `cargo xtask test` against the binaries it has just built, it fails on any unexpected answer,
//! never on a time. `cargo xtask bench micro` runs the criterion micro-benchmarks.

mod http;
mod load;
mod micro;
mod peer;
mod report;
mod scenarios;
mod server;
mod soak;
mod users;

pub(crate) use soak::run as soak;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::postgres;
use crate::util::{cargo, run_command, workspace_root};
use load::{Load, Measurement};
use report::Results;
use scenarios::Scenario;
use server::Installation;

const USAGE: &str = "usage: cargo xtask bench [--quick] [--seconds N] [--warm-up N] [--connections N]
                         [--scenarios a,b,…] [--backends sqlite,postgres] [--profile release|debug]
                         [--no-peer] [--users N]
       cargo xtask bench micro [ARGS]   (criterion micro-benchmarks; ARGS go to criterion)

--no-peer leaves out node oidc-provider and the reference C Argon2id, which the first run installs
from the npm registry and PyPI into target/bench.
--users N seeds N more users (one precomputed hash) and times the store's lookups and the password
grant (one connection, --seconds long) at that size, instead of the scenarios, floors and peer.

scenarios: client_credentials, client_credentials_es256, password, refresh_token, refresh_token_rotating,
           authorization_code, userinfo, introspection";

/// What to run and how hard.
#[derive(Debug, Clone)]
struct Options {
    load: Load,
    scenarios: Vec<Scenario>,
    backends: Vec<String>,
    /// The cargo profile whose binaries are measured (`release` builds them first; `debug`
    /// expects them built, as by `cargo test`).
    profile: &'static str,
    /// Fail on any unexpected answer (the harness's test).
    strict: bool,
    /// Measure node `oidc-provider` and the reference C Argon2id (installed from the npm registry
    /// and PyPI on first use).
    peer: bool,
    /// Seed this many users and measure the store at that size instead of the scenarios.
    users: Option<u64>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self {
            load: Load { connections: 32, warm_up: Duration::from_secs(2), duration: Duration::from_secs(10) },
            scenarios: Scenario::SERVER.to_vec(),
            backends: vec!["sqlite".to_owned(), "postgres".to_owned()],
            profile: "release",
            strict: false,
            peer: true,
            users: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"));
            let seconds = |text: &String| {
                text.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| format!("not a number of seconds: {text}"))
            };
            match arg.as_str() {
                "--quick" => {
                    options.load = Load { connections: 2, warm_up: Duration::ZERO, duration: Duration::from_secs(1) };
                    options.profile = "debug";
                    options.strict = true;
                }
                "--no-peer" => options.peer = false,
                "--users" => {
                    let text = value()?;
                    options.users =
                        Some(text.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("not a user count: {text}"))?);
                }
                "--seconds" => options.load.duration = seconds(value()?)?,
                "--warm-up" => options.load.warm_up = seconds(value()?)?,
                "--connections" => {
                    let text = value()?;
                    options.load.connections = text
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("not a connection count: {text}"))?;
                }
                "--scenarios" => {
                    options.scenarios = value()?
                        .split(',')
                        .map(|name| {
                            Scenario::named(name).ok_or_else(|| format!("unknown scenario `{name}`\n\n{USAGE}"))
                        })
                        .collect::<Result<_, _>>()?;
                }
                "--backends" => {
                    options.backends = value()?.split(',').map(str::to_owned).collect();
                    if let Some(unknown) =
                        options.backends.iter().find(|b| !["sqlite", "postgres"].contains(&b.as_str()))
                    {
                        return Err(format!("unknown backend `{unknown}`\n\n{USAGE}"));
                    }
                }
                "--profile" => {
                    options.profile = match value()?.as_str() {
                        "release" => "release",
                        "debug" => "debug",
                        other => return Err(format!("unknown profile `{other}`\n\n{USAGE}")),
                    };
                }
                _ => return Err(format!("unknown option `{arg}`\n\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// Runs `cargo xtask bench …`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if args.first().is_some_and(|first| first == "micro") {
        return micro::run(&args[1..]);
    }
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(args)?;
    let postgres = if options.backends.iter().any(|b| b == "postgres") {
        match postgres::provide() {
            Ok(server) => Some(server),
            Err(reason) => {
                eprintln!("xtask: the PostgreSQL scenarios are skipped: {reason}");
                None
            }
        }
    } else {
        None
    };
    bench(&options, postgres.as_ref().map(|server| server.admin_url.as_str()))
}

/// The harness's test, run by `cargo xtask test` after the tests built the debug binaries: every
/// scenario for a second on SQLite and, given its URL, PostgreSQL; any unexpected answer fails.
/// Without the peer: what the npm registry and PyPI serve must not decide whether the tests pass.
pub(crate) fn run_quick(postgres_admin_url: Option<&str>) -> Result<(), String> {
    let mut options = Options::parse(&["--quick".to_owned(), "--no-peer".to_owned()])?;
    if postgres_admin_url.is_none() {
        options.backends.retain(|backend| backend == "sqlite");
    }
    bench(&options, postgres_admin_url)
}

/// The workspace's target directory.
fn target_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

fn bench(options: &Options, postgres_admin_url: Option<&str>) -> Result<(), String> {
    let profile_directory = target_directory().join(options.profile);
    if options.profile == "release" {
        release_binaries()?;
    }
    if let Some(users) = options.users {
        return bench_at_scale(options, users, postgres_admin_url);
    }
    let server_binary = existing(profile_directory.join("identity-server"))?;
    let floor_binary = existing(profile_directory.join("examples").join("bench_floor"))?;
    let output = target_directory().join("bench").join(if options.strict { "quick" } else { "latest" });
    let _ = std::fs::remove_dir_all(&output);
    let mut results = Results {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        build: options.profile,
        ..Results::default()
    };
    eprintln!("xtask: bench: the floors");
    results.measurements.extend(measure_floors(&floor_binary, options)?);
    results.argon2_floor_per_second = Some(argon2_floor(&floor_binary, options)?);
    if options.peer {
        measure_peer(&mut results, &target_directory().join("bench"), options)?;
    }
    for backend in &options.backends {
        let Some(database_url) = backend_database(backend, &output, postgres_admin_url)? else { continue };
        eprintln!("xtask: bench: {backend}");
        let outcome = measure_server(&server_binary, &output.join(backend), database_url.clone(), backend, options);
        if let Some(admin_url) = postgres_admin_url.filter(|_| backend == "postgres") {
            drop_postgres_database(admin_url, &database_url);
        }
        results.measurements.extend(outcome?);
    }
    println!("{}", results.table());
    results.write(&output)?;
    eprintln!("xtask: bench: results in {}", output.display());
    let failed: Vec<_> = results
        .measurements
        .iter()
        .filter(|m| m.errors > 0 || m.operations == 0)
        .map(|m| {
            format!(
                "{} on {}: {} errors of {} ({})",
                m.scenario.name(),
                m.target,
                m.errors,
                m.operations,
                m.first_error.as_deref().unwrap_or("no operation completed")
            )
        })
        .collect();
    match (failed.is_empty(), options.strict) {
        (true, _) => Ok(()),
        (false, true) => Err(format!("bench: unexpected answers:\n{}", failed.join("\n"))),
        (false, false) => {
            eprintln!("xtask: bench: WARNING: unexpected answers:\n{}", failed.join("\n"));
            Ok(())
        }
    }
}

/// A new database for `backend`: a SQLite file under `output`, or a PostgreSQL database of its
/// own on the server at `postgres_admin_url` (`None` without one).
fn backend_database(backend: &str, output: &Path, postgres_admin_url: Option<&str>) -> Result<Option<String>, String> {
    match (backend, postgres_admin_url) {
        ("sqlite", _) => {
            let directory = output.join("sqlite");
            std::fs::create_dir_all(&directory).map_err(|e| format!("cannot create {}: {e}", directory.display()))?;
            Ok(Some(format!("sqlite://{}", directory.join("identity.db").display())))
        }
        (_, Some(admin_url)) => create_postgres_database(admin_url).map(Some),
        (_, None) => Ok(None),
    }
}

/// `--users N`: each backend seeded with N more users, its lookups and the password grant timed.
fn bench_at_scale(options: &Options, users: u64, postgres_admin_url: Option<&str>) -> Result<(), String> {
    let profile_directory = target_directory().join(options.profile);
    let server_binary = existing(profile_directory.join("identity-server"))?;
    let store_binary = existing(profile_directory.join("examples").join("bench_store"))?;
    let output = target_directory().join("bench").join("users");
    let _ = std::fs::remove_dir_all(&output);
    let mut reports = Vec::new();
    for backend in &options.backends {
        let Some(database_url) = backend_database(backend, &output, postgres_admin_url)? else { continue };
        let binaries = (server_binary.as_path(), store_binary.as_path());
        let outcome = users::measure(
            binaries,
            &output.join(backend),
            database_url.clone(),
            backend,
            users,
            options.load.duration,
        );
        if let Some(admin_url) = postgres_admin_url.filter(|_| backend == "postgres") {
            drop_postgres_database(admin_url, &database_url);
        }
        reports.push(outcome?);
    }
    println!("{}", users::table(&reports));
    let path = output.join("results.json");
    std::fs::write(&path, users::json(&reports)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("xtask: bench: results in {}", path.display());
    Ok(())
}

/// Builds the release server and floor binary.
fn release_binaries() -> Result<(), String> {
    run_command(cargo().args([
        "build",
        "--release",
        "-p",
        "identity-server",
        "--bin",
        "identity-server",
        "--example",
        "bench_floor",
        "--example",
        "bench_store",
    ]))
}

/// `path` when it is a file, else an error saying how to build it.
fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is missing: build it first (cargo test builds the debug binaries)", path.display()))
    }
}

/// Seeds `database_url`, serves it and runs every scenario.
fn measure_server(
    binary: &Path,
    directory: &Path,
    database_url: String,
    backend: &str,
    options: &Options,
) -> Result<Vec<Measurement>, String> {
    let installation = Installation::new(binary, directory, database_url)?;
    installation.seed()?;
    // One instance per server environment the scenarios need, started when first needed, on
    // the same database.
    let mut servers: Vec<(&[(&str, &str)], server::Server)> = Vec::new();
    let mut measurements = Vec::new();
    for &scenario in &options.scenarios {
        let variables = scenario.server_variables();
        let index = match servers.iter().position(|(running, _)| *running == variables) {
            Some(index) => index,
            None => {
                servers.push((variables, installation.serve(variables)?));
                servers.len() - 1
            }
        };
        let server = &servers[index].1;
        let measurement = load::measure(scenario, backend, server.address, &server.pid(), options.load)
            .map_err(|e| format!("{e}\nthe server's log: {}", server.log.display()))?;
        measurements.push(measurement);
    }
    Ok(measurements)
}

/// A process the bench started (the floor binary, the peer), killed when dropped.
struct OwnedProcess(Child);

impl OwnedProcess {
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for OwnedProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and reads the first line it prints, which says where it listens.
fn read_first_line(command: &mut Command) -> Result<(OwnedProcess, String), String> {
    let mut child = command.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let stdout = child.stdout.take();
    // Owned before anything can fail, so the process is killed on every path.
    let process = OwnedProcess(child);
    let mut first_line = String::new();
    if let Some(stdout) = stdout {
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .map_err(|e| format!("cannot read the output of {command:?}: {e}"))?;
    }
    Ok((process, first_line))
}

fn measure_floors(binary: &Path, options: &Options) -> Result<Vec<Measurement>, String> {
    let (floor, first_line) = read_first_line(Command::new(binary).arg("serve"))?;
    let address = first_line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("the floor binary did not start: {first_line:?}"))?;
    let pid = floor.pid();
    Scenario::FLOORS.into_iter().map(|scenario| load::measure(scenario, "floor", address, &pid, options.load)).collect()
}

/// The peer's scenarios (those of `options` it serves) and the reference C Argon2id. What cannot
/// be installed is skipped with the reason; a peer that starts but answers wrongly is an error.
fn measure_peer(results: &mut Results, bench_directory: &Path, options: &Options) -> Result<(), String> {
    eprintln!("xtask: bench: the peer (node oidc-provider) and the reference C Argon2id");
    let seconds = options.load.duration.as_secs_f64().max(1.0);
    match peer::argon2_reference(bench_directory, seconds) {
        Ok(rate) => results.argon2_reference_per_second = Some(rate),
        Err(reason) => eprintln!("xtask: bench: the reference C Argon2id is skipped: {reason}"),
    }
    let scenarios: Vec<Scenario> = options.scenarios.iter().filter_map(|scenario| scenario.peer()).collect();
    if scenarios.is_empty() {
        return Ok(());
    }
    let peer = match peer::Peer::start(bench_directory) {
        Ok(peer) => peer,
        Err(reason) => {
            eprintln!("xtask: bench: the peer is skipped: {reason}");
            return Ok(());
        }
    };
    for scenario in scenarios {
        let measurement = load::measure(scenario, "peer", peer.address, &peer.pid(), options.load)
            .map_err(|e| format!("{e}\nthe peer's log: {}", peer.log.display()))?;
        results.measurements.push(measurement);
    }
    Ok(())
}

fn argon2_floor(binary: &Path, options: &Options) -> Result<f64, String> {
    let seconds = options.load.duration.as_secs_f64().max(1.0).to_string();
    let output = Command::new(binary)
        .args(["argon2", "--seconds", &seconds])
        .output()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .strip_prefix("argon2id_per_second=")
        .and_then(|rate| rate.parse().ok())
        .ok_or_else(|| format!("the Argon2 floor failed: {text}{}", String::from_utf8_lossy(&output.stderr)))
}

/// Creates a database of its own on the server at `admin_url` (with PostgreSQL's `createdb`),
/// returning its URL.
fn create_postgres_database(admin_url: &str) -> Result<String, String> {
    let name = format!("identity_bench_{}", std::process::id());
    let maintenance = format!("--maintenance-db={admin_url}");
    run_command(Command::new("dropdb").args([maintenance.as_str(), "--if-exists", "--force", &name]))?;
    run_command(Command::new("createdb").args([maintenance.as_str(), &name]))?;
    let (server, _) = admin_url.rsplit_once('/').ok_or_else(|| format!("not a database URL: {admin_url}"))?;
    Ok(format!("{server}/{name}"))
}

/// Drops a database that [`create_postgres_database`] made.
fn drop_postgres_database(admin_url: &str, database_url: &str) {
    if let Some((_, name)) = database_url.rsplit_once('/') {
        let maintenance = format!("--maintenance-db={admin_url}");
        if let Err(error) =
            run_command(Command::new("dropdb").args([maintenance.as_str(), "--if-exists", "--force", name]))
        {
            eprintln!("xtask: bench: {error}");
        }
    }
}

//! Project automation, run as `cargo xtask <command>`:
//!
//! - `test`: format check, clippy, the tidy checks, then every test on every backend
//!   (in-memory, SQLite and PostgreSQL), the bench harness once (`--quick`), the one-backend
//!   builds, and every fuzz target briefly. This is what CI runs.
//! - `tidy`: only the format, lint and layering checks.
//! - `migrate`: apply or inspect the database migrations of a database URL.
//! - `bench`: drive the release server over HTTP beside its floors and node `oidc-provider`
//!   (`--users N`: the store and the password grant among N more users; `bench micro`: the
//!   criterion micro-benchmarks).
//! - `soak`: mixed traffic against the release server for minutes, sampled each minute.
//! - `fuzz`: build the cargo-fuzz targets of `fuzz/` and run each for a bounded time.

mod backends;
mod bench;
mod fuzz;
mod invariants;
mod migrate;
mod postgres;
mod test;
mod tidy;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test                       fmt check, clippy, tidy, then all tests on SQLite and PostgreSQL
  tidy                       fmt check, clippy and the layering checks only
  migrate --database-url URL [status|up|down]
                             show or apply the migrations of a database (default: up)
  bench [--quick] [--seconds N] [--connections N] [--scenarios A,B] [--backends sqlite,postgres]
                             drive the release server over HTTP beside its floors; prints a table,
                             writes target/bench/latest/results.{json,svg}
  bench micro [ARGS]         run the criterion micro-benchmarks
  soak [--minutes N] [--backend sqlite|postgres]
                             mixed traffic against the release server for N minutes (default 10),
                             with memory, open files and latency each minute
  fuzz [--seconds N] [--target NAME]
                             build the fuzz targets (installing cargo-fuzz if needed, no
                             sanitizer), then run each, or NAME, for N seconds (default 30)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = match command.as_str() {
        "test" => test::run(rest),
        "tidy" => tidy::run(),
        "migrate" => migrate::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "soak" => bench::soak(rest),
        "postgres-check" => postgres::provide().map(|server| println!("PostgreSQL available at {}", server.admin_url)),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo xtask bench --users N`: the store at the size of a large deployment. For each backend
//! it seeds the benchmark's users and roles through the server's commands, then N more users
//! through `identity-server users import -`, written as JSON Lines straight into its standard
//! input with one precomputed password hash (hashing a million passwords would take hours by
//! design), each with five claims and three roles, as the seeded ones have. The import prints its
//! progress. Then it times, at that size:
//!
//! - the store's lookups, with `examples/bench_store.rs`: find by name, find by e-mail, the full
//!   claims load, and one Argon2id verification for comparison;
//! - the password grant over HTTP on one connection, whose latency less one verification is what
//!   the grant costs besides hashing.
//!
//! Never run by `cargo xtask test`: seeding a million users takes minutes.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::load::{self, Load, Measurement, percentile_ms};
use crate::bench::scenarios::Scenario;
use crate::bench::server::{Installation, PASSWORD, ROLES};

/// The name prefix of the imported users (the seeded ones are `bench.user{i}`).
const PREFIX: &str = "bulk.user";

/// What one backend measured.
#[derive(Debug)]
pub(crate) struct ScaleReport {
    backend: String,
    users: u64,
    import_seconds: f64,
    lookups: Vec<Lookup>,
    password: Measurement,
}

/// One operation `bench_store` timed.
#[derive(Debug, PartialEq)]
struct Lookup {
    operation: String,
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Seeds `database_url` with `users` more users and measures it.
pub(crate) fn measure(
    binaries: (&Path, &Path),
    directory: &Path,
    database_url: String,
    backend: &str,
    users: u64,
    seconds: Duration,
) -> Result<ScaleReport, String> {
    let (server_binary, store_binary) = binaries;
    let installation = Installation::new(server_binary, directory, database_url.clone())?;
    installation.seed()?;
    let hash = installation.seeded_password_hash()?;
    eprintln!("xtask: bench: importing {users} users into {backend}");
    let started = Instant::now();
    installation.import(|input| write_users(input, users, &hash))?;
    let import_seconds = started.elapsed().as_secs_f64();

    eprintln!("xtask: bench: timing the store's lookups among {users} users");
    let output = Command::new(store_binary)
        .args(["--database-url", &database_url, "--prefix", PREFIX, "--users", &users.to_string()])
        .args(["--password", PASSWORD])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", store_binary.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed", store_binary.display()));
    }
    let lookups = String::from_utf8_lossy(&output.stdout).lines().filter_map(parse_lookup).collect();

    let server = installation.serve(&[])?;
    let one_connection = Load { connections: 1, warm_up: Duration::from_secs(1), duration: seconds };
    let password = load::measure(Scenario::Password, backend, server.address, &server.pid(), one_connection)?;
    Ok(ScaleReport { backend: backend.to_owned(), users, import_seconds, lookups, password })
}

/// A `bench_store` line: the operation's name, then each call's microseconds.
fn parse_lookup(line: &str) -> Option<Lookup> {
    let mut fields = line.split_whitespace();
    let operation = fields.next()?.to_owned();
    let mut micros = fields.map(str::parse).collect::<Result<Vec<u64>, _>>().ok()?;
    if micros.is_empty() {
        return None;
    }
    micros.sort_unstable();
    Some(Lookup {
        operation,
        samples: micros.len(),
        p50_ms: percentile_ms(&micros, 0.5),
        p99_ms: percentile_ms(&micros, 0.99),
        max_ms: percentile_ms(&micros, 1.0),
    })
}

/// The header, `users` user lines and the end line of the import format: user `i` is `bulk.user{i}`, with a
/// fixed id derived from `i` (so a second run skips them), a confirmed e-mail address, the
/// claims and roles of the seeded users, and `hash` as password hash.
fn write_users(input: &mut dyn std::io::Write, users: u64, hash: &str) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, input);
    writeln!(out, "{{\"format\":\"identity-server-users\",\"version\":1}}")?;
    let roles = ROLES.iter().map(|role| format!("\"{}\"", role.to_uppercase())).collect::<Vec<_>>().join(",");
    let mut line = String::with_capacity(1024);
    for index in 0..users {
        line.clear();
        let name = format!("{PREFIX}{index}");
        let upper = name.to_uppercase();
        let _ = write!(
            line,
            "{{\"user\":{{\"id\":\"00000000-0000-4000-8000-{index:012}\",\"user_name\":\"{name}\",\
             \"normalized_user_name\":\"{upper}\",\"email\":\"{name}@bench.example\",\
             \"normalized_email\":\"{upper}@BENCH.EXAMPLE\",\"email_confirmed\":true,\"password_hash\":\"{hash}\",\
             \"security_stamp\":\"BENCHSTAMP{index:022}\",\"concurrency_stamp\":\"00000000-0000-4000-9000-{index:012}\",\
             \"phone_number\":null,\"phone_number_confirmed\":false,\"two_factor_enabled\":false,\"lockout_end\":null,\
             \"lockout_enabled\":true,\"access_failed_count\":0,\"claims\":[\
             {{\"type\":\"given_name\",\"value\":\"Bulk{index}\"}},{{\"type\":\"family_name\",\"value\":\"User\"}},\
             {{\"type\":\"name\",\"value\":\"Bulk{index} User\"}},\
             {{\"type\":\"website\",\"value\":\"https://bench.example/{index}\"}},\
             {{\"type\":\"locale\",\"value\":\"en-GB\"}}],\"roles\":[{roles}]}}}}"
        );
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    writeln!(out, "{{\"end\":{{\"roles\":0,\"users\":{users}}}}}")?;
    out.flush()
}

/// The table printed at the end.
pub(crate) fn table(reports: &[ScaleReport]) -> String {
    let mut table = String::new();
    for report in reports {
        let _ = writeln!(
            table,
            "{} users on {}: imported in {:.1} s ({:.0} users/s)",
            report.users,
            report.backend,
            report.import_seconds,
            report.users as f64 / report.import_seconds.max(f64::EPSILON)
        );
        let _ =
            writeln!(table, "  {:<18} {:>8} {:>9} {:>9} {:>9}", "operation", "samples", "p50 ms", "p99 ms", "max ms");
        for Lookup { operation, samples, p50_ms, p99_ms, max_ms } in &report.lookups {
            let _ = writeln!(table, "  {operation:<18} {samples:>8} {p50_ms:>9.3} {p99_ms:>9.3} {max_ms:>9.3}");
        }
        let verification =
            report.lookups.iter().find(|lookup| lookup.operation == "verify_password").map(|lookup| lookup.p50_ms);
        let grant = &report.password;
        let _ = writeln!(
            table,
            "  password grant, one connection: {:.1}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors{}",
            grant.per_second(),
            grant.p50_ms,
            grant.p99_ms,
            grant.errors,
            verification.map_or_else(String::new, |verify| format!(
                "; besides hashing (p50 less one verification's p50): {:.2} ms",
                grant.p50_ms - verify
            ))
        );
    }
    table
}

/// The results as JSON.
pub(crate) fn json(reports: &[ScaleReport]) -> String {
    let entries: Vec<String> = reports
        .iter()
        .map(|report| {
            let lookups: Vec<String> = report
                .lookups
                .iter()
                .map(|Lookup { operation, samples, p50_ms, p99_ms, max_ms }| {
                    format!(
                        "{{\"operation\": \"{operation}\", \"samples\": {samples}, \"p50_ms\": {p50_ms:.3}, \
                         \"p99_ms\": {p99_ms:.3}, \"max_ms\": {max_ms:.3}}}"
                    )
                })
                .collect();
            format!(
                "  {{\"backend\": \"{}\", \"users\": {}, \"import_seconds\": {:.1}, \"lookups\": [{}], \
                 \"password_grant\": {{\"connections\": 1, \"per_second\": {:.1}, \"p50_ms\": {:.3}, \
                 \"p99_ms\": {:.3}, \"errors\": {}}}}}",
                report.backend,
                report.users,
                report.import_seconds,
                lookups.join(", "),
                report.password.per_second(),
                report.password.p50_ms,
                report.password.p99_ms,
                report.password.errors
            )
        })
        .collect();
    format!("[\n{}\n]\n", entries.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_lines_are_a_header_one_user_each_and_the_end() {
        let mut written = Vec::new();
        write_users(&mut written, 3, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").expect("written");
        let text = String::from_utf8(written).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[4], r#"{"end":{"roles":0,"users":3}}"#);
        assert!(lines[0].contains("identity-server-users"));
        assert!(lines[3].contains("\"normalized_user_name\":\"BULK.USER2\""));
        assert!(lines[3].contains("\"roles\":[\"BENCH.READER\",\"BENCH.WRITER\",\"BENCH.AUDITOR\"]"));
    }

    #[test]
    fn lookup_lines_become_percentiles() {
        let line =
            format!("find_by_name {}", (1..=100).map(|ms| (ms * 1000).to_string()).collect::<Vec<_>>().join(" "));
        assert_eq!(
            parse_lookup(&line),
            Some(Lookup {
                operation: "find_by_name".to_owned(),
                samples: 100,
                p50_ms: 50.0,
                p99_ms: 99.0,
                max_ms: 100.0
            })
        );
        assert_eq!(parse_lookup("garbage"), None);
        assert_eq!(parse_lookup("find_by_name 12 x"), None);
    }
}

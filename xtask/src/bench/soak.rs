//! `cargo xtask soak --minutes N`: mixed traffic against the release server for N minutes, with
//! the server's resident memory, open files, CPU and each minute's throughput and latency
//! recorded, to show what a long run does that a ten-second benchmark cannot: memory or file
//! descriptors that grow, latency that creeps, a process that dies. Not part of the tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::bench::http::Connection;
use crate::bench::load::percentile_ms;
use crate::bench::scenarios::Scenario;
use crate::bench::server::{Installation, ProcessSample, TICKS_PER_SECOND, sample};
use crate::bench::{existing, release_binaries, target_directory};

/// The mix: one connection per entry, so the password grant (one Argon2id each) takes its share
/// without starving the rest, as in a real deployment where most calls carry a token.
const MIX: [Scenario; 8] = [
    Scenario::ClientCredentials,
    Scenario::Password,
    Scenario::RefreshTokenRotating,
    Scenario::RefreshTokenRotating,
    Scenario::AuthorizationCode,
    Scenario::Userinfo,
    Scenario::Userinfo,
    Scenario::Introspection,
];

/// One minute of the run.
#[derive(Debug, Default, Clone)]
struct Minute {
    latencies_us: Vec<u64>,
    errors: u64,
}

/// Runs `cargo xtask soak [--minutes N] [--backend sqlite|postgres]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (mut minutes, mut backend) = (10_usize, "sqlite".to_owned());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--minutes" => {
                minutes =
                    value.parse().ok().filter(|m| *m > 0).ok_or_else(|| format!("not a number of minutes: {value}"))?
            }
            "--backend" if value == "sqlite" || value == "postgres" => backend.clone_from(value),
            _ => {
                return Err(format!(
                    "usage: cargo xtask soak [--minutes N] [--backend sqlite|postgres] (got {arg} {value})"
                ));
            }
        }
    }
    let postgres = if backend == "postgres" { Some(crate::postgres::provide()?) } else { None };
    release_binaries()?;
    let binary = existing(target_directory().join("release").join("identity-server"))?;
    let directory = target_directory().join("bench").join("soak");
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).map_err(|e| format!("cannot create {}: {e}", directory.display()))?;
    let database_url = match &postgres {
        Some(server) => crate::bench::create_postgres_database(&server.admin_url)?,
        None => format!("sqlite://{}", directory.join("identity.db").display()),
    };
    let outcome = soak(&binary, &directory, database_url.clone(), &backend, minutes);
    if let Some(server) = &postgres {
        crate::bench::drop_postgres_database(&server.admin_url, &database_url);
    }
    let report = outcome?;
    let path = directory.join("soak.txt");
    std::fs::write(&path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{report}");
    eprintln!("xtask: soak: written to {}", path.display());
    Ok(())
}

fn soak(
    binary: &std::path::Path,
    directory: &std::path::Path,
    database_url: String,
    backend: &str,
    minutes: usize,
) -> Result<String, String> {
    let installation = Installation::new(binary, directory, database_url)?;
    installation.seed()?;
    let mut server = installation.serve(&[])?;
    let pid = server.pid();
    let records: Vec<Mutex<Vec<Minute>>> = MIX.iter().map(|_| Mutex::new(vec![Minute::default(); minutes])).collect();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut samples = vec![sample(&pid)];
    let mut died = None;
    // Every connection is prepared before any load starts, so a failure leaves no thread behind.
    let mut prepared = Vec::new();
    for (index, &scenario) in MIX.iter().enumerate() {
        let mut connection = Connection::open(server.address).map_err(|e| format!("cannot connect: {e}"))?;
        let state = scenario.prepare(&mut connection, index)?;
        prepared.push((connection, state));
    }
    std::thread::scope(|scope| -> Result<(), String> {
        let mut workers = Vec::new();
        for (index, ((&scenario, record), (mut connection, mut state))) in
            MIX.iter().zip(&records).zip(prepared).enumerate()
        {
            let stop = &stop;
            workers.push(scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let begun = Instant::now();
                    let outcome = scenario.run_or_recover(&mut connection, &mut state, index);
                    let minute = usize::try_from(started.elapsed().as_secs() / 60).unwrap_or(usize::MAX);
                    let mut minutes = record.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let Some(bucket) = minutes.get_mut(minute) else { break };
                    bucket.latencies_us.push(u64::try_from(begun.elapsed().as_micros()).unwrap_or(u64::MAX));
                    bucket.errors += u64::from(outcome.is_err());
                }
            }));
        }
        for minute in 1..=minutes {
            let next = started + Duration::from_secs(60 * minute as u64);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            samples.push(sample(&pid));
            if !server.is_running() {
                died = Some(minute);
                break;
            }
            eprintln!("xtask: soak: minute {minute} of {minutes}");
        }
        stop.store(true, Ordering::Relaxed);
        for worker in workers {
            let _ = worker.join();
        }
        Ok(())
    })?;
    let mut per_minute = vec![Minute::default(); minutes];
    for record in records {
        for (total, minute) in
            per_minute.iter_mut().zip(record.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
        {
            total.latencies_us.extend(minute.latencies_us);
            total.errors += minute.errors;
        }
    }
    let mut report = format!(
        "soak: {minutes} min of mixed traffic ({} connections: {}), the release server on {}\n\n\
         minute  ops/s     p50 ms   p99 ms   max ms   errors  server cpu  resident MiB  open files\n",
        MIX.len(),
        MIX.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
        backend,
    );
    report.push_str(&format!(
        "start   {:<57} {:>12.1}  {:>10}\n",
        "",
        samples[0].resident_kib as f64 / 1024.0,
        samples[0].open_files
    ));
    for (index, minute) in per_minute.iter_mut().enumerate() {
        let Some((before, after)) = samples.get(index).zip(samples.get(index + 1)) else { break };
        report.push_str(&minute_line(index + 1, minute, before, after));
    }
    if let Some(minute) = died {
        return Err(format!("{report}\nthe server died during minute {minute}; its log: {}", server.log.display()));
    }
    Ok(report)
}

fn minute_line(number: usize, minute: &mut Minute, before: &ProcessSample, after: &ProcessSample) -> String {
    minute.latencies_us.sort_unstable();
    let percentile = |fraction| percentile_ms(&minute.latencies_us, fraction);
    let cpu = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / TICKS_PER_SECOND / 60.0 * 100.0;
    format!(
        "{number:<7} {:<9.1} {:<8.2} {:<8.2} {:<8.2} {:<7} {:>9.0}%  {:>12.1}  {:>10}\n",
        minute.latencies_us.len() as f64 / 60.0,
        percentile(0.5),
        percentile(0.99),
        percentile(1.0),
        minute.errors,
        cpu,
        after.resident_kib as f64 / 1024.0,
        after.open_files,
    )
}

//! The load: `connections` threads, each with its own keep-alive connection, sending one
//! scenario's operations back to back for a warm-up and then a measured window, and what came of
//! it: operations per second, latency percentiles, errors, and the CPU that the server and the
//! generator used meanwhile.

use std::net::SocketAddr;
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use crate::bench::http::Connection;
use crate::bench::scenarios::Scenario;
use crate::bench::server::{TICKS_PER_SECOND, sample};

/// How one scenario was driven.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Concurrent connections, each a closed loop.
    pub(crate) connections: usize,
    /// Operations before this are not counted.
    pub(crate) warm_up: Duration,
    /// The measured window.
    pub(crate) duration: Duration,
}

/// What one scenario did in its measured window.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    pub(crate) scenario: Scenario,
    /// `sqlite`, `postgres` or `floor`.
    pub(crate) target: String,
    pub(crate) connections: usize,
    pub(crate) seconds: f64,
    pub(crate) operations: u64,
    pub(crate) errors: u64,
    /// The first unexpected answer, to say what went wrong.
    pub(crate) first_error: Option<String>,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// CPU used by the server process, in percent of one core.
    pub(crate) server_cpu_percent: f64,
    /// CPU used by this process (the load generator), in percent of one core.
    pub(crate) generator_cpu_percent: f64,
    /// The server's resident memory at the end, in MiB.
    pub(crate) server_resident_mib: f64,
}

impl Measurement {
    /// Successful operations per second.
    pub(crate) fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { (self.operations - self.errors) as f64 / self.seconds } else { 0.0 }
    }
}

/// What one connection recorded in the window.
#[derive(Debug, Default)]
struct Recorded {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Drives `scenario` against `address` and measures it; `server_pid` is sampled for CPU and
/// memory. Fails when a connection cannot prepare (the harness or the server is broken).
pub(crate) fn measure(
    scenario: Scenario,
    target: &str,
    address: SocketAddr,
    server_pid: &str,
    load: Load,
) -> Result<Measurement, String> {
    let prepared = Barrier::new(load.connections + 1);
    let window: OnceLock<(Instant, Instant)> = OnceLock::new();
    let started = Barrier::new(load.connections + 1);
    let (recorded, server, generator, elapsed) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..load.connections)
            .map(|index| {
                let (prepared, started, window) = (&prepared, &started, &window);
                scope.spawn(move || {
                    let setup =
                        Connection::open(address).map_err(|e| format!("cannot connect to {address}: {e}")).and_then(
                            |mut connection| scenario.prepare(&mut connection, index).map(|state| (connection, state)),
                        );
                    prepared.wait();
                    started.wait();
                    let (mut connection, mut state) = setup?;
                    let &(from, until) = window.get().ok_or("no measurement window")?;
                    let mut recorded = Recorded::default();
                    loop {
                        let begun = Instant::now();
                        if begun >= until {
                            break;
                        }
                        let outcome = scenario.run_or_recover(&mut connection, &mut state, index);
                        if begun < from {
                            continue;
                        }
                        recorded.latencies_us.push(u64::try_from(begun.elapsed().as_micros()).unwrap_or(u64::MAX));
                        if let Err(error) = outcome {
                            recorded.errors += 1;
                            recorded.first_error.get_or_insert(error);
                        }
                    }
                    Ok::<_, String>(recorded)
                })
            })
            .collect();
        prepared.wait();
        let now = Instant::now();
        let from = now + load.warm_up;
        let until = from + load.duration;
        let _ = window.set((from, until));
        started.wait();
        std::thread::sleep(from.saturating_duration_since(Instant::now()));
        let (server_before, generator_before, measured_from) = (sample(server_pid), sample("self"), Instant::now());
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
        let (server_after, generator_after) = (sample(server_pid), sample("self"));
        let elapsed = measured_from.elapsed();
        let recorded: Vec<_> = workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|_| Err("a load thread panicked".to_owned())))
            .collect();
        let server = (server_after.cpu_ticks.saturating_sub(server_before.cpu_ticks), server_after.resident_kib);
        let generator = generator_after.cpu_ticks.saturating_sub(generator_before.cpu_ticks);
        (recorded, server, generator, elapsed)
    });
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for connection in recorded {
        let connection = connection.map_err(|e| format!("{}: {e}", scenario.name()))?;
        latencies.extend(connection.latencies_us);
        errors += connection.errors;
        first_error = first_error.or(connection.first_error);
    }
    latencies.sort_unstable();
    let percentile = |fraction| percentile_ms(&latencies, fraction);
    let seconds = load.duration.as_secs_f64();
    let cpu_percent = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / elapsed.as_secs_f64().max(f64::EPSILON) * 100.0;
    Ok(Measurement {
        scenario,
        target: target.to_owned(),
        connections: load.connections,
        seconds,
        operations: latencies.len() as u64,
        errors,
        first_error,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        server_cpu_percent: cpu_percent(server.0),
        generator_cpu_percent: cpu_percent(generator),
        server_resident_mib: server.1 as f64 / 1024.0,
    })
}

/// The latency at `fraction` (0.5 for the median, 1.0 for the maximum) of `sorted` microseconds,
/// in milliseconds (nearest rank); 0 when there is none.
pub(crate) fn percentile_ms(sorted: &[u64], fraction: f64) -> f64 {
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(rank).map_or(0.0, |&us| us as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_ranks() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&sorted, 0.5), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&sorted, 1.0), 100.0);
        assert_eq!(percentile_ms(&[], 0.99), 0.0);
    }
}

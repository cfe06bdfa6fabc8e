//! A PostgreSQL cluster of its own: `initdb` into a fresh temporary directory, a server on a free
//! port of 127.0.0.1 (and a socket in that directory), stopped and removed when the [`Cluster`]
//! is dropped. The installed PostgreSQL binaries refuse to run as root, so as root every command
//! runs as the `postgres` user (through `runuser`).
//!
//! `xtask` starts one when no server answers; the fault tests start one to stop and restart it
//! under load, which they must never do to a server that others share.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running (or stopped) throwaway cluster; dropping it stops the server and removes its
/// directory.
#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl Cluster {
    /// Creates a cluster in a new directory under the system's temporary directory, named after
    /// `label`, and starts its server.
    ///
    /// # Errors
    /// Why the cluster could not be made or started (no PostgreSQL installed, no `postgres`
    /// user when running as root, `initdb` or `pg_ctl` failing), as a sentence.
    pub fn start(label: &str) -> Result<Self, String> {
        let bin_dir = find_bin_dir()?;
        let as_postgres_user = running_as_root();
        let data_dir = unique_dir(label)?;
        if as_postgres_user {
            run(Command::new("chown").args(["postgres:postgres", &data_dir.display().to_string()]))?;
        }
        let port = free_port()?;
        let cluster = Self { bin_dir, data_dir, port, as_postgres_user };
        let data = cluster.data_dir.display().to_string();
        run(&mut cluster.as_owner("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]))?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// The URL of the `postgres` database as the `postgres` superuser.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`: connections are cut, as when the
    /// server crashes or its host goes away).
    ///
    /// # Errors
    /// Why `pg_ctl` failed.
    pub fn stop(&self) -> Result<(), String> {
        let data = self.data_dir.display().to_string();
        run(&mut self.as_owner("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]))
    }

    /// Starts the server again on the same port, after [`stop`](Self::stop).
    ///
    /// # Errors
    /// Why `pg_ctl` failed.
    pub fn start_server(&self) -> Result<(), String> {
        let data = self.data_dir.display().to_string();
        let options = format!("-c listen_addresses=127.0.0.1 -p {} -k {data}", self.port);
        let log = format!("{data}/server.log");
        run(&mut self.as_owner("pg_ctl", &["-D", &data, "-o", &options, "-l", &log, "-w", "start"]))
    }

    /// One of the cluster's programs with `args`, run as the cluster's owner.
    fn as_owner(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin_dir.join(program);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args);
        command
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir.display().to_string();
        // Already stopped is fine; anything else is worth a line, never a panic in drop.
        let stop = self.as_owner("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]).output();
        if let Ok(output) = &stop
            && !output.status.success()
            && !String::from_utf8_lossy(&output.stderr).contains("Is server running?")
        {
            eprintln!("throwaway-postgres: pg_ctl stop failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        if let Err(error) = std::fs::remove_dir_all(&self.data_dir) {
            eprintln!("throwaway-postgres: could not remove {data}: {error}");
        }
    }
}

/// The newest installed PostgreSQL's `bin` directory (Debian's layout).
fn find_bin_dir() -> Result<PathBuf, String> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .map_err(|_| {
            "no PostgreSQL installation under /usr/lib/postgresql (install the postgresql package)".to_owned()
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    // Versions sort as numbers only when they have as many digits; 15 and 16 do.
    versions.sort();
    versions.pop().ok_or_else(|| "no initdb found under /usr/lib/postgresql/*/bin".to_owned())
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A new, empty directory: the process id and a counter keep clusters of one process apart.
fn unique_dir(label: &str) -> Result<PathBuf, String> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let sequence = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{label}-pg-{}-{sequence}", std::process::id()));
    // A directory left by a killed run of an earlier process with the same id is stale.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    Ok(dir)
}

/// A free port below Linux's ephemeral range (32768 and up), so that no socket the system numbers
/// by itself (a server binding port 0, a client's local end) takes it while the cluster is
/// stopped and its port must stay free for the restart.
fn free_port() -> Result<u16, String> {
    const FIRST: u16 = 20_000;
    const COUNT: u16 = 12_000;
    // Spread clusters of concurrent processes over the range: std's hasher seeds are random.
    let random = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), std::process::id());
    let offset = u16::try_from(random % u64::from(COUNT)).unwrap_or(0);
    (0..COUNT)
        .map(|step| FIRST + (offset + step) % COUNT)
        .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .ok_or_else(|| format!("no free port in {FIRST}..{}", FIRST + COUNT))
}

/// Runs `command` to completion, its output captured and shown only when it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output().map_err(|error| format!("cannot start {command:?}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

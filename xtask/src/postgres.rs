//! Finding a PostgreSQL server for the tests: the URL in `IDENTITY_TEST_POSTGRES_URL` or
//! `DATABASE_URL` when given; otherwise the local server on 127.0.0.1:5432 when it answers;
//! otherwise a throwaway cluster started from the installed PostgreSQL binaries (as the
//! `postgres` user when running as root, since the server refuses to run as root) and removed
//! afterwards. `XTASK_POSTGRES=throwaway` forces the throwaway cluster.

use crate::util::run_command;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// An administrative URL for a PostgreSQL server, and the cluster to stop when it is ours.
#[derive(Debug)]
pub(crate) struct Postgres {
    /// Connection URL of a database the tests may use to create and drop their own databases.
    pub(crate) admin_url: String,
    throwaway: Option<Throwaway>,
}

#[derive(Debug)]
struct Throwaway {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    as_postgres_user: bool,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(cluster) = &self.throwaway {
            let data = cluster.data_dir.display().to_string();
            let pg_ctl = cluster.bin_dir.join("pg_ctl").display().to_string();
            let mut stop =
                as_cluster_owner(cluster.as_postgres_user, &pg_ctl, &["-D", &data, "-m", "fast", "-w", "stop"]);
            if let Err(error) = run_command(&mut stop) {
                eprintln!("xtask: could not stop the throwaway PostgreSQL cluster: {error}");
            }
            if let Err(error) = std::fs::remove_dir_all(&cluster.data_dir) {
                eprintln!("xtask: could not remove {}: {error}", cluster.data_dir.display());
            }
        }
    }
}

/// Finds or starts a server; `Err` says why none is available.
/// `XTASK_POSTGRES=throwaway` forces a throwaway cluster even when a server is running.
pub(crate) fn provide() -> Result<Postgres, String> {
    if std::env::var("XTASK_POSTGRES").is_ok_and(|v| v == "throwaway") {
        return start_throwaway_cluster();
    }
    for variable in ["IDENTITY_TEST_POSTGRES_URL", "DATABASE_URL"] {
        if let Ok(url) = std::env::var(variable)
            && url.starts_with("postgres")
        {
            eprintln!("xtask: using PostgreSQL from {variable}");
            return Ok(Postgres { admin_url: url, throwaway: None });
        }
    }
    let local: SocketAddr = ([127, 0, 0, 1], 5432).into();
    if TcpStream::connect_timeout(&local, Duration::from_secs(2)).is_ok() {
        eprintln!("xtask: using the PostgreSQL server on 127.0.0.1:5432");
        return Ok(Postgres { admin_url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(), throwaway: None });
    }
    start_throwaway_cluster()
}

fn find_bin_dir() -> Result<PathBuf, String> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .map_err(|_| {
            "no PostgreSQL installation under /usr/lib/postgresql (install the postgresql package)".to_owned()
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().ok_or_else(|| "no initdb found under /usr/lib/postgresql/*/bin".to_owned())
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn as_cluster_owner(as_postgres_user: bool, program: &str, args: &[&str]) -> Command {
    if as_postgres_user {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]).args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn start_throwaway_cluster() -> Result<Postgres, String> {
    let bin_dir = find_bin_dir()?;
    let as_postgres_user = running_as_root();
    let data_dir = std::env::temp_dir().join(format!("identity-xtask-pg-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    if as_postgres_user {
        run_command(Command::new("chown").args(["postgres:postgres", &data_dir.display().to_string()]))?;
    }
    let data = data_dir.display().to_string();
    let port = free_port()?;
    eprintln!("xtask: starting a throwaway PostgreSQL cluster in {data} on port {port}");
    let cluster = Throwaway { bin_dir: bin_dir.clone(), data_dir: data_dir.clone(), as_postgres_user };
    let postgres =
        Postgres { admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), throwaway: Some(cluster) };
    let initdb = bin_dir.join("initdb").display().to_string();
    run_command(&mut as_cluster_owner(
        as_postgres_user,
        &initdb,
        &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
    ))?;
    let pg_ctl = bin_dir.join("pg_ctl").display().to_string();
    let options = format!("-c listen_addresses=127.0.0.1 -p {port} -k {data}");
    let log = format!("{data}/server.log");
    run_command(&mut as_cluster_owner(
        as_postgres_user,
        &pg_ctl,
        &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
    ))?;
    Ok(postgres)
}

//! Finding a PostgreSQL server for the tests: the URL in `IDENTITY_TEST_POSTGRES_URL` or
//! `DATABASE_URL` when given; otherwise the local server on 127.0.0.1:5432 when it answers;
//! otherwise a [`Cluster`] of its own, started from the installed PostgreSQL binaries and
//! removed afterwards. `XTASK_POSTGRES=throwaway` forces the throwaway cluster.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use throwaway_postgres::Cluster;

/// An administrative URL for a PostgreSQL server, and the cluster to stop when it is ours.
#[derive(Debug)]
pub(crate) struct Postgres {
    /// Connection URL of a database the tests may use to create and drop their own databases.
    pub(crate) admin_url: String,
    /// The throwaway cluster behind `admin_url`, stopped and removed when dropped.
    _throwaway: Option<Cluster>,
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
            return Ok(Postgres { admin_url: url, _throwaway: None });
        }
    }
    let local: SocketAddr = ([127, 0, 0, 1], 5432).into();
    if TcpStream::connect_timeout(&local, Duration::from_secs(2)).is_ok() {
        eprintln!("xtask: using the PostgreSQL server on 127.0.0.1:5432");
        return Ok(Postgres { admin_url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(), _throwaway: None });
    }
    start_throwaway_cluster()
}

fn start_throwaway_cluster() -> Result<Postgres, String> {
    let cluster = Cluster::start("identity-xtask")?;
    eprintln!("xtask: started a throwaway PostgreSQL cluster on port {}", cluster.port());
    Ok(Postgres { admin_url: cluster.admin_url(), _throwaway: Some(cluster) })
}

//! Connections: the [`AnyConnection`] enum over the compiled-in backends, the r2d2 pool in
//! [`Database`], SQLite's per-connection settings, and the helpers every store call goes
//! through: [`Database::run`] (pool checkout on a blocking thread) and [`write_transaction`]
//! (`BEGIN IMMEDIATE` on SQLite).

use crate::error::DatabaseError;
use crate::url::{Backend, DatabaseUrl};
use diesel::Connection;
use diesel::connection::TransactionManager;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use std::time::Duration;

/// A connection to whichever backend the URL named (Diesel's `MultiConnection`).
///
/// Build it with [`establish`] rather than `Connection::establish`, which would guess the
/// backend from the string.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgresql(diesel::PgConnection),
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnyConnection({})", self.backend())
    }
}

impl AnyConnection {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            AnyConnection::Postgresql(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Settings of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The most connections the pool opens (default 10).
    pub max_size: u32,
    /// Connections kept open when idle; [`Database::connect_with`] opens this many up front.
    /// Default 0: with a minimum, r2d2 opens replacements on its own threads in the background,
    /// and a process that exits while such an attempt is inside libpq can crash in the library's
    /// exit-time cleanup. A wrong URL still fails at start-up, through one direct connection.
    pub min_idle: u32,
    /// How long a store call waits for a free connection before failing with a retryable
    /// error (default 10 s).
    pub connection_timeout: Duration,
    /// SQLite only: how long a statement waits for another connection's write lock before
    /// failing with "database is locked" (default 5 s).
    pub sqlite_busy_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 10,
            min_idle: 0,
            connection_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens one connection to the database of `url`, with the SQLite settings applied
/// (`busy_timeout` 5 s, `journal_mode=WAL`, `foreign_keys=ON`): for tools such as the migration
/// command, which need no pool.
pub fn establish(url: &DatabaseUrl) -> Result<AnyConnection, DatabaseError> {
    #[cfg_attr(not(feature = "sqlite"), expect(unused_mut, reason = "only SQLite connections are adjusted"))]
    let mut connection = open(url)?;
    #[cfg(feature = "sqlite")]
    SqliteSettings { busy_timeout: PoolOptions::default().sqlite_busy_timeout }.apply(&mut connection)?;
    Ok(connection)
}

/// Opens a connection of the backend the URL names, without guessing.
fn open(url: &DatabaseUrl) -> Result<AnyConnection, DatabaseError> {
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite(path) => {
            let path = path.to_str().ok_or_else(|| DatabaseError::InvalidUrl {
                url: url.to_string(),
                reason: "the SQLite path is not valid UTF-8",
            })?;
            Ok(AnyConnection::Sqlite(diesel::SqliteConnection::establish(path)?))
        }
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(postgres_url) => {
            Ok(AnyConnection::Postgresql(diesel::PgConnection::establish(postgres_url)?))
        }
        #[allow(unreachable_patterns, reason = "reached only when a backend feature is off")]
        other => Err(DatabaseError::BackendDisabled(other.backend())),
    }
}

/// The r2d2 manager: opens connections of the URL's backend.
#[derive(Debug)]
struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DatabaseError;

    fn connect(&self) -> Result<AnyConnection, DatabaseError> {
        open(&self.url)
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), DatabaseError> {
        Ok(connection.ping()?)
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        connection.is_broken()
    }
}

/// Keeps a SQLite database private to its owner: password hashes, and a host's signing keys,
/// live in it. A new file is created with mode 0600 before SQLite opens it (SQLite gives its
/// `-wal` and `-shm` files the database file's mode); an existing file that the group or others
/// can read gets a warning. A path SQLite cannot create either is left for `open` to report.
#[cfg(feature = "sqlite")]
fn restrict_sqlite_file(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", metadata.permissions().mode() & 0o777),
                "the SQLite database can be read by other users of this machine; restrict it with chmod 600 \
                 (and its -wal and -shm files)"
            ),
            Ok(_) => {}
            Err(_) => {
                let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// SQLite's per-connection settings, applied when the pool opens a connection.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Copy)]
struct SqliteSettings {
    busy_timeout: Duration,
}

#[cfg(feature = "sqlite")]
impl SqliteSettings {
    fn apply(&self, connection: &mut AnyConnection) -> Result<(), DatabaseError> {
        use diesel::connection::SimpleConnection;
        match connection {
            // The busy timeout comes first so that switching to WAL waits for other connections.
            AnyConnection::Sqlite(sqlite) => Ok(sqlite.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                self.busy_timeout.as_millis()
            ))?),
            #[allow(unreachable_patterns, reason = "reached when the PostgreSQL backend is compiled in")]
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "sqlite")]
impl diesel::r2d2::CustomizeConnection<AnyConnection, DatabaseError> for SqliteSettings {
    fn on_acquire(&self, connection: &mut AnyConnection) -> Result<(), DatabaseError> {
        self.apply(connection)
    }
}

/// A pool of connections to one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
}

impl Database {
    /// Parses `url` and opens a pool with the default [`PoolOptions`].
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        Self::connect_with(DatabaseUrl::parse(url)?, PoolOptions::default()).await
    }

    /// Opens a pool, establishing `options.min_idle` connections before returning. A database
    /// that cannot be opened at all fails at once with [`DatabaseError::Connection`].
    pub async fn connect_with(url: DatabaseUrl, options: PoolOptions) -> Result<Self, DatabaseError> {
        if options.max_size == 0 || options.min_idle > options.max_size {
            return Err(DatabaseError::Config(format!(
                "pool sizes must satisfy 0 < max_size and min_idle <= max_size (got max_size {}, min_idle {})",
                options.max_size, options.min_idle
            )));
        }
        let backend = url.backend();
        let builder = Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(options.min_idle))
            .connection_timeout(options.connection_timeout);
        #[cfg(feature = "sqlite")]
        let builder =
            builder.connection_customizer(Box::new(SqliteSettings { busy_timeout: options.sqlite_busy_timeout }));
        // Opening connections is blocking work. One direct connection first reports a wrong
        // path, host or password precisely, where the pool would retry until it times out.
        let pool = tokio::task::spawn_blocking(move || {
            #[cfg(feature = "sqlite")]
            if let Some(path) = url.sqlite_path() {
                restrict_sqlite_file(path);
            }
            open(&url)?;
            Ok::<_, DatabaseError>(builder.build(Manager { url })?)
        })
        .await??;
        Ok(Self { pool, backend })
    }

    /// The backend of this database.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `work` with a pooled connection on tokio's blocking threads, so that the async
    /// runtime never blocks; the only way the store crates touch the database. `work` returns
    /// its caller's error type, so a store keeps its own errors (a refusal, bad stored data)
    /// apart from the pool's.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DatabaseError> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = pool.get().map_err(DatabaseError::from)?;
            work(&mut connection)
        })
        .await
        .map_err(DatabaseError::from)?
    }
}

/// Runs `body` in a transaction that holds the write lock from its start: `BEGIN IMMEDIATE` on
/// SQLite (so concurrent writers wait on the busy timeout instead of failing when a read lock
/// must be upgraded), a plain `BEGIN` on PostgreSQL (whose row locks do that job). Commits on
/// `Ok`, rolls back on `Err`, as Diesel's `Connection::transaction` does.
pub fn write_transaction<T, E>(
    connection: &mut AnyConnection,
    body: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match connection {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(sqlite) => {
            diesel::connection::AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        #[cfg(feature = "postgres")]
        AnyConnection::Postgresql(_) => AnyConnection::begin_transaction(connection)?,
    }
    match body(connection) {
        Ok(value) => {
            AnyConnection::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => match AnyConnection::rollback_transaction(connection) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

//! The crate's one error type, and which failures are worth retrying.

use crate::url::Backend;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in this crate: opening, pooling or querying a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// A database URL that is not `sqlite://…`, `postgres://…` or `postgresql://…`, or is
    /// otherwise unusable.
    #[error("invalid database url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password hidden.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The URL names a backend this build does not include.
    #[error("the {0} backend is not compiled in (enable the `{feature}` feature)", feature = .0.feature())]
    BackendDisabled(Backend),
    /// Invalid pool settings.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A connection could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    /// The pool gave no connection in time.
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A statement failed.
    #[error("database error: {0}")]
    Query(#[from] DieselError),
    /// The database answers but cannot be written: a SQLite database whose files are
    /// read-only. Retryable: the pool replaces its connections once the files are writable.
    #[error("the database is read-only")]
    ReadOnly,
    /// The blocking task that ran the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl DatabaseError {
    /// True when retrying the same operation later may succeed: the database was unreachable,
    /// busy, or the pool was exhausted.
    pub fn is_retryable(&self) -> bool {
        match self {
            DatabaseError::Connection(_) | DatabaseError::Pool(_) | DatabaseError::ReadOnly => true,
            DatabaseError::Query(error) => is_transient(error),
            _ => false,
        }
    }
}

/// What the messages of transient database errors contain.
const TRANSIENT_MESSAGES: [&str; 10] = [
    "database is locked",
    "database table is locked",
    // SQLITE_READONLY, whatever its extended code: the file, its -wal or its -shm cannot be
    // written now; a chmod or a remount makes it writable again.
    "attempt to write a readonly database",
    // PostgreSQL's lock_timeout (SQLSTATE 55P03): another connection held a lock too long.
    "canceling statement due to lock timeout",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "server closed the connection unexpectedly",
    // libpq on a connection it already knows to be lost.
    "no connection to the server",
];

/// Whether a Diesel error is a transient condition of the server rather than a bad statement.
fn is_transient(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection => true,
            // SQLite reports SQLITE_BUSY, SQLITE_LOCKED and SQLITE_READONLY as unknown errors with
            // these messages;
            // PostgreSQL going down or coming up (SQLSTATE class 57, "operator intervention", and
            // a connection lost mid-query) reaches Diesel as unknown errors too, by message only
            // (in English, the server's default `lc_messages`).
            _ => TRANSIENT_MESSAGES.iter().any(|transient| info.message().contains(transient)),
        },
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    /// A database error of `kind` with `message`, as a driver reports it.
    fn database_error(kind: DatabaseErrorKind, message: &'static str) -> DatabaseError {
        DatabaseError::Query(DieselError::DatabaseError(kind, Box::new(Info(message))))
    }

    #[test]
    fn busy_and_serialization_failures_are_retryable() {
        assert!(database_error(DatabaseErrorKind::Unknown, "database is locked").is_retryable());
        assert!(database_error(DatabaseErrorKind::SerializationFailure, "could not serialize access").is_retryable());
    }

    #[test]
    fn postgresql_going_down_or_coming_up_is_retryable() {
        for message in [
            "terminating connection due to administrator command",
            "the database system is shutting down",
            "no connection to the server\n",
            "server closed the connection unexpectedly",
        ] {
            assert!(database_error(DatabaseErrorKind::Unknown, message).is_retryable(), "{message}");
        }
    }

    #[test]
    fn a_postgresql_lock_timeout_is_retryable() {
        assert!(database_error(DatabaseErrorKind::Unknown, "canceling statement due to lock timeout").is_retryable());
    }

    #[test]
    fn a_read_only_sqlite_file_is_retryable() {
        assert!(database_error(DatabaseErrorKind::Unknown, "attempt to write a readonly database").is_retryable());
        assert!(DatabaseError::ReadOnly.is_retryable());
    }

    #[test]
    fn bad_statements_are_not_retryable() {
        assert!(!database_error(DatabaseErrorKind::Unknown, "near \"SELEC\": syntax error").is_retryable());
        assert!(!database_error(DatabaseErrorKind::UniqueViolation, "duplicate key").is_retryable());
    }
}

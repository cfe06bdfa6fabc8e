//! Database URLs, parsed by scheme so that a typo never turns into a new SQLite file (see
//! [`DatabaseUrl`]).

use crate::error::DatabaseError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The cargo feature of this crate that compiles the backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// A parsed database URL. `Display` hides a PostgreSQL password.
///
/// | URL | Meaning |
/// |---|---|
/// | `sqlite://relative/path.db` | the file `relative/path.db`, relative to the working directory |
/// | `sqlite:///absolute/path.db` | the file `/absolute/path.db` |
/// | `postgres://…`, `postgresql://…` | a PostgreSQL connection URL, handed to libpq unchanged |
///
/// Anything else (`postgress://…`, `sqlite:file.db`, a bare path, `sqlite://:memory:`) is
/// [`DatabaseError::InvalidUrl`]. A SQLite path may use `%XX` escapes (`%20` for a space);
/// query strings are rejected rather than silently ignored.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (created when missing, as SQLite does).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

const SQLITE_SCHEME: &str = "sqlite://";
const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

impl DatabaseUrl {
    /// Parses a URL; see [`DatabaseUrl`] for the accepted forms.
    pub fn parse(url: &str) -> Result<Self, DatabaseError> {
        let invalid = |reason| DatabaseError::InvalidUrl { url: redact(url), reason };
        if let Some(rest) = url.strip_prefix(SQLITE_SCHEME) {
            if rest.contains('?') || rest.contains('#') {
                return Err(invalid("SQLite URLs take no query string or fragment"));
            }
            let path = percent_encoding::percent_decode_str(rest)
                .decode_utf8()
                .map_err(|_| invalid("the path is not valid UTF-8 after %-decoding"))?;
            if path.is_empty() || path == "/" {
                return Err(invalid(
                    "the SQLite URL names no file (use sqlite://relative.db or sqlite:///absolute.db)",
                ));
            }
            if path == ":memory:" || path.starts_with("file:") {
                return Err(invalid("in-memory and `file:` SQLite databases are not supported by a connection pool"));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path.into_owned())));
        }
        if POSTGRES_SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if url.contains("://") {
            Err(invalid("unknown scheme (expected sqlite://, postgres:// or postgresql://)"))
        } else {
            Err(invalid("not a URL (expected sqlite://path, sqlite:///absolute/path, postgres://…)"))
        }
    }

    /// A SQLite URL for a file path.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        DatabaseUrl::Sqlite(path.into())
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, for a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Self::parse(url)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "{SQLITE_SCHEME}{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with the password of its user-info part (`user:password@`) replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> &'static str {
        match DatabaseUrl::parse(url) {
            Err(DatabaseError::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn sqlite_relative_and_absolute_paths() {
        assert_eq!(DatabaseUrl::parse("sqlite://data/identity.db").unwrap(), DatabaseUrl::sqlite("data/identity.db"));
        assert_eq!(DatabaseUrl::parse("sqlite:///var/lib/id.db").unwrap(), DatabaseUrl::sqlite("/var/lib/id.db"));
        assert_eq!(DatabaseUrl::parse("sqlite://my%20db.sqlite").unwrap(), DatabaseUrl::sqlite("my db.sqlite"));
        assert_eq!(DatabaseUrl::parse("sqlite://x.db").unwrap().backend(), Backend::Sqlite);
    }

    #[test]
    fn postgres_urls_pass_through() {
        for url in ["postgres://postgres@127.0.0.1:5432/postgres", "postgresql://u:p@db/identity?sslmode=disable"] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed, DatabaseUrl::Postgres(url.to_owned()));
            assert_eq!(parsed.backend(), Backend::Postgres);
            assert_eq!(parsed.sqlite_path(), None);
        }
    }

    #[test]
    fn unknown_schemes_and_bare_paths_are_errors() {
        assert!(reason("postgress://localhost/db").contains("unknown scheme"));
        assert!(reason("mysql://localhost/db").contains("unknown scheme"));
        assert!(reason("identity.db").contains("not a URL"));
        assert!(reason("/var/lib/identity.db").contains("not a URL"));
        assert!(reason("sqlite:identity.db").contains("not a URL"));
        assert!(reason("").contains("not a URL"));
        assert!(reason("SQLITE://identity.db").contains("unknown scheme"));
    }

    #[test]
    fn unusable_sqlite_urls_are_errors() {
        assert!(reason("sqlite://").contains("names no file"));
        assert!(reason("sqlite:///").contains("names no file"));
        assert!(reason("sqlite://:memory:").contains("in-memory"));
        assert!(reason("sqlite://file:x.db").contains("in-memory"));
        assert!(reason("sqlite://x.db?mode=ro").contains("query string"));
        assert!(reason("sqlite://%FF.db").contains("UTF-8"));
    }

    #[test]
    fn display_hides_passwords() {
        let url = DatabaseUrl::parse("postgres://admin:s3cret@db:5432/identity").unwrap();
        assert_eq!(url.to_string(), "postgres://admin:***@db:5432/identity");
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = DatabaseUrl::parse("postgress://admin:s3cret@db/identity").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(DatabaseUrl::sqlite("a.db").to_string(), "sqlite://a.db");
        assert_eq!(DatabaseUrl::sqlite("/a.db").to_string(), "sqlite:///a.db");
    }
}

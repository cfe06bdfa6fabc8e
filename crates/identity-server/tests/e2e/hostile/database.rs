//! Every row of every table, read as another application sharing the database would (with
//! Diesel, each row as one line of text), so that two reads can be compared row by row.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection as _;
use diesel::sql_types::Text;
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};

use super::shorten;

/// One text column, as every snapshot query returns.
#[derive(Debug, QueryableByName)]
struct TextRow {
    /// The value.
    #[diesel(sql_type = Text)]
    value: String,
}

/// Every table's rows, each as one line of text, in a stable order.
pub(super) type Snapshot = BTreeMap<String, Vec<String>>;

/// A connection to the test database, opened as another application sharing it would.
pub(super) enum Db {
    /// SQLite, waiting for the server's write lock when the server holds it.
    Sqlite(diesel::SqliteConnection),
    /// PostgreSQL.
    Postgres(diesel::PgConnection),
}

impl Db {
    /// Connects to the database at `url`.
    pub(super) fn open(url: &str) -> Self {
        match url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut connection = diesel::SqliteConnection::establish(path).expect("SQLite opens");
                connection.batch_execute("PRAGMA busy_timeout = 10000;").expect("busy timeout set");
                Self::Sqlite(connection)
            }
            None => Self::Postgres(diesel::PgConnection::establish(url).expect("PostgreSQL connects")),
        }
    }

    /// The `value` column of every row `sql` returns.
    pub(super) fn texts(&mut self, sql: &str) -> Vec<String> {
        let query = diesel::sql_query(sql);
        let rows: diesel::QueryResult<Vec<TextRow>> = match self {
            Self::Sqlite(connection) => query.load(connection),
            Self::Postgres(connection) => query.load(connection),
        };
        rows.unwrap_or_else(|error| panic!("{sql}: {error}")).into_iter().map(|row| row.value).collect()
    }

    /// Every row of every table (SQLite's own tables aside).
    pub(super) fn snapshot(&mut self) -> Snapshot {
        let sqlite = matches!(self, Self::Sqlite(_));
        let tables = self.texts(if sqlite {
            "SELECT name AS value FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"
        } else {
            "SELECT table_name::text AS value FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        });
        tables.into_iter().map(|table| (table.clone(), self.rows(&table, sqlite))).collect()
    }

    /// Every row of `table`, each quoted column after column, sorted.
    fn rows(&mut self, table: &str, sqlite: bool) -> Vec<String> {
        let query = if sqlite {
            let columns = self.texts(&format!("SELECT name AS value FROM pragma_table_info('{table}') ORDER BY cid"));
            let quoted: Vec<String> = columns.iter().map(|column| format!("quote(\"{column}\")")).collect();
            let row = quoted.join(" || '|' || ");
            format!("SELECT {row} AS value FROM \"{table}\" ORDER BY 1")
        } else {
            format!("SELECT row_value::text AS value FROM \"{table}\" AS row_value ORDER BY 1")
        };
        self.texts(&query)
    }

    /// The `family_id` of the stored grant with `key`.
    pub(super) fn family(&mut self, key: &str) -> String {
        let sql = format!("SELECT family_id AS value FROM oidc_persisted_grants WHERE \"key\" = '{key}'");
        let families = self.texts(&sql);
        families.into_iter().next().unwrap_or_else(|| panic!("no grant with the key {key}"))
    }

    /// For each stored grant with `key`: `used` when it is marked consumed, else `unused`.
    pub(super) fn consumption(&mut self, key: &str) -> Vec<String> {
        self.texts(&format!(
            "SELECT CASE WHEN consumed_time IS NULL THEN 'unused' ELSE 'used' END AS value \
             FROM oidc_persisted_grants WHERE \"key\" = '{key}'"
        ))
    }

    /// How many stored grants belong to `family`, as text.
    pub(super) fn family_size(&mut self, family: &str) -> String {
        let sql =
            format!("SELECT CAST(COUNT(*) AS TEXT) AS value FROM oidc_persisted_grants WHERE family_id = '{family}'");
        self.texts(&sql).concat()
    }
}

/// The rows that differ between `before` and `after`, per table (`-` gone, `+` new), except those
/// `allowed` accepts as the write a refusal exists to make.
pub(super) fn changes(before: &Snapshot, after: &Snapshot, allowed: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let tables: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    for table in tables {
        let (old, new) = (before.get(table).unwrap_or(&empty), after.get(table).unwrap_or(&empty));
        let gone = old.iter().filter(|row| !new.contains(row)).map(|row| ("-", row.as_str()));
        let added = new.iter().filter(|row| !old.contains(row)).map(|row| ("+", row.as_str()));
        for (sign, row) in gone.chain(added) {
            if !allowed(table.as_str(), row) {
                changes.push(format!("{table}: {sign} {}", shorten(row, 300)));
            }
        }
    }
    changes
}

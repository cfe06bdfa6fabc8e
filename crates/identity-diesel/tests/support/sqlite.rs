//! SQLite test databases: files in temporary directories (an in-memory database would be one
//! database per pooled connection).

use identity_diesel::{Database, DatabaseUrl, PoolOptions};
use std::path::Path;

/// Opens the SQLite file at `path` (creating it when missing) and runs the migrations.
pub(crate) async fn migrated(path: &Path) -> Database {
    let db = Database::connect_with(DatabaseUrl::sqlite(path), PoolOptions::default())
        .await
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    db.run_migrations().await.unwrap_or_else(|error| panic!("cannot migrate {}: {error}", path.display()));
    db
}

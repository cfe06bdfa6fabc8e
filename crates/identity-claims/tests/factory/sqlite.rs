//! Every shared case against `identity-diesel`'s store on a SQLite file in a temporary
//! directory, migrated like a fresh database.

use crate::cases::Stores;
use identity_core::UserExtension;
use identity_diesel::{Database, DieselStore};
use std::sync::Arc;

async fn sqlite_stores<X: UserExtension>() -> Stores<X> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("identity.db").display());
    let db = Database::connect(&url).await.expect("the SQLite database opens");
    db.run_migrations().await.expect("the migrations run");
    let store = Arc::new(DieselStore::<X>::new(db).await.expect("the store opens"));
    Stores { users: store.clone(), roles: store, guard: Box::new(dir) }
}

factory_cases!(sqlite_stores);

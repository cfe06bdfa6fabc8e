//! Every scenario on a SQLite file in a temporary directory.

use crate::support::TestEnv;

/// A fresh SQLite database, named by an absolute path.
pub(crate) async fn env() -> TestEnv {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("identity.db").display());
    TestEnv::new(dir, url, Box::new(()))
}

crate::scenarios::backend_scenarios!(env);

//! The store conformance suite on the in-memory stores, and a check that the suite's macro
//! lists every case.

use std::sync::Arc;

use oidc_server::conformance::OperationalStores;
use oidc_server::{InMemoryPersistedGrantStore, InMemorySessionStore, InMemorySigningKeyStore};
use test_support::Backend;

async fn memory_stores(_: Backend) -> OperationalStores {
    OperationalStores {
        grants: Arc::new(InMemoryPersistedGrantStore::new()),
        keys: Arc::new(InMemorySigningKeyStore::new()),
        sessions: Arc::new(InMemorySessionStore::new()),
        guard: Box::new(()),
    }
}

oidc_server::operational_store_conformance!(setup: crate::memory_stores, backends: [memory]);

#[test]
fn every_case_is_listed() {
    let source = include_str!("../src/conformance.rs");
    let functions: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split('(').next())
        .collect();
    let stamped =
        source.split_once("module: oidc_server::conformance,\n            cases: [").expect("the macro's list").1;
    let stamped: Vec<&str> = stamped
        .split_once(']')
        .expect("the list's end")
        .0
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    assert_eq!(stamped, functions, "the macro must list every case, in the order of the module");
}

//! Claims factory tests: the shared cases of [`cases`] run against every store (the in-memory
//! store here, SQLite in [`sqlite`]), and the store-call bound is checked with a counting store.

#[macro_use]
mod cases;
mod counting;
mod memory;
mod sqlite;

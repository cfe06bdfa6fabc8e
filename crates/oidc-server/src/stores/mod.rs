//! Storage extension points with in-memory implementations.
//!
//! Every trait here is object-safe and async so that database-backed implementations can live in
//! other crates; records that a store persists are plain serde types with `chrono` times.

pub(crate) mod clients;
pub(crate) mod grants;
pub(crate) mod keys;
pub(crate) mod resources;
pub(crate) mod sessions;

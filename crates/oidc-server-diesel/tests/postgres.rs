//! PostgreSQL tests (being written).

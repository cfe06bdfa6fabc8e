//! Nothing to link: this package only holds the stack tests in `tests/`, which compose the
//! library crates the way an application does (see `tests/custom_user.rs`).

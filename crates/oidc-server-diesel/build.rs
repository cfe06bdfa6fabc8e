//! Rebuilds the crate when an embedded migration changes (`embed_migrations!` reads the
//! directory at compile time, and cargo does not track it on its own).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

//! Rebuilds the crate when an embedded migration or bootstrap script changes (`embed_migrations!`
//! and `include_str!` of a directory are not tracked by cargo on their own).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=bootstrap");
}

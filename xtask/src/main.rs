//! Project automation, run as `cargo xtask <command>`.

fn main() {
    eprintln!("usage: cargo xtask <test|migrate|bench>");
    std::process::exit(2);
}

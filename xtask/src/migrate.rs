//! `cargo xtask migrate --database-url URL [status|up|down]`: delegates to the starter host's
//! `migrate` command, which embeds the migrations of every store.

use crate::util::{cargo, run_command};

/// Parses the arguments and runs the migration command.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut url = std::env::var("DATABASE_URL").ok();
    let mut action = "up".to_owned();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--database-url" => url = Some(iter.next().ok_or("--database-url needs a value")?.clone()),
            "status" | "up" | "down" => action = arg.clone(),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let url = url.ok_or("give --database-url URL (or set DATABASE_URL)")?;
    run_command(cargo().args([
        "run",
        "--quiet",
        "-p",
        "identity-server",
        "--",
        "migrate",
        &action,
        "--database-url",
        &url,
    ]))
}

//! `identity-migrate [status|up|down] --database-url URL`: shows, applies or reverts the
//! migrations of a database (the command behind `cargo xtask migrate`). `DATABASE_URL` is used
//! when `--database-url` is not given.
//!
//! - `status`: the Identity schema found, and the applied and pending embedded migrations;
//! - `up` (default): creates the Identity schema when absent, then applies pending migrations;
//! - `down`: reverts the most recent embedded migration (never the Identity tables).

use identity_diesel::{
    DatabaseUrl, IdentitySchema, establish, migration_status, revert_last_migration, run_migrations,
};
use std::process::ExitCode;

const USAGE: &str = "usage: identity-migrate [status|up|down] [--database-url URL]";

fn run(args: &[String]) -> Result<(), String> {
    let mut url = std::env::var("DATABASE_URL").ok();
    let mut action = "up";
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--database-url" => url = Some(iter.next().ok_or("--database-url needs a value")?.clone()),
            "status" | "up" | "down" => action = arg.as_str(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let url = DatabaseUrl::parse(&url.ok_or_else(|| format!("give --database-url URL or set DATABASE_URL\n{USAGE}"))?)
        .map_err(|error| error.to_string())?;
    let mut connection = establish(&url).map_err(|error| error.to_string())?;
    match action {
        "status" => {
            let status = migration_status(&mut connection).map_err(|error| error.to_string())?;
            println!("database: {url}");
            println!("identity schema: {:?}", status.identity_schema);
            println!("applied: {}", list(&status.applied));
            println!("pending: {}", list(&status.pending));
        }
        "down" => match revert_last_migration(&mut connection).map_err(|error| error.to_string())? {
            Some(version) => println!("reverted {version}"),
            None => println!("no migration to revert"),
        },
        _ => {
            let before = migration_status(&mut connection).map_err(|error| error.to_string())?;
            let applied = run_migrations(&mut connection).map_err(|error| error.to_string())?;
            if before.identity_schema == IdentitySchema::Absent {
                println!("created the ASP.NET Core Identity schema (version 3)");
            }
            println!("applied: {}", list(&applied));
        }
    }
    Ok(())
}

fn list(versions: &[String]) -> String {
    if versions.is_empty() { "none".to_owned() } else { versions.join(", ") }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("identity-migrate: {message}");
            ExitCode::FAILURE
        }
    }
}

//! `identity-server`: the runnable starter host, the Rust counterpart of Duende's `isaspid`
//! template. It serves OpenID Connect with ASP.NET Core Identity users on SQLite or PostgreSQL,
//! and administers the database without writing code.
//!
//! ```text
//! identity-server serve [--listen ADDR] [--issuer URL] [--seed]
//! identity-server migrate [status|up|down]
//! identity-server seed
//! identity-server users create USERNAME [--password-stdin] [--email E] [--email-confirmed]
//!                              [--phone P] [--claim TYPE=VALUE]... [--role R]...
//! identity-server users list | show U | set-password U --password-stdin | lock U | unlock U
//! identity-server users revoke-tokens U
//! identity-server users add-claim U TYPE=VALUE | add-role U ROLE | delete U
//! identity-server users export [--output FILE] | import FILE|-
//! identity-server roles create NAME
//! identity-server sessions list [--user U] | revoke SESSION_ID
//! identity-server clients create ID [--public] [SETTINGS] | list | show ID | update ID SETTINGS
//! identity-server clients delete ID | add-secret ID | remove-secret ID N
//! identity-server grants list|revoke [--user U] [--client ID]
//! identity-server keys list | rotate | retire KID
//! identity-server config check
//! ```
//!
//! Every command takes `--config FILE` and `--database-url URL` (also `IDENTITY_CONFIG`,
//! `IDENTITY_DATABASE_URL`). The configuration file is described in `docs/configuration.md`;
//! each key of its sections also comes from `IDENTITY_<SECTION>__<KEY>`.
//! Logs go to stderr, filtered by `RUST_LOG` (default `info` for `serve`, `error` otherwise), as
//! text or, with `IDENTITY_LOG_FORMAT=json`, as one JSON object per line; `serve` writes one
//! access-log line per request (target `access`).
//!
//! `serve` also serves the pages of the interactive sign-in (`/account/login`, `/consent`,
//! `/account/logout`), so the authorization-code flow works in a browser, and the health
//! endpoints `/health/live` and `/health/ready`; over HTTPS itself when `[tls]` names a
//! certificate and key.

mod access_log;
mod admin;
mod cli;
mod clients;
mod config;
mod config_check;
mod database;
mod email;
mod error;
mod events;
mod health;
mod identity;
mod listener;
mod metrics;
mod pages;
mod proxy;
mod seed;
mod serve;
mod settings;
mod tls;
mod transfer;

use clap::Parser as _;
use cli::{Cli, Command, ConfigCommand};
use error::Result;
use identity::Identity;
use settings::Settings;
use std::io::IsTerminal as _;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The administration commands report failures themselves; the library's log lines would
    // only repeat them.
    let default_level = if matches!(cli.command, Command::Serve(_)) { "info" } else { "error" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `IDENTITY_LOG_FORMAT=json`: one JSON object per line, for log collectors.
    if std::env::var("IDENTITY_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }

    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(error::Failure::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("identity-server: error: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let settings = Settings::resolve(&cli.global)?;
    match cli.command {
        Command::Serve(args) => serve::serve(settings, args).await,
        Command::Migrate { action } => {
            database::migrate(&settings.database_url, settings.database_timeout(), action).await
        }
        Command::Seed => {
            let identity = Identity::open(&settings).await?;
            for outcome in seed::seed(&identity).await? {
                println!("{outcome}");
            }
            Ok(())
        }
        Command::Users(command) => admin::users(&Identity::open(&settings).await?, command).await,
        Command::Roles(command) => admin::roles(&Identity::open(&settings).await?, command).await,
        Command::Sessions(command) => admin::sessions(&Identity::open(&settings).await?, command).await,
        Command::Grants(command) => admin::grants(&Identity::open(&settings).await?, command).await,
        Command::Config(ConfigCommand::Check) => config_check::check(&settings),
        Command::Keys(command) => admin::keys(&settings, &open_database(&settings).await?, command).await,
        Command::Clients(command) => admin::clients(&settings, &open_database(&settings).await?, command).await,
    }
}

/// The configured database, migrated, for the commands that need no identity managers.
async fn open_database(settings: &Settings) -> Result<identity_diesel::Database> {
    database::open_migrated(&settings.database_url, settings.database_timeout()).await
}

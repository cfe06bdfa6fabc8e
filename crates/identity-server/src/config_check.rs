//! `config check`: loads the configuration as `serve` does (the file, or the demo one, with the
//! `IDENTITY_…` variables applied), makes every check `serve` makes before it listens, and prints
//! the effective configuration as TOML, every secret replaced by `"<redacted>"`. Like `serve` it
//! creates an `[email] pickup_directory` that does not exist yet; it touches nothing else.

use oidc_server::ServerOptions;
use toml::Value;

use crate::error::{Failure, Result};
use crate::settings::Settings;

/// What a secret is printed as.
const REDACTED: &str = "<redacted>";

/// Checks the configuration and prints it.
pub(crate) fn check(settings: &Settings) -> Result<()> {
    if !settings.is_demo() {
        crate::serve::require_secrets(settings)?;
    }
    settings.config.file.server_model()?;
    settings.config.file.identity_options()?;
    settings.key_management()?;
    settings.limits(ServerOptions::default().max_request_body_bytes)?;
    settings.session_options()?;
    settings.email()?.sender()?;
    if let Some(tls) = settings.tls()? {
        tls.server_config()?;
    }
    settings.trusted_proxies()?;
    println!("# {}: valid. The effective configuration, secrets redacted:", settings.config.source);
    print!("{}", effective(settings)?);
    Ok(())
}

/// The configuration `serve` would run with, as TOML without secrets.
fn effective(settings: &Settings) -> Result<String> {
    let unwritable = |error: &dyn std::fmt::Display| Failure::new(format!("cannot write the configuration: {error}"));
    let mut table = toml::Table::try_from(&settings.config.file).map_err(|error| unwritable(&error))?;
    for (key, variable) in [("issuer", "IDENTITY_ISSUER"), ("listen", "IDENTITY_LISTEN")] {
        if let Some(value) = std::env::var(variable).ok().filter(|value| !value.is_empty()) {
            table.insert(key.to_owned(), Value::String(value));
        }
    }
    // Its display hides a password.
    table.insert("database_url".to_owned(), Value::String(settings.database_url.to_string()));
    let secrets = [
        ("key_encryption_secret", &settings.key_encryption_secret),
        ("session_secret", &settings.session_secret),
        ("token_secret", &settings.token_secret),
    ];
    for (key, secret) in secrets {
        table.remove(key);
        if secret.is_some() {
            table.insert(key.to_owned(), Value::String(REDACTED.to_owned()));
        }
    }
    if let Some(Value::Array(clients)) = table.get_mut("clients") {
        for client in clients {
            if let Value::Table(client) = client
                && let Some(Value::Array(secrets)) = client.get_mut("secrets")
            {
                secrets.iter_mut().for_each(|secret| *secret = Value::String(REDACTED.to_owned()));
            }
        }
    }
    toml::to_string(&table).map_err(|error| unwritable(&error))
}

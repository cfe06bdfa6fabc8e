//! The effective settings of a run: each value from the first of command-line flag, environment
//! variable (both through clap), configuration file, default. The keys of the file's sections
//! come from their `IDENTITY_<SECTION>__<KEY>` variables through the file itself (see
//! `config::environment`), so the accessors here read the loaded configuration only.
//!
//! The secrets have no flag (command lines are visible to every local user): they come from
//! `IDENTITY_KEY_ENCRYPTION_SECRET`, `IDENTITY_SESSION_SECRET` and `IDENTITY_TOKEN_SECRET`, or
//! from the files that the same names with `_FILE` appended point to (as container platforms
//! mount secrets), else from the configuration file.

use crate::cli::GlobalArgs;
use crate::config::{Config, ConfigDuration, Source};
use crate::email::EmailSettings;
use crate::error::{Failure, Result};
use crate::listener::Limits;
use crate::proxy::TrustedProxies;
use crate::tls::TlsFiles;
use chrono::TimeDelta;
use identity_core::hashing_pool::{MAX_QUEUE_PER_THREAD, MAX_THREADS};
use identity_diesel::DatabaseUrl;
use oidc_server::{KeyManagementOptions, SessionOptions};

/// The database used when none is configured.
pub(crate) const DEFAULT_DATABASE_URL: &str = "sqlite://identity.db";
/// The address `serve` listens on when none is configured.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:5000";
/// The environment variable of the key-encryption secret.
const KEY_ENCRYPTION_SECRET_VARIABLE: &str = "IDENTITY_KEY_ENCRYPTION_SECRET";
/// The environment variable of the session secret.
const SESSION_SECRET_VARIABLE: &str = "IDENTITY_SESSION_SECRET";
/// The environment variable of the "Default" token provider's secret.
const TOKEN_SECRET_VARIABLE: &str = "IDENTITY_TOKEN_SECRET";

/// The settings every command needs.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The configuration file (or the demo configuration).
    pub(crate) config: Config,
    /// The database URL (its `Display` hides a password).
    pub(crate) database_url: DatabaseUrl,
    /// The secret that encrypts signing keys at rest, if any.
    pub(crate) key_encryption_secret: Option<String>,
    /// The secret that seals sign-in session cookies, if any.
    pub(crate) session_secret: Option<String>,
    /// The secret of the "Default" token provider, if any.
    pub(crate) token_secret: Option<String>,
}

impl Settings {
    /// Loads the configuration and resolves the shared settings.
    pub(crate) fn resolve(global: &GlobalArgs) -> Result<Self> {
        let config = Config::load(global.config.as_deref())?;
        let hashing = &config.file.hashing;
        if hashing.threads.is_some_and(|threads| !(1..=MAX_THREADS).contains(&threads)) {
            return Err(Failure::new(format!(
                "[hashing] threads (IDENTITY_HASHING__THREADS) must be from 1 to {MAX_THREADS}"
            )));
        }
        if hashing.queue_per_thread.is_some_and(|queue| queue > MAX_QUEUE_PER_THREAD) {
            return Err(Failure::new(format!(
                "[hashing] queue_per_thread (IDENTITY_HASHING__QUEUE_PER_THREAD) must be at most {MAX_QUEUE_PER_THREAD}"
            )));
        }
        let database_url = DatabaseUrl::parse(&first(
            global.database_url.clone(),
            config.file.database_url.clone(),
            DEFAULT_DATABASE_URL,
        ))?;
        let key_encryption_secret =
            secret_from_environment(KEY_ENCRYPTION_SECRET_VARIABLE)?.or(config.file.key_encryption_secret.clone());
        let session_secret = secret_from_environment(SESSION_SECRET_VARIABLE)?.or(config.file.session_secret.clone());
        let token_secret = secret_from_environment(TOKEN_SECRET_VARIABLE)?.or(config.file.token_secret.clone());
        Ok(Self { config, database_url, key_encryption_secret, session_secret, token_secret })
    }

    /// The listener's limits (`[limits]`); `max_body_bytes` is the server's.
    pub(crate) fn limits(&self, max_body_bytes: usize) -> Result<Limits> {
        let file = &self.config.file.limits;
        let (header_read_timeout, request_timeout, max_connections) =
            (file.header_read_timeout, file.request_timeout, file.max_connections);
        if max_connections == 0 {
            return Err(Failure::new("max_connections must be at least 1"));
        }
        Ok(Limits {
            header_read_timeout: header_read_timeout.0,
            request_timeout: request_timeout.0,
            max_connections,
            max_body_bytes,
        })
    }

    /// The sign-in sessions' lifetimes (`[sessions]`).
    pub(crate) fn session_options(&self) -> Result<SessionOptions> {
        let file = &self.config.file.sessions;
        let (idle_timeout, absolute_lifetime) = (file.idle_timeout, file.absolute_lifetime);
        let delta = |duration: ConfigDuration| {
            TimeDelta::from_std(duration.0).map_err(|_| Failure::new("a session duration is out of range"))
        };
        let mut options = SessionOptions::default();
        options.idle_timeout = delta(idle_timeout)?;
        options.absolute_lifetime = delta(absolute_lifetime)?;
        Ok(options)
    }

    /// The signing algorithms and key rotation (`[keys]`), checked here so that a bad
    /// combination names the settings.
    pub(crate) fn key_management(&self) -> Result<KeyManagementOptions> {
        let file = &self.config.file.keys;
        let duration = |key: &str, value: ConfigDuration| -> Result<TimeDelta> {
            TimeDelta::from_std(value.0).map_err(|_| Failure::new(format!("[keys] {key}: out of range")))
        };
        let mut options = KeyManagementOptions::default();
        options.signing_algorithms = file.algorithms.0.clone();
        options.rotation_interval = duration("rotation_interval", file.rotation_interval)?;
        options.propagation_time = duration("propagation_time", file.propagation_time)?;
        options.retention_duration = duration("retention_duration", file.retention_duration)?;
        options.key_cache_duration = duration("key_cache_duration", file.key_cache_duration)?;
        options.validate().map_err(|error| Failure::new(format!("[keys]: {error}")))?;
        Ok(options)
    }

    /// How long a store call may wait for the database: `[database] operation_timeout` (or
    /// `IDENTITY_DATABASE__OPERATION_TIMEOUT`), default 2 seconds.
    pub(crate) fn database_timeout(&self) -> std::time::Duration {
        self.config.file.database.operation_timeout.0
    }

    /// The folder of static files that replace or add to the compiled-in ones (`[ui]
    /// static_dir`).
    pub(crate) fn static_dir(&self) -> Option<std::path::PathBuf> {
        self.config.file.ui.static_dir.clone()
    }

    /// Where e-mail goes (`[email]`); the SMTP user and password only from `IDENTITY_EMAIL__SMTP_USER` and
    /// `IDENTITY_EMAIL__SMTP_PASSWORD` (or `IDENTITY_EMAIL__SMTP_PASSWORD_FILE`).
    pub(crate) fn email(&self) -> Result<EmailSettings> {
        let file = &self.config.file.email;
        let password = secret_from_environment("IDENTITY_EMAIL__SMTP_PASSWORD")?;
        let credentials = match (environment("IDENTITY_EMAIL__SMTP_USER"), password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            _ => {
                return Err(Failure::new(
                    "set both IDENTITY_EMAIL__SMTP_USER and IDENTITY_EMAIL__SMTP_PASSWORD, or neither",
                ));
            }
        };
        Ok(EmailSettings {
            smtp_url: file.smtp_url.clone(),
            from: file.from.clone(),
            smtp_credentials: credentials,
            pickup_directory: file.pickup_directory.clone(),
        })
    }

    /// The certificate and key to serve HTTPS with (`[tls]`); both or neither.
    pub(crate) fn tls(&self) -> Result<Option<TlsFiles>> {
        let file = &self.config.file.tls;
        match (file.cert_file.clone(), file.key_file.clone()) {
            (Some(cert_file), Some(key_file)) => Ok(Some(TlsFiles { cert_file, key_file })),
            (None, None) => Ok(None),
            _ => Err(Failure::new(
                "[tls] needs both cert_file and key_file (IDENTITY_TLS__CERT_FILE and IDENTITY_TLS__KEY_FILE), or neither",
            )),
        }
    }

    /// The reverse proxies whose forwarding header names the client (`[proxy]`); none by
    /// default.
    pub(crate) fn trusted_proxies(&self) -> Result<TrustedProxies> {
        let file = &self.config.file.proxy;
        TrustedProxies::parse(&file.trusted, file.header)
    }

    /// Whether the demo configuration is in use.
    pub(crate) fn is_demo(&self) -> bool {
        self.config.source == Source::Demo
    }

    /// The listen address: `flag_or_environment`, else the file's, else the default.
    pub(crate) fn listen(&self, flag_or_environment: Option<String>) -> String {
        first(flag_or_environment, self.config.file.listen.clone(), DEFAULT_LISTEN)
    }

    /// The configured issuer, if any (`flag_or_environment` first); without one the server uses
    /// its bound address.
    pub(crate) fn issuer(&self, flag_or_environment: Option<String>) -> Option<String> {
        flag_or_environment.or_else(|| self.config.file.issuer.clone())
    }
}

/// The first value present: the flag or environment variable, the file, the default.
fn first(flag_or_environment: Option<String>, file: Option<String>, default: &str) -> String {
    flag_or_environment.or(file).unwrap_or_else(|| default.to_owned())
}

/// A secret from the environment: the variable `name`, or the content of the file that
/// `{name}_FILE` names without its one trailing line break (files mounted by Docker or
/// Kubernetes secrets usually end with one). Both set is an error rather than a silent choice.
fn secret_from_environment(name: &str) -> Result<Option<String>> {
    let file_variable = format!("{name}_FILE");
    match (environment(name), environment(&file_variable)) {
        (Some(_), Some(_)) => Err(Failure::new(format!("set {name} or {file_variable}, not both"))),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            let content = std::fs::read_to_string(&path)
                .map_err(|error| Failure::context(format!("{file_variable}: cannot read {path}"), error))?;
            let value = without_one_line_break(&content);
            if value.is_empty() {
                return Err(Failure::new(format!("{file_variable}: {path} is empty")));
            }
            Ok(Some(value.to_owned()))
        }
        (None, None) => Ok(None),
    }
}

/// `text` without one trailing `\n` or `\r\n`, which editors and `echo` add to secret files.
fn without_one_line_break(text: &str) -> &str {
    text.strip_suffix('\n').map_or(text, |rest| rest.strip_suffix('\r').unwrap_or(rest))
}

/// An environment variable's value; unset, empty or not UTF-8 count as absent.
fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_lose_one_trailing_line_break_only() {
        assert_eq!(without_one_line_break("secret\n"), "secret");
        assert_eq!(without_one_line_break("secret\r\n"), "secret");
        assert_eq!(without_one_line_break("secret\n\n"), "secret\n");
        assert_eq!(without_one_line_break("secret"), "secret");
        assert_eq!(without_one_line_break(" secret \r"), " secret \r");
        assert_eq!(without_one_line_break(""), "");
    }

    #[test]
    fn flags_beat_files_beat_defaults() {
        assert_eq!(first(Some("flag".into()), Some("file".into()), "default"), "flag");
        assert_eq!(first(None, Some("file".into()), "default"), "file");
        assert_eq!(first(None, None, "default"), "default");
    }
}

//! The command line: `serve`, `migrate`, `seed`, `users …`, `roles …`, `sessions …`,
//! `clients …`, `grants …` and `keys …`, with the options every command shares (`--config`, `--database-url`), accepted before or after the command's own.
//!
//! Each option can also come from an `IDENTITY_<NAME>` environment variable; clap applies
//! "flag over environment", and [`crate::settings`] adds "over config file over default".

use crate::config::{GrantTypeName, RefreshTokenUsageName};
use clap::{Args, Parser, Subcommand, ValueEnum};
use identity_core::StoredClaim;
use std::path::PathBuf;

/// An OpenID Connect token server with ASP.NET Core Identity users, and its administration.
#[derive(Debug, Parser)]
#[command(
    name = "identity-server",
    version,
    about,
    propagate_version = true,
    after_help = "Every setting is described in docs/configuration.md: each key of a section of the configuration \
                  file also comes from IDENTITY_<SECTION>__<KEY> (IDENTITY_LIMITS__MAX_CONNECTIONS=512), and \
                  `identity-server config check` prints the configuration a server would run with."
)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// TOML configuration file (without one, the demo configuration applies).
    #[arg(long, env = "IDENTITY_CONFIG", value_name = "FILE", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Database URL: sqlite://relative.db, sqlite:///absolute.db or postgres://… [default: sqlite://identity.db]
    #[arg(long, env = "IDENTITY_DATABASE_URL", value_name = "URL", global = true)]
    pub(crate) database_url: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the token server (creates and migrates the database first).
    Serve(ServeArgs),
    /// Show, apply or revert the database migrations (identity and operational tables).
    Migrate {
        /// `status` shows, `up` applies every pending migration, `down` reverts the latest one.
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
    },
    /// Create the demo users alice and bob (password `Pass123$`) unless they exist.
    Seed,
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// List and end sign-in sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the clients stored in the database, which running servers pick up within
    /// `[client_store] cache_lifetime` (the configuration file's clients change only with the
    /// file, and win over stored ones with the same id).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// List and revoke what users granted clients: refresh tokens, unredeemed authorization
    /// codes and remembered consents.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// List, rotate and retire the signing keys (running servers see changes within
    /// `[keys] key_cache_duration`).
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `keys …`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List the signing keys with their stage: announced, signing, superseded, retired or
    /// expired (never their material).
    List,
    /// Make a new key for each configured algorithm now: announced at once, it signs after
    /// `[keys] propagation_time`. Needs the servers' key-encryption secret.
    Rotate,
    /// Delete a key at once (a compromised key): it stops signing, and the tokens it signed stop
    /// verifying.
    Retire {
        /// The key id (`kid`), as `keys list` shows it.
        key_id: String,
    },
}

/// `grants …`.
#[derive(Debug, Subcommand)]
pub(crate) enum GrantsCommand {
    /// List the grants of a user, of a client, or of a user at a client (never their values).
    List(GrantOwner),
    /// Revoke them: their refresh tokens stop working at once, and consent is asked again.
    Revoke(GrantOwner),
}

/// Whose grants: a user's, a client's, or both (at least one).
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub(crate) struct GrantOwner {
    /// The user's grants.
    #[arg(long, value_name = "USER_NAME")]
    pub(crate) user: Option<String>,
    /// The client's grants.
    #[arg(long, value_name = "CLIENT_ID")]
    pub(crate) client: Option<String>,
}

/// `config …`.
#[derive(Debug, Clone, Copy, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check the configuration (the file, or the demo one, with the IDENTITY_… variables) as
    /// `serve` would, and print it as it would run, secrets redacted; exits non-zero when invalid.
    Check,
}

/// `clients …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientsCommand {
    /// Store a new client, checked by the configuration file's rules. A confidential client gets
    /// a generated secret, shown once.
    Create {
        /// The client id.
        client_id: String,
        /// A public client, without a secret (a single-page or native application).
        #[arg(long)]
        public: bool,
        /// The client's settings.
        #[command(flatten)]
        settings: ClientSettings,
    },
    /// List every client: the configuration file's and the stored ones.
    List,
    /// Show a stored client as a `[[clients]]` entry of the configuration file (secrets hashed).
    Show {
        /// The client id.
        client_id: String,
    },
    /// Change the settings given; the others stay, and a list given replaces the stored list.
    Update {
        /// The client id.
        client_id: String,
        /// The settings to change.
        #[command(flatten)]
        settings: ClientSettings,
    },
    /// Delete a stored client and revoke the refresh tokens, codes and consents given to it.
    Delete {
        /// The client id.
        client_id: String,
    },
    /// Generate another secret for a client, shown once; every secret authenticates until it is
    /// removed, so a secret rotates without downtime.
    AddSecret {
        /// The client id.
        client_id: String,
    },
    /// Remove one of a client's secrets.
    RemoveSecret {
        /// The client id.
        client_id: String,
        /// Its position in `secrets` as `clients show` lists them, from 1.
        number: usize,
    },
}

/// The settings of a client that `clients create` and `clients update` take; each is the
/// configuration file's key of the same name (see `docs/configuration.md`).
#[derive(Debug, Args)]
pub(crate) struct ClientSettings {
    /// The name the login and consent pages show.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// The logo the login and consent pages show (https, or http on loopback).
    #[arg(long, value_name = "URL")]
    pub(crate) logo_uri: Option<String>,
    /// A grant type the client may use (repeatable).
    #[arg(long = "grant-type", value_name = "GRANT")]
    pub(crate) grant_types: Vec<GrantTypeName>,
    /// A scope the client may ask for (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
    /// A redirect URI (repeatable).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub(crate) redirect_uris: Vec<String>,
    /// A URI the client may return to after logout (repeatable).
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub(crate) post_logout_redirect_uris: Vec<String>,
    /// An origin whose pages may call the endpoints from script (CORS; repeatable).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub(crate) allowed_cors_origins: Vec<String>,
    /// Whether users must consent to the client's scopes.
    #[arg(long, value_name = "BOOL")]
    pub(crate) require_consent: Option<bool>,
    /// Whether the code flow needs PKCE (default true).
    #[arg(long, value_name = "BOOL")]
    pub(crate) require_pkce: Option<bool>,
    /// The access tokens' lifetime in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) access_token_lifetime: Option<u32>,
    /// The refresh tokens' lifetime in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) refresh_token_lifetime: Option<u32>,
    /// Whether a refresh token is replaced at each use (`one_time`) or kept (`reuse`).
    #[arg(long, value_name = "USAGE")]
    pub(crate) refresh_token_usage: Option<RefreshTokenUsageName>,
}

/// `sessions …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// List the sign-in sessions (every user's, or one user's).
    List {
        /// Only this user's sessions.
        #[arg(long, value_name = "USER_NAME")]
        user: Option<String>,
    },
    /// End one session by its id (`sid`); the user's next request finds it gone.
    Revoke {
        /// The session id, as `sessions list` shows it (ids are base64url, so one may start with
        /// `-`: taken as the id, not as an option).
        #[arg(allow_hyphen_values = true)]
        session_id: String,
    },
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:5000]
    #[arg(long, env = "IDENTITY_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Issuer identifier [default: http:// (https:// with [tls]) followed by the bound address]
    #[arg(long, env = "IDENTITY_ISSUER", value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// Create the demo users alice and bob first, if absent.
    #[arg(long, env = "IDENTITY_SEED")]
    pub(crate) seed: bool,
}

/// What `migrate` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MigrateAction {
    /// Show the applied and pending migrations.
    Status,
    /// Apply every pending migration.
    Up,
    /// Revert the most recent migration.
    Down,
}

/// `users …`.
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// Create a user.
    Create(CreateUser),
    /// List every user.
    List,
    /// Show a user's fields, roles and claims.
    Show {
        /// The user name.
        user_name: String,
    },
    /// Replace a user's password with one read from standard input, ending their browser
    /// sessions and revoking their refresh tokens.
    SetPassword {
        /// The user name.
        user_name: String,
        /// Read the new password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Lock a user out indefinitely, ending their browser sessions and revoking their refresh
    /// tokens.
    Lock {
        /// The user name.
        user_name: String,
    },
    /// Revoke a user's refresh tokens (and unredeemed authorization codes); sessions stay.
    RevokeTokens {
        /// The user name.
        user_name: String,
    },
    /// Sign a user out everywhere: end every session and revoke every refresh token.
    SignOut {
        /// The user name.
        user_name: String,
    },
    /// End a user's lockout and reset the failed-attempt count.
    Unlock {
        /// The user name.
        user_name: String,
    },
    /// Add a claim to a user.
    AddClaim {
        /// The user name.
        user_name: String,
        /// The claim, as TYPE=VALUE.
        #[arg(value_name = "TYPE=VALUE", value_parser = parse_claim)]
        claim: StoredClaim,
    },
    /// Add a user to an existing role.
    AddRole {
        /// The user name.
        user_name: String,
        /// The role's name.
        role: String,
    },
    /// Delete a user, with its claims, roles and logins, ending their sessions and revoking their
    /// refresh tokens.
    Delete {
        /// The user name.
        user_name: String,
    },
    /// Write every role and user, with everything stored for them (password hashes, stamps,
    /// tokens, passkeys), as JSON Lines: a header, then one line per role, then one per user.
    Export {
        /// Write to this file (created readable by its owner only) instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import the roles and users of `users export` as they are (same ids, stamps and password
    /// hashes, no validation); those whose id exists are skipped, so an interrupted import can be
    /// run again. Exits non-zero when any record failed.
    Import {
        /// The file to read, or `-` for standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// `users create`.
#[derive(Debug, Args)]
pub(crate) struct CreateUser {
    /// The user name.
    pub(crate) user_name: String,
    /// Read the password from the first line of standard input (without it the user has no password).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The email address.
    #[arg(long, value_name = "E")]
    pub(crate) email: Option<String>,
    /// Mark the email address as confirmed.
    #[arg(long, requires = "email")]
    pub(crate) email_confirmed: bool,
    /// The phone number.
    #[arg(long, value_name = "P")]
    pub(crate) phone: Option<String>,
    /// A claim to add, as TYPE=VALUE (repeatable).
    #[arg(long = "claim", value_name = "TYPE=VALUE", value_parser = parse_claim)]
    pub(crate) claims: Vec<StoredClaim>,
    /// An existing role to add the user to (repeatable).
    #[arg(long = "role", value_name = "R")]
    pub(crate) roles: Vec<String>,
}

/// `roles …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RolesCommand {
    /// Create a role.
    Create {
        /// The role's name.
        name: String,
    },
}

/// Parses `TYPE=VALUE`; the value may contain `=`, the type may not be empty.
fn parse_claim(text: &str) -> Result<StoredClaim, String> {
    match text.split_once('=') {
        Some((claim_type, value)) if !claim_type.trim().is_empty() => Ok(StoredClaim::new(claim_type, value)),
        _ => Err(format!("`{text}` is not a claim: write TYPE=VALUE, e.g. given_name=Alice")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn export_and_import_take_files_or_the_standard_streams() {
        let cli = Cli::try_parse_from(["identity-server", "users", "import", "-"]).expect("parses");
        assert!(matches!(cli.command, Command::Users(UsersCommand::Import { file }) if file.as_os_str() == "-"));
        let cli = Cli::try_parse_from(["identity-server", "users", "export", "--output", "u.jsonl"]).expect("parses");
        assert!(matches!(cli.command, Command::Users(UsersCommand::Export { output: Some(_) })));
        assert!(Cli::try_parse_from(["identity-server", "users", "import"]).is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shared_options_go_before_or_after_the_command() {
        for args in [
            ["identity-server", "--database-url", "sqlite://a.db", "users", "list"],
            ["identity-server", "users", "list", "--database-url", "sqlite://a.db"],
            ["identity-server", "users", "--database-url", "sqlite://a.db", "list"],
        ] {
            let cli = Cli::try_parse_from(args).expect("parses");
            assert_eq!(cli.global.database_url.as_deref(), Some("sqlite://a.db"));
            assert!(matches!(cli.command, Command::Users(UsersCommand::List)));
        }
    }

    #[test]
    fn claims_are_type_equals_value() {
        assert_eq!(
            parse_claim("website=http://a.example?x=1"),
            Ok(StoredClaim::new("website", "http://a.example?x=1"))
        );
        assert_eq!(parse_claim("nickname="), Ok(StoredClaim::new("nickname", "")));
        assert!(parse_claim("novalue").is_err());
        assert!(parse_claim("=value").is_err());
    }

    #[test]
    fn a_session_id_that_starts_with_a_dash_is_an_id() {
        let cli = Cli::try_parse_from(["identity-server", "sessions", "revoke", "-0aB_x"]).expect("parses");
        assert!(
            matches!(cli.command, Command::Sessions(SessionsCommand::Revoke { session_id }) if session_id == "-0aB_x")
        );
    }

    #[test]
    fn set_password_requires_stdin_and_create_parses_everything() {
        assert!(Cli::try_parse_from(["identity-server", "users", "set-password", "alice"]).is_err());
        let cli = Cli::try_parse_from([
            "identity-server",
            "users",
            "create",
            "carol",
            "--password-stdin",
            "--email",
            "carol@example.com",
            "--email-confirmed",
            "--claim",
            "given_name=Carol",
            "--claim",
            "family_name=Jones",
            "--role",
            "admin",
        ])
        .expect("parses");
        let Command::Users(UsersCommand::Create(create)) = cli.command else { panic!("users create") };
        assert!(create.password_stdin && create.email_confirmed);
        assert_eq!(create.claims.len(), 2);
        assert_eq!(create.roles, ["admin"]);
        assert!(Cli::try_parse_from(["identity-server", "users", "create", "x", "--email-confirmed"]).is_err());
    }
}

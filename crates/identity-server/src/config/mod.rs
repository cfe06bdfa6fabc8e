//! The TOML configuration file (documented in `docs/configuration.md`): its model, its loading,
//! and its conversion into the token server's clients and resources and the identity options.
//!
//! Every table rejects unknown keys, so a typo is an error with the file, line and key rather
//! than a setting silently ignored. Without a file, the demo configuration applies: the file
//! `config/example.toml`, embedded in the binary, whose clients and scopes are those of Duende's
//! `isaspid` template plus a password-grant client.

use crate::error::{Failure, Result};
pub(crate) use account::LoginWith;
use account::{AccountConfig, EmailConfig};
use chrono::TimeDelta;
pub(crate) use client_store::ClientStoreConfig;
pub(crate) use clients::{ClientConfig, GrantTypeName, RefreshTokenUsageName, SHA256_PREFIX, client_from_document};
pub(crate) use database::DatabaseConfig;
pub(crate) use hashing::HashingConfig;
use identity_core::{IdentityOptions, LockoutOptions, PasswordOptions, SignInOptions, UserOptions};
pub(crate) use keys::KeysConfig;
pub(crate) use limits::ConfigDuration;
use limits::LimitsConfig;
pub(crate) use metrics::MetricsConfig;
use oidc_server::{ApiResource, ApiScope, Client, IdentityResource};
pub(crate) use proxy::ForwardingHeader;
use proxy::ProxyConfig;
use serde::{Deserialize, Serialize};
use sessions::SessionsConfig;
use std::path::{Path, PathBuf};
pub(crate) use throttling::ThrottlingConfig;
use tls::TlsConfig;
use ui::UiConfig;

mod account;
mod client_store;
mod clients;
mod database;
mod environment;
mod hashing;
mod keys;
mod limits;
mod metrics;
mod proxy;
mod sessions;
mod throttling;
mod tls;
mod ui;

/// The demo configuration, used when no file is given.
const DEMO_CONFIG: &str = include_str!("../../config/example.toml");

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A file named by `--config` or `IDENTITY_CONFIG`.
    File(PathBuf),
    /// The built-in demo configuration.
    Demo,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Demo => f.write_str("the demo configuration"),
        }
    }
}

/// The configuration file.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// The issuer identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    /// The address to listen on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) listen: Option<String>,
    /// The database URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database_url: Option<String>,
    /// The secret that encrypts signing keys at rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_encryption_secret: Option<String>,
    /// The secret of the "Default" token provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_secret: Option<String>,
    /// The secret that seals sign-in session cookies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_secret: Option<String>,
    #[serde(default)]
    clients: Vec<ClientConfig>,
    #[serde(default)]
    identity_resources: Vec<IdentityResourceConfig>,
    #[serde(default)]
    api_scopes: Vec<ApiScopeConfig>,
    #[serde(default)]
    api_resources: Vec<ApiResourceConfig>,
    #[serde(default)]
    lockout: LockoutConfig,
    #[serde(default)]
    password: PasswordConfig,
    #[serde(default)]
    user: UserConfig,
    #[serde(default)]
    sign_in: SignInConfig,
    #[serde(default)]
    pub(crate) limits: LimitsConfig,
    #[serde(default)]
    pub(crate) sessions: SessionsConfig,
    #[serde(default)]
    pub(crate) ui: UiConfig,
    #[serde(default)]
    pub(crate) account: AccountConfig,
    #[serde(default)]
    pub(crate) email: EmailConfig,
    #[serde(default)]
    pub(crate) throttling: ThrottlingConfig,
    #[serde(default)]
    pub(crate) hashing: HashingConfig,
    #[serde(default)]
    pub(crate) database: DatabaseConfig,
    #[serde(default)]
    pub(crate) metrics: MetricsConfig,
    #[serde(default)]
    pub(crate) keys: KeysConfig,
    #[serde(default)]
    pub(crate) tls: TlsConfig,
    #[serde(default)]
    pub(crate) client_store: ClientStoreConfig,
    #[serde(default)]
    pub(crate) proxy: ProxyConfig,
}

/// A loaded configuration and where it came from.
#[derive(Debug)]
pub(crate) struct Config {
    /// Its origin.
    pub(crate) source: Source,
    /// Its content.
    pub(crate) file: ConfigFile,
}

impl Config {
    /// Reads `path`, or the demo configuration when there is none, with the sections' keys that
    /// the process's `IDENTITY_<SECTION>__<KEY>` variables set.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self> {
        // `vars_os`: a variable that is not UTF-8 (of any name) must not stop the server.
        let variables =
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
        Self::load_with(path, variables)
    }

    /// [`load`](Self::load) with the given variables instead of the process's.
    fn load_with(path: Option<&Path>, variables: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let (source, text, origin) = match path {
            None => (Source::Demo, DEMO_CONFIG.to_owned(), "the built-in demo configuration".to_owned()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| Failure::context(format!("cannot read {}", path.display()), error))?;
                (Source::File(path.to_owned()), text, path.display().to_string())
            }
        };
        let invalid = |origin: &str, error: &dyn std::fmt::Display| {
            Failure::new(format!("invalid configuration in {origin}: {error}"))
        };
        let mut table: toml::Table = text.parse().map_err(|error| invalid(&origin, &error))?;
        let defaults = toml::Table::try_from(ConfigFile::default())
            .map_err(|error| Failure::new(format!("the default configuration does not serialise: {error}")))?;
        let applied = environment::overlay(&mut table, &defaults, variables)?;
        let origin = if applied.is_empty() {
            origin
        } else {
            format!("{origin} with {} from the environment", applied.join(", "))
        };
        let file = table.try_into().map_err(|error| invalid(&origin, &error))?;
        Ok(Self { source, file })
    }
}

/// Parses configuration text; `origin` names it in errors.
#[cfg(test)]
fn parse(text: &str, origin: &str) -> Result<ConfigFile> {
    toml::from_str(text).map_err(|error| Failure::new(format!("invalid configuration in {origin}: {error}")))
}

/// An `[[identity_resources]]` entry.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct IdentityResourceConfig {
    name: String,
    #[serde(default)]
    user_claims: Vec<String>,
}

/// An `[[api_scopes]]` entry.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ApiScopeConfig {
    name: String,
    #[serde(default)]
    user_claims: Vec<String>,
}

/// An `[[api_resources]]` entry.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ApiResourceConfig {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    user_claims: Vec<String>,
}

/// `[lockout]`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct LockoutConfig {
    max_failed_access_attempts: u16,
    default_lockout_time_span_seconds: u32,
    allowed_for_new_users: bool,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        let defaults = LockoutOptions::default();
        Self {
            max_failed_access_attempts: u16::try_from(defaults.max_failed_access_attempts).unwrap_or(u16::MAX),
            default_lockout_time_span_seconds: u32::try_from(defaults.default_lockout_time_span.num_seconds())
                .unwrap_or(u32::MAX),
            allowed_for_new_users: defaults.allowed_for_new_users,
        }
    }
}

/// `[password]`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct PasswordConfig {
    required_length: usize,
    required_unique_chars: usize,
    require_digit: bool,
    require_lowercase: bool,
    require_uppercase: bool,
    require_non_alphanumeric: bool,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        let defaults = PasswordOptions::default();
        Self {
            required_length: defaults.required_length,
            required_unique_chars: defaults.required_unique_chars,
            require_digit: defaults.require_digit,
            require_lowercase: defaults.require_lowercase,
            require_uppercase: defaults.require_uppercase,
            require_non_alphanumeric: defaults.require_non_alphanumeric,
        }
    }
}

/// `[user]`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct UserConfig {
    require_unique_email: bool,
    /// Empty allows every character.
    allowed_user_name_characters: String,
}

impl Default for UserConfig {
    fn default() -> Self {
        let defaults = UserOptions::default();
        Self {
            require_unique_email: defaults.require_unique_email,
            allowed_user_name_characters: defaults.allowed_user_name_characters.unwrap_or_default(),
        }
    }
}

/// `[sign_in]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct SignInConfig {
    /// An alias of `[account] require_confirmed_email`.
    require_confirmed_email: Option<bool>,
    require_confirmed_phone_number: bool,
    require_confirmed_account: bool,
}

/// What the token server serves: clients and resources.
#[derive(Debug)]
pub(crate) struct ServerModel {
    /// The clients.
    pub(crate) clients: Vec<Client>,
    /// Identity resources: the standard ones, replaced or extended by the file's.
    pub(crate) identity_resources: Vec<IdentityResource>,
    /// API scopes.
    pub(crate) api_scopes: Vec<ApiScope>,
    /// API resources.
    pub(crate) api_resources: Vec<ApiResource>,
}

impl ConfigFile {
    /// The identity options: the file's, .NET's defaults for whatever it leaves out.
    /// Whether accounts must confirm their e-mail before signing in: `[account]
    /// require_confirmed_email`, or its alias `[sign_in] require_confirmed_email` (both set
    /// differently is an error), else whether registration is open.
    pub(crate) fn require_confirmed_email(&self) -> Result<bool> {
        match (self.account.require_confirmed_email, self.sign_in.require_confirmed_email) {
            (Some(account), Some(sign_in)) if account != sign_in => Err(Failure::new(
                "[account] require_confirmed_email and its alias [sign_in] require_confirmed_email disagree: set one",
            )),
            (Some(value), _) | (None, Some(value)) => Ok(value),
            (None, None) => Ok(self.account.allow_registration),
        }
    }

    /// Checks the `[account]` settings against the others: registration and e-mail login need
    /// unique e-mail addresses (a link or a login names one account).
    pub(crate) fn check_account_settings(&self) -> Result<()> {
        if self.account.allow_registration && !self.user.require_unique_email {
            return Err(Failure::new(
                "[account] allow_registration = true needs [user] require_unique_email = true: an address must name one account",
            ));
        }
        if self.account.login_with == LoginWith::UserNameOrEmail && !self.user.require_unique_email {
            return Err(Failure::new(
                "[account] login_with = \"user_name_or_email\" needs [user] require_unique_email = true: an address must name one account",
            ));
        }
        Ok(())
    }

    pub(crate) fn identity_options(&self) -> Result<IdentityOptions> {
        self.check_account_settings()?;
        if self.lockout.max_failed_access_attempts == 0 {
            return Err(Failure::new(
                "[lockout] max_failed_access_attempts must be at least 1 (0 would lock every user at every attempt)",
            ));
        }
        let LockoutConfig { max_failed_access_attempts, default_lockout_time_span_seconds, allowed_for_new_users } =
            self.lockout;
        let password = &self.password;
        Ok(IdentityOptions {
            user: UserOptions {
                allowed_user_name_characters: Some(self.user.allowed_user_name_characters.clone())
                    .filter(|characters| !characters.is_empty()),
                require_unique_email: self.user.require_unique_email,
            },
            password: PasswordOptions {
                required_length: password.required_length,
                required_unique_chars: password.required_unique_chars,
                require_non_alphanumeric: password.require_non_alphanumeric,
                require_lowercase: password.require_lowercase,
                require_uppercase: password.require_uppercase,
                require_digit: password.require_digit,
            },
            lockout: LockoutOptions {
                allowed_for_new_users,
                max_failed_access_attempts: i32::from(max_failed_access_attempts),
                default_lockout_time_span: TimeDelta::seconds(i64::from(default_lockout_time_span_seconds)),
            },
            sign_in: SignInOptions {
                require_confirmed_email: self.require_confirmed_email()?,
                require_confirmed_phone_number: self.sign_in.require_confirmed_phone_number,
                require_confirmed_account: self.sign_in.require_confirmed_account,
                allow_email_login: self.account.login_with == LoginWith::UserNameOrEmail,
            },
            tokens: Default::default(),
        })
    }

    /// The ids of the file's clients, without checking or hashing anything.
    pub(crate) fn client_ids(&self) -> Vec<String> {
        self.clients.iter().map(|client| client.client_id.clone()).collect()
    }

    /// The clients and resources, with secrets hashed and every value checked. Plain-text
    /// secrets are logged as warnings.
    pub(crate) fn server_model(&self) -> Result<ServerModel> {
        let clients = self.clients.iter().map(ClientConfig::to_client).collect::<Result<Vec<_>>>()?;
        let mut identity_resources = IdentityResource::standard();
        for custom in &self.identity_resources {
            let resource = IdentityResource::new(custom.name.clone(), custom.user_claims.clone());
            match identity_resources.iter_mut().find(|existing| existing.name == custom.name) {
                Some(existing) => *existing = resource,
                None => identity_resources.push(resource),
            }
        }
        let api_scopes = self
            .api_scopes
            .iter()
            .map(|scope| ApiScope::new(scope.name.clone()).with_user_claims(scope.user_claims.clone()))
            .collect();
        let api_resources = self
            .api_resources
            .iter()
            .map(|api| ApiResource::new(api.name.clone(), api.scopes.clone()).with_user_claims(api.user_claims.clone()))
            .collect();
        Ok(ServerModel { clients, identity_resources, api_scopes, api_resources })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_oidc::ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR;
    use oidc_server::{GrantType, RefreshTokenUsage};

    fn demo() -> ConfigFile {
        Config::load(None).expect("the demo configuration parses").file
    }

    fn client<'a>(model: &'a ServerModel, client_id: &str) -> &'a Client {
        model.clients.iter().find(|client| client.client_id == client_id).expect("the client exists")
    }

    #[test]
    fn the_example_file_parses_and_is_the_template_configuration() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let config = Config::load(Some(&path)).expect("config/example.toml parses");
        assert_eq!(config.source, Source::File(path));
        let model = config.file.server_model().expect("valid");
        assert_eq!(model.clients.len(), 3);

        let m2m = client(&model, "m2m.client");
        assert_eq!(m2m.allowed_grant_types, [GrantType::ClientCredentials]);
        assert_eq!(m2m.allowed_scopes, ["scope1"]);
        assert!(m2m.has_secret("511536EF-F270-4058-80CA-1C89C192F69A", test_support::clock::start()));

        let interactive = client(&model, "interactive");
        assert!(interactive.has_secret("49C1A7E1-0C79-4A89-A3D6-A37998FB86B0", test_support::clock::start()));
        assert_eq!(interactive.redirect_uris, ["https://localhost:44300/signin-oidc"]);
        assert_eq!(interactive.post_logout_redirect_uris, ["https://localhost:44300/signout-callback-oidc"]);
        assert!(interactive.require_pkce && !interactive.require_consent && interactive.allows_offline_access());
        assert_eq!(interactive.allowed_grant_types, [GrantType::AuthorizationCode]);

        let password = client(&model, "password.client");
        assert_eq!(password.allowed_grant_types, [GrantType::Password]);
        assert!(password.has_secret("A6F1C7D2-3B84-4E59-9C20-7D5E8B1F4A36", test_support::clock::start()));
        assert!(password.allows_offline_access());

        let scopes: Vec<&str> = model.api_scopes.iter().map(|scope| scope.name.as_str()).collect();
        assert_eq!(scopes, ["scope1", "scope2"]);
        let identity: Vec<&str> = model.identity_resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(identity, ["openid", "profile", "email", "phone", "address"]);
    }

    #[test]
    fn the_demo_configuration_has_the_dotnet_identity_defaults() {
        let options = demo().identity_options().expect("valid");
        let defaults = IdentityOptions::default();
        assert_eq!(format!("{:?}", options.user), format!("{:?}", defaults.user));
        assert_eq!(format!("{:?}", options.password), format!("{:?}", defaults.password));
        assert_eq!(format!("{:?}", options.lockout), format!("{:?}", defaults.lockout));
        assert_eq!(format!("{:?}", options.sign_in), format!("{:?}", defaults.sign_in));
        assert_eq!(format!("{:?}", ConfigFile::default().identity_options().expect("valid")), format!("{defaults:?}"));
        let zero = parse("[lockout]\nmax_failed_access_attempts = 0", "t").expect("parses");
        assert!(zero.identity_options().is_err_and(|error| error.to_string().contains("at least 1")));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        for (text, key) in [
            ("isuer = \"http://x\"", "isuer"),
            ("[[clients]]\nclient_id = \"a\"\nsecret = \"s\"", "secret"),
            ("[lockout]\nmax_failed_attempts = 3", "max_failed_attempts"),
            ("[passwords]\nrequired_length = 3", "passwords"),
        ] {
            let error = parse(text, "test.toml").expect_err(text).to_string();
            assert!(error.contains("test.toml") && error.contains(key), "{error}");
        }
    }

    #[test]
    fn sections_override_only_what_they_set() {
        let file = parse(
            "[lockout]\nmax_failed_access_attempts = 2\n[password]\nrequire_digit = false\n[user]\nallowed_user_name_characters = \"\"",
            "t",
        )
        .expect("valid");
        let options = file.identity_options().expect("valid");
        assert_eq!(options.lockout.max_failed_access_attempts, 2);
        assert_eq!(options.lockout.default_lockout_time_span, TimeDelta::minutes(5));
        assert!(!options.password.require_digit && options.password.require_uppercase);
        assert_eq!(options.user.allowed_user_name_characters, None);
    }

    #[test]
    fn secrets_are_hashed_or_checked() {
        let file = parse(
            "[[clients]]\nclient_id = \"a\"\nsecrets = [\"plain\", \"sha256:K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=\"]",
            "t",
        )
        .expect("valid");
        let model = file.server_model().expect("valid secrets");
        let now = test_support::clock::start();
        assert!(model.clients[0].has_secret("plain", now) && model.clients[0].has_secret("secret", now));

        let bad = parse("[[clients]]\nclient_id = \"a\"\nsecrets = [\"sha256:not base64\"]", "t").expect("parses");
        assert!(bad.server_model().expect_err("bad hash").to_string().contains("SHA-256"));
        let none = parse("[[clients]]\nclient_id = \"a\"", "t").expect("parses");
        assert!(none.server_model().expect_err("no secret").to_string().contains("no secrets"));
        let public = parse("[[clients]]\nclient_id = \"a\"\nrequire_client_secret = false", "t").expect("parses");
        assert!(public.server_model().is_ok());
    }

    #[test]
    fn client_settings_map_onto_the_server_model() {
        let file = parse(
            "[[clients]]\nclient_id = \"a\"\nsecrets = [\"s\"]\ngrant_types = [\"password\", \"refresh_token\"]\n\
             access_token_lifetime = 60\nrefresh_token_lifetime = 120\nrefresh_token_usage = \"reuse\"\n\
             [[identity_resources]]\nname = \"profile\"\nuser_claims = [\"name\"]\n\
             [[identity_resources]]\nname = \"roles\"\nuser_claims = [\"role\"]\n\
             [[api_resources]]\nname = \"orders\"\nscopes = [\"orders.read\"]",
            "t",
        )
        .expect("valid");
        let model = file.server_model().expect("valid");
        let client = &model.clients[0];
        assert_eq!(client.allowed_grant_types, [GrantType::Password, GrantType::RefreshToken]);
        assert_eq!(client.access_token_lifetime, TimeDelta::seconds(60));
        assert_eq!(client.refresh_token_lifetime, TimeDelta::seconds(120));
        assert_eq!(client.refresh_token_usage, RefreshTokenUsage::ReUse);
        let profile = model.identity_resources.iter().find(|r| r.name == "profile").expect("profile");
        assert_eq!(profile.user_claims, ["name"]);
        assert_eq!(model.identity_resources.len(), 6);
        assert_eq!(model.api_resources[0].scopes, ["orders.read"]);

        let zero = parse("[[clients]]\nclient_id = \"a\"\nsecrets = [\"s\"]\naccess_token_lifetime = 0", "t");
        assert!(zero.expect("parses").server_model().is_err());
        let usage = parse("[[clients]]\nclient_id = \"a\"\nrefresh_token_usage = \"sometimes\"", "t");
        assert!(usage.expect_err("unknown usage").to_string().contains("sometimes"));
        let grant = parse("[[clients]]\nclient_id = \"a\"\ngrant_types = [\"implicit\"]", "t");
        assert!(grant.expect_err("unknown grant type").to_string().contains("implicit"));
    }

    #[test]
    fn unsafe_clients_are_refused_naming_the_client_and_the_rule() {
        let refused = |client: &str, rule: &str| {
            let file = parse(&format!("[[clients]]\nclient_id = \"bad\"\n{client}"), "t").expect("parses");
            let error = file.server_model().expect_err(client).to_string();
            assert!(error.contains("client `bad`") && error.contains(rule), "{client}: {error}");
        };
        let public = "require_client_secret = false\n";
        refused(&format!("{public}grant_types = [\"client_credentials\"]"), "client_credentials grant");
        refused(&format!("{public}grant_types = [\"password\"]"), "password grant");
        refused(&format!("{public}refresh_token_usage = \"reuse\""), "must rotate refresh tokens");
        for uri in ["javascript:alert(1)//", "data:text/html,x", "file:///etc/passwd", "not a uri"] {
            refused(&format!("{public}redirect_uris = [\"{uri}\"]"), uri);
        }
        refused(&format!("{public}redirect_uris = [\"http://evil.example/cb\"]"), "plain http");
        refused(&format!("{public}redirect_uris = [\"https://app.example/cb#x\"]"), "fragment");
        refused(&format!("{public}post_logout_redirect_uris = [\"http://app.example/out\"]"), "plain http");
        let redirect = "redirect_uris = [\"https://app.example/cb\"]\n";
        refused(&format!("{public}{redirect}frontchannel_logout_uri = \"https://other.example/out\""), "redirect URIs");
        refused(&format!("{public}{redirect}frontchannel_logout_uri = \"https://app.example:8443/out\""), "port");
        refused("secrets = [\"s\"]\ngrant_types = [\"password\"]\nrequire_two_factor = true", "no second step");
        refused("secrets = [\"s\"]\nallowed_cors_origins = [\"https://spa.example/app\"]", "without a path");
        refused("secrets = [\"s\"]\nallowed_cors_origins = [\"http://spa.example\"]", "plain http");

        let fine = parse(
            "[[clients]]\nclient_id = \"ok\"\nrequire_client_secret = false\ngrant_types = [\"authorization_code\"]\n\
             redirect_uris = [\"https://app.example/cb\", \"http://localhost:8080/cb\", \"http://127.0.0.1/cb\", \
             \"http://[::1]:9/cb\", \"com.example.app:/callback\"]\nallow_password_grant_with_two_factor = true\n\
             frontchannel_logout_uri = \"https://app.example/signout?x=1\"",
            "t",
        )
        .expect("parses");
        let model = fine.server_model().expect("safe clients load");
        let client = client(&model, "ok");
        assert_eq!(client.properties.get(ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR).map(String::as_str), Some("true"));
        let spa = parse("[[clients]]\nclient_id = \"spa\"\nsecrets = [\"s\"]\nallowed_cors_origins = [\"https://SPA.example.com:443\"]", "t")
            .expect("parses");
        let model = spa.server_model().expect("loads");
        assert_eq!(
            self::client(&model, "spa").allowed_cors_origins,
            ["https://spa.example.com"],
            "as browsers send it"
        );
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let error = Config::load(Some(Path::new("/nonexistent/identity.toml"))).expect_err("missing");
        assert!(error.to_string().contains("cannot read /nonexistent/identity.toml"), "{error}");
    }

    #[test]
    fn account_settings_need_unique_emails_and_one_confirmation_setting() {
        let options =
            |text: &str| parse(text, "t").expect("parses").identity_options().map_err(|error| error.to_string());
        for needs_unique in ["[account]\nallow_registration = true", "[account]\nlogin_with = \"user_name_or_email\""] {
            let error = options(needs_unique).expect_err(needs_unique);
            assert!(error.contains("require_unique_email = true"), "{error}");
        }
        let open = options("[account]\nallow_registration = true\nlogin_with = \"user_name_or_email\"\n[user]\nrequire_unique_email = true")
            .expect("valid");
        assert!(
            open.sign_in.require_confirmed_email && open.sign_in.allow_email_login,
            "confirmation defaults on with registration"
        );
        let alias = options("[sign_in]\nrequire_confirmed_email = true").expect("the alias alone is fine");
        assert!(alias.sign_in.require_confirmed_email && !alias.sign_in.allow_email_login);
        let error = options("[account]\nrequire_confirmed_email = false\n[sign_in]\nrequire_confirmed_email = true")
            .expect_err("conflict");
        assert!(error.contains("disagree"), "{error}");
        assert!(parse("[account]\nlogin_with = \"email\"", "t").is_err(), "an unknown value is refused");
    }
}

//! `clients …`: the clients kept in the database, which every running instance picks up within
//! `[client_store] cache_lifetime`. They are checked by the configuration file's rules before
//! they are stored, and their secrets are generated here, shown once, and stored hashed. The
//! file's clients are listed too, but change only with the file.

use identity_core::{Clock as _, SystemClock};
use identity_diesel::Database;
use oidc_server::{ClientSecret, GrantFilter, PersistedGrantStore as _};
use oidc_server_diesel::{DieselClientDocuments, StoredClientDocument};

use crate::cli::{ClientSettings, ClientsCommand};
use crate::config::{ClientConfig, SHA256_PREFIX};
use crate::database;
use crate::error::{Failure, Result};
use crate::settings::Settings;

/// The bytes of entropy in a generated client secret.
const SECRET_BYTES: usize = 32;

/// Runs a `clients …` command.
pub(crate) async fn clients(settings: &Settings, db: &Database, command: ClientsCommand) -> Result<()> {
    let documents = DieselClientDocuments::new(db.clone());
    let file_ids = settings.config.file.client_ids();
    let in_file = |client_id: &str| {
        file_ids.iter().any(|id| id == client_id).then(|| {
            Failure::new(format!(
                "client `{client_id}` is defined in {}, which wins over the database: change it there",
                settings.config.source
            ))
        })
    };
    match command {
        ClientsCommand::Create { client_id, public, settings: changes } => {
            if let Some(refusal) = in_file(&client_id) {
                return Err(refusal);
            }
            let mut config = ClientConfig::new(client_id.clone());
            if public {
                config.require_client_secret = Some(false);
            }
            changes.apply(&mut config);
            let secret = (!public).then(|| add_secret(&mut config));
            let document = checked_document(&config)?;
            let stored = StoredClientDocument { client_id: client_id.clone(), document, updated: SystemClock.now() };
            if !documents.insert(stored).await? {
                return Err(Failure::new(format!("a client `{client_id}` is stored already")));
            }
            println!("created client {client_id}");
            if let Some(secret) = secret {
                print_secret(&secret);
            }
            Ok(())
        }
        ClientsCommand::List => {
            for client_id in &file_ids {
                println!("{client_id}\tfile");
            }
            for stored in documents.list().await? {
                let state = match crate::config::client_from_document(&stored.client_id, &stored.document) {
                    Ok(_) if file_ids.contains(&stored.client_id) => {
                        "database (ignored: the file defines it)".to_owned()
                    }
                    Ok(_) => "database".to_owned(),
                    Err(error) => format!("database (skipped: {error})"),
                };
                println!("{}\t{state}", stored.client_id);
            }
            Ok(())
        }
        ClientsCommand::Show { client_id } => {
            let stored = stored(&documents, &client_id, in_file(&client_id)).await?;
            let config = ClientConfig::from_document(&stored.document)?;
            println!("# stored in the database, updated {}", stored.updated.to_rfc3339());
            println!("[[clients]]\n{}", config.to_toml()?);
            Ok(())
        }
        ClientsCommand::Update { client_id, settings: changes } => {
            change(&documents, &client_id, in_file(&client_id), |config| {
                changes.apply(config);
                Ok(())
            })
            .await?;
            println!("updated client {client_id}");
            Ok(())
        }
        ClientsCommand::AddSecret { client_id } => {
            let mut secret = None;
            change(&documents, &client_id, in_file(&client_id), |config| {
                if config.require_client_secret == Some(false) {
                    return Err(Failure::new(format!("client `{client_id}` is public: it has no secrets")));
                }
                secret = Some(add_secret(config));
                Ok(())
            })
            .await?;
            println!("added a secret to client {client_id}");
            if let Some(secret) = secret {
                print_secret(&secret);
            }
            Ok(())
        }
        ClientsCommand::RemoveSecret { client_id, number } => {
            change(&documents, &client_id, in_file(&client_id), |config| {
                if number == 0 || number > config.secrets.len() {
                    return Err(Failure::new(format!(
                        "client `{client_id}` has no secret number {number} (`clients show` lists them, from 1)"
                    )));
                }
                config.secrets.remove(number - 1);
                Ok(())
            })
            .await?;
            println!("removed secret {number} of client {client_id}");
            Ok(())
        }
        ClientsCommand::Delete { client_id } => {
            let mut revoked = 0;
            if in_file(&client_id).is_none() && documents.get(&client_id).await?.is_some() {
                // Revoked before the row goes, so that a failure leaves a client to delete again.
                revoked += revoke_grants(db, &client_id).await?;
            }
            if !documents.delete(&client_id).await? {
                return Err(
                    in_file(&client_id).unwrap_or_else(|| Failure::new(format!("no client `{client_id}` is stored")))
                );
            }
            if in_file(&client_id).is_some() {
                // The stored row was never served: the grants of this id are the file client's.
                println!("deleted the stored client {client_id}, which the configuration file's overrode");
                return Ok(());
            }
            // What the client got between the two is revoked too.
            revoked += revoke_grants(db, &client_id).await?;
            println!(
                "deleted client {client_id} ({revoked} grants revoked); running servers drop it within \
                 [client_store] cache_lifetime"
            );
            Ok(())
        }
    }
}

impl ClientSettings {
    /// Sets what was given on `config`; a list given replaces the stored one.
    fn apply(&self, config: &mut ClientConfig) {
        let replace = |target: &mut Vec<String>, given: &Vec<String>| {
            if !given.is_empty() {
                target.clone_from(given);
            }
        };
        if self.name.is_some() {
            config.client_name.clone_from(&self.name);
        }
        if self.logo_uri.is_some() {
            config.logo_uri.clone_from(&self.logo_uri);
        }
        if !self.grant_types.is_empty() {
            config.grant_types.clone_from(&self.grant_types);
        }
        replace(&mut config.scopes, &self.scopes);
        replace(&mut config.redirect_uris, &self.redirect_uris);
        replace(&mut config.post_logout_redirect_uris, &self.post_logout_redirect_uris);
        replace(&mut config.allowed_cors_origins, &self.allowed_cors_origins);
        config.require_consent = self.require_consent.or(config.require_consent);
        config.require_pkce = self.require_pkce.or(config.require_pkce);
        config.access_token_lifetime = self.access_token_lifetime.or(config.access_token_lifetime);
        config.refresh_token_lifetime = self.refresh_token_lifetime.or(config.refresh_token_lifetime);
        config.refresh_token_usage = self.refresh_token_usage.or(config.refresh_token_usage);
    }
}

/// Revokes every grant of `client_id`: refresh tokens, codes and consents. Returns how many.
async fn revoke_grants(db: &Database, client_id: &str) -> Result<u64> {
    let mut filter = GrantFilter::default();
    filter.client_id = Some(client_id.to_owned());
    Ok(database::grant_store(db).remove_all(&filter).await?)
}

/// The stored client `client_id`, or an error saying where it is instead.
async fn stored(
    documents: &DieselClientDocuments,
    client_id: &str,
    in_file: Option<Failure>,
) -> Result<StoredClientDocument> {
    documents
        .get(client_id)
        .await?
        .ok_or_else(|| in_file.unwrap_or_else(|| Failure::new(format!("no client `{client_id}` is stored"))))
}

/// Reads the stored client, applies `edit`, checks the result by the file's rules and stores it
/// unless another change came first.
async fn change(
    documents: &DieselClientDocuments,
    client_id: &str,
    in_file: Option<Failure>,
    edit: impl FnOnce(&mut ClientConfig) -> Result<()>,
) -> Result<()> {
    let stored = stored(documents, client_id, in_file).await?;
    let mut config = ClientConfig::from_document(&stored.document)?;
    edit(&mut config)?;
    let document = checked_document(&config)?;
    if !documents.replace(client_id, &stored.document, document, SystemClock.now()).await? {
        return Err(Failure::new(format!(
            "client `{client_id}` was changed or deleted meanwhile: run the command again"
        )));
    }
    Ok(())
}

/// The stored form of `config`, once it passes the file's rules.
fn checked_document(config: &ClientConfig) -> Result<String> {
    config.to_client()?;
    config.to_document()
}

/// Generates a secret, adds its hash to `config`, and returns it.
fn add_secret(config: &mut ClientConfig) -> String {
    use base64::Engine as _;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; SECRET_BYTES]>());
    config.secrets.push(format!("{SHA256_PREFIX}{}", ClientSecret::sha256(&secret).value));
    secret
}

/// Prints a new secret: the only time it is shown.
fn print_secret(secret: &str) {
    println!("client secret: {secret}");
    println!("(shown this once: only its SHA-256 hash is stored)");
}

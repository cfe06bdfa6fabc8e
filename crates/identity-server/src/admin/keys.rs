//! `keys …`: the signing keys in the database, listed by stage (never their material), a new
//! key made ahead of the schedule, and a key withdrawn at once. Running servers see each change
//! at their next read of the keys, at most `[keys] key_cache_duration` later.

use identity_core::{Clock as _, SystemClock};
use identity_diesel::Database;
use oidc_server::SigningKeyAdministration;

use crate::cli::KeysCommand;
use crate::database;
use crate::error::{Failure, Result};
use crate::settings::Settings;

/// Runs a `keys …` command.
pub(crate) async fn keys(settings: &Settings, db: &Database, command: KeysCommand) -> Result<()> {
    let options = settings.key_management()?;
    let cache = options.key_cache_duration;
    let secret = settings.key_encryption_secret.as_deref().map(str::as_bytes);
    let keys = SigningKeyAdministration::new(database::signing_key_store(db), secret, options)?;
    let now = SystemClock.now();
    match command {
        KeysCommand::List => {
            for key in keys.keys(now).await? {
                println!(
                    "{}  {}  {}  created {}  retires {}  published until {}{}",
                    key.key_id,
                    key.algorithm.as_str(),
                    key.stage.as_str(),
                    key.created.to_rfc3339(),
                    key.retires.to_rfc3339(),
                    key.unpublished.to_rfc3339(),
                    if key.encrypted { "" } else { "  UNENCRYPTED" },
                );
            }
            Ok(())
        }
        KeysCommand::Rotate => {
            for key_id in keys.rotate(now).await? {
                println!("added key {key_id}: announced now, it signs after the propagation time");
            }
            println!("running servers see it within {}s", cache.num_seconds());
            Ok(())
        }
        KeysCommand::Retire { key_id } => {
            if !keys.retire(&key_id).await? {
                return Err(Failure::new(format!("no signing key `{key_id}`")));
            }
            println!(
                "retired key {key_id}: it no longer signs, and the tokens it signed no longer verify; running servers \
                 drop it within {}s",
                cache.num_seconds()
            );
            Ok(())
        }
    }
}

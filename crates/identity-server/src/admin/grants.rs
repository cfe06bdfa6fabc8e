//! `grants …`: what users have granted clients (refresh tokens, unredeemed authorization codes,
//! remembered consents), listed without their values, and revoked by user, by client or both.

use std::collections::HashMap;

use oidc_server::{GrantFilter, PersistedGrant, PersistedGrantStore as _};

use crate::cli::{GrantOwner, GrantsCommand};
use crate::database;
use crate::error::Result;
use crate::identity::Identity;

/// Runs a `grants …` command.
pub(crate) async fn grants(identity: &Identity, command: GrantsCommand) -> Result<()> {
    let store = database::grant_store(&identity.db);
    match command {
        GrantsCommand::List(owner) => {
            let mut user_names = HashMap::new();
            for grant in store.get_all(&filter(identity, &owner).await?).await? {
                let user = match &grant.subject_id {
                    Some(subject_id) => user_name(identity, &mut user_names, subject_id).await?,
                    None => "-".to_owned(),
                };
                println!("{}", describe(&grant, &user));
            }
            Ok(())
        }
        GrantsCommand::Revoke(owner) => {
            let revoked = store.remove_all(&filter(identity, &owner).await?).await?;
            println!("revoked {revoked} grants");
            Ok(())
        }
    }
}

/// The grants of the user named, the client named, or both.
async fn filter(identity: &Identity, owner: &GrantOwner) -> Result<GrantFilter> {
    let mut filter = GrantFilter::default();
    if let Some(user_name) = &owner.user {
        filter.subject_id = Some(identity.user(user_name).await?.id);
    }
    filter.client_id.clone_from(&owner.client);
    Ok(filter)
}

/// The name of the user `subject_id`, looked up once per command; the id when the user is gone.
async fn user_name(identity: &Identity, known: &mut HashMap<String, String>, subject_id: &str) -> Result<String> {
    if let Some(name) = known.get(subject_id) {
        return Ok(name.clone());
    }
    let user = identity.users.find_by_id(subject_id).await?;
    let name = user.and_then(|user| user.user_name).unwrap_or_else(|| subject_id.to_owned());
    known.insert(subject_id.to_owned(), name.clone());
    Ok(name)
}

/// One line about a grant: what, to whom, by whom, when; never its key or payload.
fn describe(grant: &PersistedGrant, user: &str) -> String {
    let expires = grant.expiration.map_or_else(|| "never".to_owned(), |expiration| expiration.to_rfc3339());
    let used = grant.consumed_time.map(|used| format!("  used {}", used.to_rfc3339())).unwrap_or_default();
    format!(
        "{}  client {}  user {user}  created {}  expires {expires}{used}",
        grant.grant_type.as_str(),
        grant.client_id,
        grant.creation_time.to_rfc3339()
    )
}

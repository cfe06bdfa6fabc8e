//! Signing keys administered from outside the running servers, by an operator's command: where
//! each stored key is in its life, a new key ahead of the schedule, and a key withdrawn at once.
//! Running instances see each change at their next read of the key store, at most
//! `key_cache_duration` later.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::manager::{new_key, parse_stored_key, signer_position};
use super::protection::KeyProtector;
use super::{KeyManagementOptions, SigningAlgorithm};
use crate::error::{Error, Result};
use crate::stores::keys::{SigningKeyStore, StoredSigningKey};

/// Where a key is in its life at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningKeyStage {
    /// Published but not signing yet: it waits for the propagation time, so that clients
    /// caching the key set learn it before it signs.
    Announced,
    /// Signs new tokens of its algorithm.
    Signing,
    /// Published and usable, but a newer key of its algorithm signs (after a manual rotation).
    Superseded,
    /// Past its rotation interval: published only so that the tokens it signed still verify.
    Retired,
    /// Past its retention: deleted at a server's next read of the store.
    Expired,
    /// Neither signs nor verifies: the servers cannot read it with the key-encryption secret
    /// given here (another secret), or will delete it (stored unencrypted while there is one).
    Unusable,
}

impl SigningKeyStage {
    /// A lower-case name, e.g. `signing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Announced => "announced",
            Self::Signing => "signing",
            Self::Superseded => "superseded",
            Self::Retired => "retired",
            Self::Expired => "expired",
            Self::Unusable => "unusable",
        }
    }
}

/// A stored key as an operator sees it: never its material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningKeyStatus {
    /// The key id (`kid`).
    pub key_id: String,
    /// Its algorithm.
    pub algorithm: SigningAlgorithm,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Whether it is stored encrypted with the key-encryption secret.
    pub encrypted: bool,
    /// Where it is in its life at the instant asked about.
    pub stage: SigningKeyStage,
    /// When it stops signing.
    pub retires: DateTime<Utc>,
    /// When it leaves the published key set.
    pub unpublished: DateTime<Utc>,
}

/// The signing keys of a key store, with the rotation options and the key-encryption secret the
/// servers use.
pub struct SigningKeyAdministration {
    store: Arc<dyn SigningKeyStore>,
    protector: Option<KeyProtector>,
    options: KeyManagementOptions,
}

impl std::fmt::Debug for SigningKeyAdministration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyAdministration")
            .field("options", &self.options)
            .field("keys_encrypted_at_rest", &self.protector.is_some())
            .finish_non_exhaustive()
    }
}

impl SigningKeyAdministration {
    /// The keys of `store`, for servers with `options` and `key_encryption_secret`.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when the options break a rule of
    /// [`KeyManagementOptions::validate`].
    pub fn new(
        store: Arc<dyn SigningKeyStore>,
        key_encryption_secret: Option<&[u8]>,
        options: KeyManagementOptions,
    ) -> Result<Self> {
        options.validate()?;
        let protector = key_encryption_secret.map(KeyProtector::new).transpose()?;
        Ok(Self { store, protector, options })
    }

    /// Every stored key, oldest first, with its stage at `now`.
    pub async fn keys(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyStatus>> {
        let mut keys = self.store.load_keys().await?;
        keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.key_id.cmp(&b.key_id)));
        let usable: Vec<bool> = keys.iter().map(|key| self.is_usable(key)).collect();
        // The servers choose the signer among the keys they can use, as here.
        let candidates: Vec<usize> = (0..keys.len()).filter(|position| usable[*position]).collect();
        let signers: Vec<usize> = self
            .options
            .signing_algorithms
            .iter()
            .filter_map(|algorithm| {
                let candidate_keys =
                    candidates.iter().map(|position| (keys[*position].algorithm, keys[*position].created));
                signer_position(candidate_keys, *algorithm, now, &self.options).map(|found| candidates[found])
            })
            .collect();
        Ok(keys
            .iter()
            .enumerate()
            .map(|(position, key)| {
                let retires = self.options.retires_at(key.created);
                let unpublished = self.options.unpublished_at(key.created);
                let stage = if now >= unpublished {
                    SigningKeyStage::Expired
                } else if !usable[position] {
                    SigningKeyStage::Unusable
                } else if now >= retires {
                    SigningKeyStage::Retired
                } else if signers.contains(&position) {
                    SigningKeyStage::Signing
                } else if key.created + self.options.propagation_time > now {
                    SigningKeyStage::Announced
                } else {
                    SigningKeyStage::Superseded
                };
                SigningKeyStatus {
                    key_id: key.key_id.clone(),
                    algorithm: key.algorithm,
                    created: key.created,
                    encrypted: key.data_protected,
                    stage,
                    retires,
                    unpublished,
                }
            })
            .collect())
    }

    /// Adds a new key for each configured algorithm, made at `now`: announced at once, it signs
    /// after the propagation time, when the key it succeeds becomes superseded. Returns their
    /// ids.
    ///
    /// # Errors
    ///
    /// [`Error::SigningKey`] when the stored keys are encrypted with another secret than this
    /// one (or without one here), which would leave the servers with a key they cannot read or
    /// one they would delete; a store error.
    pub async fn rotate(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        self.check_secret(&self.store.load_keys().await?)?;
        let mut added = Vec::new();
        for &algorithm in &self.options.signing_algorithms {
            let (stored, _) = new_key(self.protector.as_ref(), algorithm, now).await?;
            let key_id = stored.key_id.clone();
            // Only a key made after `now` would stop this one, and there is none.
            if self.store.add_key_if_none_newer(stored, now).await? {
                added.push(key_id);
            }
        }
        Ok(added)
    }

    /// Deletes the key `key_id` at once: it stops signing and the tokens it signed stop
    /// verifying, as for a compromised key. When it was its algorithm's only key the servers make
    /// a new one at their next read, which signs at once. Returns whether the key existed.
    pub async fn retire(&self, key_id: &str) -> Result<bool> {
        let exists = self.store.load_keys().await?.iter().any(|key| key.key_id == key_id);
        if exists {
            self.store.delete_key(key_id).await?;
        }
        Ok(exists)
    }

    /// Whether the servers, with this secret (or without one), can sign and verify with `key`.
    /// An encrypted key cannot be checked without the secret, and counts as usable.
    fn is_usable(&self, key: &StoredSigningKey) -> bool {
        match (&self.protector, key.data_protected) {
            (Some(_), false) => false,
            (None, true) => true,
            (protector, _) => parse_stored_key(protector.as_ref(), key).is_ok(),
        }
    }

    /// Fails unless this secret (or its absence) matches the stored keys: a server with a secret
    /// deletes unencrypted keys, and one with another secret cannot read them. With no key
    /// stored yet there is nothing to compare with.
    fn check_secret(&self, keys: &[StoredSigningKey]) -> Result<()> {
        match &self.protector {
            None if keys.iter().any(|key| key.data_protected) => Err(Error::SigningKey(
                "the stored keys are encrypted: give the key-encryption secret the servers use".into(),
            )),
            Some(_) if !keys.is_empty() && !keys.iter().any(|key| key.data_protected) => Err(Error::SigningKey(
                "the stored keys are unencrypted, so the servers run without a key-encryption secret: give none here, \
                 or set it on the servers first"
                    .into(),
            )),
            Some(protector) => match keys.iter().find(|key| key.data_protected) {
                Some(key) if parse_stored_key(Some(protector), key).is_err() => Err(Error::SigningKey(
                    "the key-encryption secret given does not decrypt the stored keys: give the one the servers use"
                        .into(),
                )),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::stores::keys::InMemorySigningKeyStore;

    const SECRET: &[u8] = b"a key-encryption secret of 32+ bytes";

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn stages(keys: &[SigningKeyStatus]) -> Vec<SigningKeyStage> {
        keys.iter().map(|key| key.stage).collect()
    }

    #[tokio::test]
    async fn a_rotated_key_is_announced_then_signs_while_the_old_one_is_superseded_then_retires() {
        let store = Arc::new(InMemorySigningKeyStore::new());
        let options = KeyManagementOptions::default();
        let admin = SigningKeyAdministration::new(store.clone(), Some(SECRET), options.clone()).expect("valid");
        assert!(admin.keys(start()).await.expect("keys").is_empty());

        let first = admin.rotate(start()).await.expect("a first key");
        let keys = admin.keys(start()).await.expect("keys");
        assert_eq!(stages(&keys), [SigningKeyStage::Signing], "the only key signs at once");
        assert_eq!(keys[0].key_id, first[0]);
        assert!(keys[0].encrypted && keys[0].retires == start() + options.rotation_interval);

        let day = start() + TimeDelta::days(1);
        let second = admin.rotate(day).await.expect("a second key");
        assert_eq!(
            stages(&admin.keys(day).await.expect("keys")),
            [SigningKeyStage::Signing, SigningKeyStage::Announced]
        );
        let propagated = day + options.propagation_time;
        let keys = admin.keys(propagated).await.expect("keys");
        assert_eq!(stages(&keys), [SigningKeyStage::Superseded, SigningKeyStage::Signing]);
        assert_eq!(keys[1].key_id, second[0]);
        let retired = start() + options.rotation_interval;
        assert_eq!(stages(&admin.keys(retired).await.expect("keys"))[0], SigningKeyStage::Retired);
        let expired = retired + options.retention_duration;
        assert_eq!(stages(&admin.keys(expired).await.expect("keys"))[0], SigningKeyStage::Expired);

        assert!(admin.retire(&second[0]).await.expect("retired"));
        assert!(!admin.retire(&second[0]).await.expect("gone"), "a second retire finds nothing");
        assert_eq!(admin.keys(propagated).await.expect("keys").len(), 1);
    }

    #[tokio::test]
    async fn rotation_refuses_a_secret_that_does_not_match_the_stored_keys() {
        let store = Arc::new(InMemorySigningKeyStore::new());
        let options = KeyManagementOptions::default();
        let encrypted = SigningKeyAdministration::new(store.clone(), Some(SECRET), options.clone()).expect("valid");
        encrypted.rotate(start()).await.expect("rotated");
        let without = SigningKeyAdministration::new(store.clone(), None, options.clone()).expect("valid");
        let error = without.rotate(start()).await.expect_err("no secret");
        assert!(error.to_string().contains("give the key-encryption secret"), "{error}");
        let other = b"another key-encryption secret, 32+ bytes";
        let wrong = SigningKeyAdministration::new(store.clone(), Some(other), options).expect("valid");
        let error = wrong.rotate(start()).await.expect_err("wrong secret");
        assert!(error.to_string().contains("does not decrypt"), "{error}");
        assert_eq!(encrypted.keys(start()).await.expect("keys").len(), 1, "nothing was added");
        let wrong_stages = stages(&wrong.keys(start()).await.expect("keys"));
        assert_eq!(wrong_stages, [SigningKeyStage::Unusable], "another secret cannot read it");
        let unknowable = stages(&without.keys(start()).await.expect("keys"));
        assert_eq!(unknowable, [SigningKeyStage::Signing], "unknowable without a secret");

        let plain_store = Arc::new(InMemorySigningKeyStore::new());
        let plain = SigningKeyAdministration::new(plain_store.clone(), None, KeyManagementOptions::default());
        plain.expect("valid").rotate(start()).await.expect("an unencrypted key");
        let with_secret = SigningKeyAdministration::new(plain_store, Some(SECRET), KeyManagementOptions::default());
        let with_secret = with_secret.expect("valid");
        let error = with_secret.rotate(start()).await.expect_err("the servers have no secret");
        assert!(error.to_string().contains("the stored keys are unencrypted"), "{error}");
        let deleted = stages(&with_secret.keys(start()).await.expect("keys"));
        assert_eq!(deleted, [SigningKeyStage::Unusable], "a server with the secret deletes it");
    }
}

//! Key rotation: which keys are published, which key signs, and when a new key is created.
//!
//! Each instance holds a [`KeyRing`] read from the [`SigningKeyStore`] and re-reads it every
//! `key_cache_duration`, or sooner when a key's successor is due. Creating a successor goes through
//! [`SigningKeyStore::add_key_if_none_newer`], so concurrent instances end up with one new key.
//! All decisions use the injected clock.

use std::sync::{Arc, PoisonError, RwLock};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use super::material::{SigningKey, decode_stored_key_data, encode_stored_key_data, generate_private_key};
use super::protection::KeyProtector;
use super::{KeyManagementOptions, SigningAlgorithm};
use crate::error::{Error, Result};
use crate::stores::keys::{SigningKeyStore, StoredSigningKey};
use crate::tokens::random_identifier;
use time_source::Clock;

/// The keys an instance knows, as of one read of the store.
#[derive(Debug)]
pub(crate) struct KeyRing {
    /// Oldest first.
    keys: Vec<Arc<SigningKey>>,
    loaded_at: DateTime<Utc>,
    /// The earliest instant at which some algorithm's newest key needs a successor.
    next_successor_due: Option<DateTime<Utc>>,
    jwks: Bytes,
}

impl KeyManagementOptions {
    /// When a key created at `created` needs a successor: one propagation time before it retires.
    fn successor_due(&self, created: DateTime<Utc>) -> DateTime<Utc> {
        created + self.rotation_interval - self.propagation_time
    }

    pub(crate) fn retires_at(&self, created: DateTime<Utc>) -> DateTime<Utc> {
        created + self.rotation_interval
    }

    pub(crate) fn unpublished_at(&self, created: DateTime<Utc>) -> DateTime<Utc> {
        created + self.rotation_interval + self.retention_duration
    }
}

impl KeyRing {
    fn empty() -> Self {
        Self { keys: Vec::new(), loaded_at: DateTime::<Utc>::MIN_UTC, next_successor_due: None, jwks: Bytes::new() }
    }

    fn new(mut keys: Vec<Arc<SigningKey>>, loaded_at: DateTime<Utc>, options: &KeyManagementOptions) -> Result<Self> {
        keys.sort_by_key(|key| key.created());
        let next_successor_due = options
            .signing_algorithms
            .iter()
            .filter_map(|algorithm| {
                keys.iter().filter(|key| key.algorithm() == *algorithm).map(|key| key.created()).max()
            })
            .map(|newest| options.successor_due(newest))
            .min();
        let published = JwkSet { keys: keys.iter().map(|key| key.jwk().clone()).collect() };
        let jwks = Bytes::from(serde_json::to_vec(&published)?);
        Ok(Self { keys, loaded_at, next_successor_due, jwks })
    }

    /// The same keys, not to be refreshed again before another cache period has passed.
    fn kept_after_failed_refresh(&self, now: DateTime<Utc>) -> Self {
        Self { keys: self.keys.clone(), loaded_at: now, next_successor_due: None, jwks: self.jwks.clone() }
    }

    fn needs_refresh(&self, now: DateTime<Utc>, options: &KeyManagementOptions) -> bool {
        now >= self.loaded_at + options.key_cache_duration || self.next_successor_due.is_some_and(|due| now >= due)
    }

    /// The key that signs with `algorithm` at `now` (see [`signer_position`]).
    fn signing_key(
        &self,
        algorithm: SigningAlgorithm,
        now: DateTime<Utc>,
        options: &KeyManagementOptions,
    ) -> Option<&Arc<SigningKey>> {
        let keys = self.keys.iter().map(|key| (key.algorithm(), key.created()));
        signer_position(keys, algorithm, now, options).map(|position| &self.keys[position])
    }

    fn find(&self, key_id: &str) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|key| key.key_id() == key_id)
    }
}

/// The position among `keys` (oldest first, as algorithm and creation time) of the key that
/// signs with `algorithm` at `now`: the newest key that has been published for the propagation
/// time and is not retired. When there is none (first start, or every key retired while no
/// instance ran) the oldest unretired key signs, since no client can have cached anything.
pub(crate) fn signer_position(
    keys: impl Iterator<Item = (SigningAlgorithm, DateTime<Utc>)> + Clone,
    algorithm: SigningAlgorithm,
    now: DateTime<Utc>,
    options: &KeyManagementOptions,
) -> Option<usize> {
    let mut unretired = keys
        .enumerate()
        .filter(|(_, (key_algorithm, created))| *key_algorithm == algorithm && now < options.retires_at(*created));
    let propagated = unretired.clone().filter(|(_, (_, created))| *created + options.propagation_time <= now).last();
    propagated.or_else(|| unretired.next()).map(|(position, _)| position)
}

/// A new key for `algorithm` made at `now`: its stored form (encrypted when there is a
/// `protector`) and its parsed form.
pub(crate) async fn new_key(
    protector: Option<&KeyProtector>,
    algorithm: SigningAlgorithm,
    now: DateTime<Utc>,
) -> Result<(StoredSigningKey, SigningKey)> {
    // RSA key generation takes tens of milliseconds: keep it off the async workers.
    let private_key = tokio::task::spawn_blocking(move || generate_private_key(algorithm))
        .await
        .map_err(|_| Error::SigningKey("the key generation task failed".into()))??;
    let key_id = random_identifier();
    let key = SigningKey::from_pkcs8(key_id.clone(), algorithm, now, &private_key)?;
    let (data_protected, data) = match protector {
        Some(protector) => (true, protector.protect(&key_id, algorithm, &private_key)?),
        None => (false, private_key),
    };
    let stored =
        StoredSigningKey { key_id, algorithm, created: now, data_protected, data: encode_stored_key_data(&data) };
    Ok((stored, key))
}

/// Loads, creates, rotates and hands out signing keys.
pub(crate) struct KeyManager {
    store: Arc<dyn SigningKeyStore>,
    protector: Option<KeyProtector>,
    options: KeyManagementOptions,
    clock: Arc<dyn Clock>,
    ring: RwLock<Arc<KeyRing>>,
    refresh_lock: Mutex<()>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("options", &self.options)
            .field("keys_encrypted_at_rest", &self.protector.is_some())
            .field("ring", &self.current_ring())
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// Reads the store, creating the first keys if there are none.
    pub(crate) async fn start(
        store: Arc<dyn SigningKeyStore>,
        protector: Option<KeyProtector>,
        options: KeyManagementOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        if protector.is_none() {
            tracing::warn!(
                "NO KEY-ENCRYPTION SECRET IS CONFIGURED: private signing keys are stored \
                 unencrypted; anyone who can read the key store can forge tokens"
            );
        }
        let manager = Self {
            store,
            protector,
            options,
            clock,
            ring: RwLock::new(Arc::new(KeyRing::empty())),
            refresh_lock: Mutex::new(()),
        };
        manager.ring().await?;
        Ok(manager)
    }

    pub(crate) fn algorithms(&self) -> &[SigningAlgorithm] {
        &self.options.signing_algorithms
    }

    fn current_ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The current key ring, re-read from the store when it is stale.
    async fn ring(&self) -> Result<Arc<KeyRing>> {
        let ring = self.current_ring();
        if !ring.needs_refresh(self.clock.now(), &self.options) {
            return Ok(ring);
        }
        let _refreshing = self.refresh_lock.lock().await;
        // Another task may have refreshed while this one waited.
        let ring = self.current_ring();
        let now = self.clock.now();
        if !ring.needs_refresh(now, &self.options) {
            return Ok(ring);
        }
        let ring = match self.reload(now).await {
            Ok(reloaded) => Arc::new(reloaded),
            // A key-store outage should not stop token issuance while the cached keys are
            // still good; the store is tried again after another cache period.
            Err(error) if !ring.keys.is_empty() => {
                tracing::error!(%error, "could not refresh the signing keys; keeping the cached ones");
                Arc::new(ring.kept_after_failed_refresh(now))
            }
            Err(error) => return Err(error),
        };
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&ring);
        Ok(ring)
    }

    /// The key that signs new access tokens now.
    pub(crate) async fn signing_key(&self) -> Result<Arc<SigningKey>> {
        self.signing_key_for(self.options.default_algorithm()).await
    }

    /// The key that signs new id tokens and logout tokens now.
    pub(crate) async fn id_token_signing_key(&self) -> Result<Arc<SigningKey>> {
        self.signing_key_for(self.options.id_token_algorithm()).await
    }

    async fn signing_key_for(&self, algorithm: SigningAlgorithm) -> Result<Arc<SigningKey>> {
        let ring = self.ring().await?;
        ring.signing_key(algorithm, self.clock.now(), &self.options).cloned().ok_or_else(|| {
            Error::SigningKey(format!("no usable {} signing key (check the key-encryption secret)", algorithm.as_str()))
        })
    }

    /// A published key by `kid`, for checking the server's own tokens.
    pub(crate) async fn verification_key(&self, key_id: &str) -> Result<Option<Arc<SigningKey>>> {
        Ok(self.ring().await?.find(key_id).cloned())
    }

    /// The published JWK set, serialised.
    pub(crate) async fn jwks(&self) -> Result<Bytes> {
        Ok(self.ring().await?.jwks.clone())
    }

    async fn reload(&self, now: DateTime<Utc>) -> Result<KeyRing> {
        let mut keys = self.load_usable_keys(now).await?;
        let mut lost_a_race = false;
        for &algorithm in &self.options.signing_algorithms {
            let newest = keys.iter().filter(|key| key.algorithm() == algorithm).map(|key| key.created()).max();
            if newest.is_some_and(|created| now < self.options.successor_due(created)) {
                continue;
            }
            let (stored, key) = new_key(self.protector.as_ref(), algorithm, now).await?;
            // A key newer than this would not yet need a successor, so if one exists another
            // instance has just created it and this key is not needed.
            let newer_than = now - (self.options.rotation_interval - self.options.propagation_time);
            if self.store.add_key_if_none_newer(stored, newer_than).await? {
                tracing::info!(kid = key.key_id(), algorithm = algorithm.as_str(), "created signing key");
                keys.push(Arc::new(key));
            } else {
                lost_a_race = true;
            }
        }
        if lost_a_race {
            keys = self.load_usable_keys(now).await?;
        }
        KeyRing::new(keys, now, &self.options)
    }

    /// Reads the store, deletes keys past their publication period, and parses the rest. Keys
    /// that cannot be decrypted or parsed are logged and skipped.
    ///
    /// Once a key-encryption secret is configured, a key stored in plaintext (written before the
    /// secret was set) is deleted: whoever could read the store may hold a copy, so it must
    /// neither sign nor verify. A new, encrypted key takes its place.
    async fn load_usable_keys(&self, now: DateTime<Utc>) -> Result<Vec<Arc<SigningKey>>> {
        let mut keys = Vec::new();
        for stored in self.store.load_keys().await? {
            if now >= self.options.unpublished_at(stored.created) {
                self.store.delete_key(&stored.key_id).await?;
                tracing::info!(kid = %stored.key_id, "deleted expired signing key");
                continue;
            }
            if self.protector.is_some() && !stored.data_protected {
                self.store.delete_key(&stored.key_id).await?;
                tracing::warn!(
                    kid = %stored.key_id,
                    "deleted a signing key stored unencrypted before a key-encryption secret was set; tokens it \
                     signed no longer verify, and an encrypted key replaces it"
                );
                continue;
            }
            match parse_stored_key(self.protector.as_ref(), &stored) {
                Ok(key) => keys.push(Arc::new(key)),
                Err(error) => {
                    tracing::error!(kid = %stored.key_id, %error, "skipping unusable signing key");
                }
            }
        }
        Ok(keys)
    }
}

/// A stored key, decrypted with `protector` when it is encrypted.
pub(crate) fn parse_stored_key(protector: Option<&KeyProtector>, stored: &StoredSigningKey) -> Result<SigningKey> {
    let data = decode_stored_key_data(&stored.data)?;
    let private_key = match (protector, stored.data_protected) {
        (_, false) => data,
        (Some(protector), true) => protector.unprotect(&stored.key_id, stored.algorithm, &data)?,
        (None, true) => {
            return Err(Error::SigningKey("the key is encrypted but no key-encryption secret is configured".into()));
        }
    };
    SigningKey::from_pkcs8(stored.key_id.clone(), stored.algorithm, stored.created, &private_key)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use chrono::TimeDelta;
    use serde_json::Value;

    use super::*;
    use crate::stores::keys::InMemorySigningKeyStore;
    use time_source::ManualClock;

    const SECRET: &[u8] = b"a key-encryption secret of 32+ bytes";

    fn start_time() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn eddsa_options() -> KeyManagementOptions {
        KeyManagementOptions { signing_algorithms: vec![SigningAlgorithm::EdDsa], ..KeyManagementOptions::default() }
    }

    async fn published_kids(manager: &KeyManager) -> Vec<String> {
        let jwks: Value = serde_json::from_slice(&manager.jwks().await.expect("jwks")).expect("json");
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key["kid"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    async fn signing_kid(manager: &KeyManager) -> String {
        manager.signing_key().await.expect("signing key").key_id().to_owned()
    }

    #[tokio::test]
    async fn rotates_with_propagation_and_retention() {
        let options = eddsa_options();
        let clock = Arc::new(ManualClock::new(start_time()));
        let store = Arc::new(InMemorySigningKeyStore::new());
        let manager = KeyManager::start(store.clone(), None, options.clone(), clock.clone()).await.expect("starts");

        // First start: the only key signs at once.
        let first = signing_kid(&manager).await;
        assert_eq!(published_kids(&manager).await, std::slice::from_ref(&first));

        // Just before the successor is due nothing changes.
        clock.set(options.successor_due(start_time()) - TimeDelta::seconds(1));
        assert_eq!(signing_kid(&manager).await, first);
        assert_eq!(published_kids(&manager).await.len(), 1);

        // The successor is created and published, but the first key keeps signing.
        clock.set(options.successor_due(start_time()));
        assert_eq!(signing_kid(&manager).await, first);
        let published = published_kids(&manager).await;
        assert_eq!(published.len(), 2);
        let second = published.iter().find(|kid| **kid != first).cloned().expect("a new key");

        // After the propagation time the successor signs; the old key stays published.
        clock.set(options.retires_at(start_time()));
        assert_eq!(signing_kid(&manager).await, second);
        assert!(published_kids(&manager).await.contains(&first));
        assert!(manager.verification_key(&first).await.expect("ok").is_some());

        // Once the retention period ends the old key is unpublished and deleted.
        clock.set(options.unpublished_at(start_time()));
        assert_eq!(published_kids(&manager).await, std::slice::from_ref(&second));
        let stored = store.load_keys().await.expect("ok");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].key_id, second);
    }

    #[tokio::test]
    async fn access_tokens_sign_with_the_first_algorithm_and_id_tokens_with_rs256_when_listed() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
        for (algorithms, access, id) in [
            (vec![SigningAlgorithm::Es256, SigningAlgorithm::Rs256], SigningAlgorithm::Es256, SigningAlgorithm::Rs256),
            (vec![SigningAlgorithm::EdDsa], SigningAlgorithm::EdDsa, SigningAlgorithm::EdDsa),
            (vec![SigningAlgorithm::Rs256, SigningAlgorithm::EdDsa], SigningAlgorithm::Rs256, SigningAlgorithm::Rs256),
        ] {
            let options =
                KeyManagementOptions { signing_algorithms: algorithms.clone(), ..KeyManagementOptions::default() };
            let store = Arc::new(InMemorySigningKeyStore::new());
            let manager = KeyManager::start(store, None, options, clock.clone()).await.expect("starts");
            assert_eq!(manager.signing_key().await.expect("a key").algorithm(), access, "{algorithms:?}");
            assert_eq!(manager.id_token_signing_key().await.expect("a key").algorithm(), id, "{algorithms:?}");
            assert_eq!(published_kids(&manager).await.len(), algorithms.len(), "every algorithm's key is published");
        }
    }

    #[tokio::test]
    async fn instances_starting_together_agree_on_one_key() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
        let store: Arc<dyn SigningKeyStore> = Arc::new(InMemorySigningKeyStore::new());
        let (first, second) = tokio::join!(
            KeyManager::start(store.clone(), None, eddsa_options(), clock.clone()),
            KeyManager::start(store.clone(), None, eddsa_options(), clock.clone()),
        );
        let (first, second) = (first.expect("starts"), second.expect("starts"));
        assert_eq!(signing_kid(&first).await, signing_kid(&second).await);
        assert_eq!(store.load_keys().await.expect("ok").len(), 1);
    }

    #[tokio::test]
    async fn another_instance_sees_a_new_key_after_the_cache_duration() {
        let options = eddsa_options();
        let clock = Arc::new(ManualClock::new(start_time()));
        let store: Arc<dyn SigningKeyStore> = Arc::new(InMemorySigningKeyStore::new());
        let first = KeyManager::start(store.clone(), None, options.clone(), clock.clone()).await.expect("starts");
        let second = KeyManager::start(store.clone(), None, options.clone(), clock.clone()).await.expect("starts");
        clock.set(options.successor_due(start_time()));
        // The first instance creates the successor; the second finds it instead of creating one.
        assert_eq!(published_kids(&first).await.len(), 2);
        assert_eq!(published_kids(&second).await, published_kids(&first).await);
        assert_eq!(store.load_keys().await.expect("ok").len(), 2);
    }

    #[tokio::test]
    async fn keys_are_encrypted_at_rest_when_a_secret_is_configured() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
        let store: Arc<dyn SigningKeyStore> = Arc::new(InMemorySigningKeyStore::new());
        let protector = KeyProtector::new(SECRET).expect("valid");
        let manager =
            KeyManager::start(store.clone(), Some(protector), eddsa_options(), clock.clone()).await.expect("starts");
        let kid = signing_kid(&manager).await;
        let stored = store.load_keys().await.expect("ok");
        assert!(stored[0].data_protected);
        let protected = decode_stored_key_data(&stored[0].data).expect("base64");
        assert!(SigningKey::from_pkcs8("x".into(), SigningAlgorithm::EdDsa, start_time(), &protected).is_err());

        // An instance with the same secret uses the stored key.
        let same = KeyManager::start(
            store.clone(),
            Some(KeyProtector::new(SECRET).expect("valid")),
            eddsa_options(),
            clock.clone(),
        )
        .await
        .expect("starts");
        assert_eq!(signing_kid(&same).await, kid);

        // An instance with another secret cannot sign rather than diverging with its own key.
        let other = KeyManager::start(
            store.clone(),
            Some(KeyProtector::new(b"a different secret, also 32+ bytes").expect("valid")),
            eddsa_options(),
            clock,
        )
        .await
        .expect("starts");
        assert!(other.signing_key().await.is_err());
        assert_eq!(store.load_keys().await.expect("ok").len(), 1);
    }

    #[tokio::test]
    async fn plaintext_keys_are_replaced_once_a_secret_is_configured() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
        let store: Arc<dyn SigningKeyStore> = Arc::new(InMemorySigningKeyStore::new());
        let plain = KeyManager::start(store.clone(), None, eddsa_options(), clock.clone()).await.expect("starts");
        let exposed = signing_kid(&plain).await;
        assert!(!store.load_keys().await.expect("ok")[0].data_protected);

        let protector = KeyProtector::new(SECRET).expect("valid");
        let encrypted =
            KeyManager::start(store.clone(), Some(protector), eddsa_options(), clock).await.expect("starts");
        let replacement = signing_kid(&encrypted).await;
        assert_ne!(replacement, exposed, "the plaintext key no longer signs");
        assert_eq!(published_kids(&encrypted).await, [replacement], "nor verifies");
        let stored = store.load_keys().await.expect("ok");
        assert!(stored.iter().all(|key| key.data_protected), "only encrypted keys remain");
    }

    /// A key store whose reads can be made to fail.
    #[derive(Default)]
    struct FlakyKeyStore {
        inner: InMemorySigningKeyStore,
        failing: AtomicBool,
    }

    #[async_trait::async_trait]
    impl SigningKeyStore for FlakyKeyStore {
        async fn load_keys(&self) -> Result<Vec<StoredSigningKey>> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(Error::store("the key store is down"));
            }
            self.inner.load_keys().await
        }

        async fn add_key_if_none_newer(&self, key: StoredSigningKey, newer_than: DateTime<Utc>) -> Result<bool> {
            self.inner.add_key_if_none_newer(key, newer_than).await
        }

        async fn delete_key(&self, key_id: &str) -> Result<()> {
            self.inner.delete_key(key_id).await
        }
    }

    #[tokio::test]
    async fn a_key_store_outage_keeps_the_cached_keys_signing() {
        let options = eddsa_options();
        let clock = Arc::new(ManualClock::new(start_time()));
        let store = Arc::new(FlakyKeyStore::default());
        let manager = KeyManager::start(store.clone(), None, options.clone(), clock.clone()).await.expect("starts");
        let kid = signing_kid(&manager).await;

        store.failing.store(true, Ordering::SeqCst);
        clock.advance(options.key_cache_duration);
        assert_eq!(signing_kid(&manager).await, kid);

        // Without any cached key the failure is reported.
        let cold = KeyManager::start(store, None, options, clock).await;
        assert!(cold.is_err());
    }

    #[tokio::test]
    async fn a_long_outage_creates_a_key_that_signs_at_once() {
        let options = eddsa_options();
        let clock = Arc::new(ManualClock::new(start_time()));
        let store: Arc<dyn SigningKeyStore> = Arc::new(InMemorySigningKeyStore::new());
        let first = KeyManager::start(store.clone(), None, options.clone(), clock.clone()).await.expect("starts");
        let old = signing_kid(&first).await;
        clock.set(options.retires_at(start_time()) + TimeDelta::days(1));
        let restarted = KeyManager::start(store, None, options, clock).await.expect("starts");
        let new = signing_kid(&restarted).await;
        assert_ne!(new, old);
    }
}

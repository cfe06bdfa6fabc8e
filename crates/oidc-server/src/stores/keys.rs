//! Where signing keys are kept, so that every server instance signs with the same keys.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::keys::SigningAlgorithm;

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSigningKey {
    /// The key id (`kid`).
    pub key_id: String,
    /// The JWS algorithm the key signs with.
    pub algorithm: SigningAlgorithm,
    /// When the key was created; rotation is computed from this.
    pub created: DateTime<Utc>,
    /// Whether `data` is encrypted with the key-encryption secret.
    pub data_protected: bool,
    /// Standard base64 of the PKCS#8 private key, or of its AES-256-GCM encryption
    /// (nonce ‖ ciphertext ‖ tag) when `data_protected`.
    pub data: String,
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("created", &self.created)
            .field("data_protected", &self.data_protected)
            .field("data", &"[redacted]")
            .finish()
    }
}

/// Persists signing keys shared by all server instances.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every stored key.
    async fn load_keys(&self) -> Result<Vec<StoredSigningKey>>;

    /// Atomically stores `key` unless a key of the same algorithm created after `newer_than`
    /// exists; returns whether it was stored. Instances that decide at the same moment that a
    /// new key is due thereby agree on one key.
    async fn add_key_if_none_newer(&self, key: StoredSigningKey, newer_than: DateTime<Utc>) -> Result<bool>;

    /// Deletes the key with `key_id`, if any.
    async fn delete_key(&self, key_id: &str) -> Result<()>;
}

/// Keys held in memory: lost on restart, so tokens signed before a restart stop verifying. For
/// tests and development.
#[derive(Debug, Default)]
pub struct InMemorySigningKeyStore {
    keys: Mutex<Vec<StoredSigningKey>>,
}

impl InMemorySigningKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn keys(&self) -> MutexGuard<'_, Vec<StoredSigningKey>> {
        // Every operation leaves the list consistent, so a panic elsewhere cannot corrupt it.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SigningKeyStore for InMemorySigningKeyStore {
    async fn load_keys(&self) -> Result<Vec<StoredSigningKey>> {
        Ok(self.keys().clone())
    }

    async fn add_key_if_none_newer(&self, key: StoredSigningKey, newer_than: DateTime<Utc>) -> Result<bool> {
        let mut keys = self.keys();
        let newer_exists =
            keys.iter().any(|existing| existing.algorithm == key.algorithm && existing.created > newer_than);
        if newer_exists {
            return Ok(false);
        }
        keys.push(key);
        Ok(true)
    }

    async fn delete_key(&self, key_id: &str) -> Result<()> {
        self.keys().retain(|key| key.key_id != key_id);
        Ok(())
    }
}

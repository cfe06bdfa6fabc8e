//! Signing keys: algorithms, generation, protection at rest and scheduled rotation.

pub(crate) mod administration;
pub(crate) mod manager;
pub(crate) mod material;
pub(crate) mod protection;
pub(crate) mod signer;

use std::collections::HashSet;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A JWS algorithm the server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key; the OpenID Connect default.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlgorithm {
    /// The JWS name, e.g. `RS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub(crate) fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// The longest accepted key-management duration.
const MAXIMUM_DURATION: TimeDelta = TimeDelta::days(36_525);

/// How signing keys are rotated. Defaults follow IdentityServer's automatic key management.
///
/// A key signs for `rotation_interval`. Its successor is created `propagation_time` before that
/// and only published until then, so that clients caching the JWKS learn it before it signs. A
/// retired key stays published for `retention_duration`, which must cover the lifetime of the
/// tokens it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyManagementOptions {
    /// Algorithms to keep keys for, all published. The first signs access tokens; id tokens and
    /// logout tokens are signed with RS256 when it is listed (OpenID Connect's default, which
    /// every relying party accepts without registering an algorithm), else with the first.
    /// Default RS256.
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// How long a key signs. Default 90 days.
    pub rotation_interval: TimeDelta,
    /// How long a new key is announced before it signs. Default 14 days.
    pub propagation_time: TimeDelta,
    /// How long a retired key stays published. Default 14 days.
    pub retention_duration: TimeDelta,
    /// How often an instance re-reads the key store to see keys other instances created.
    /// Default 5 minutes.
    pub key_cache_duration: TimeDelta,
}

impl Default for KeyManagementOptions {
    fn default() -> Self {
        Self {
            signing_algorithms: vec![SigningAlgorithm::Rs256],
            rotation_interval: TimeDelta::days(90),
            propagation_time: TimeDelta::days(14),
            retention_duration: TimeDelta::days(14),
            key_cache_duration: TimeDelta::minutes(5),
        }
    }
}

impl KeyManagementOptions {
    /// Checks the options as the server does when it is built: at least one algorithm, none
    /// twice, positive durations of at most 100 years, and a propagation time shorter than the
    /// rotation interval but longer than the key cache duration (so that every instance sees a
    /// new key before it signs).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] saying which rule is broken.
    pub fn validate(&self) -> Result<()> {
        if self.signing_algorithms.is_empty() {
            return Err(Error::Configuration("at least one signing algorithm is required".into()));
        }
        let distinct: HashSet<_> = self.signing_algorithms.iter().collect();
        if distinct.len() != self.signing_algorithms.len() {
            return Err(Error::Configuration("signing algorithms must not repeat".into()));
        }
        let durations =
            [self.rotation_interval, self.propagation_time, self.retention_duration, self.key_cache_duration];
        if durations.iter().any(|duration| *duration <= TimeDelta::zero()) {
            return Err(Error::Configuration("key management durations must be positive".into()));
        }
        // Bounded so that key-schedule arithmetic on any realistic date cannot overflow.
        if durations.iter().any(|duration| *duration > MAXIMUM_DURATION) {
            return Err(Error::Configuration("key management durations must not exceed 100 years".into()));
        }
        if self.propagation_time >= self.rotation_interval {
            return Err(Error::Configuration(
                "the key propagation time must be shorter than the rotation interval".into(),
            ));
        }
        if self.key_cache_duration >= self.propagation_time {
            // Otherwise an instance might not see another instance's new key before it signs.
            return Err(Error::Configuration(
                "the key cache duration must be shorter than the propagation time".into(),
            ));
        }
        Ok(())
    }

    /// The algorithm access tokens are signed with.
    pub(crate) fn default_algorithm(&self) -> SigningAlgorithm {
        self.signing_algorithms.first().copied().unwrap_or(SigningAlgorithm::Rs256)
    }

    /// The algorithm id tokens and logout tokens are signed with: RS256 when listed.
    pub(crate) fn id_token_algorithm(&self) -> SigningAlgorithm {
        if self.signing_algorithms.contains(&SigningAlgorithm::Rs256) {
            SigningAlgorithm::Rs256
        } else {
            self.default_algorithm()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_are_valid_and_sign_with_rs256() {
        let options = KeyManagementOptions::default();
        assert!(options.validate().is_ok());
        assert_eq!(options.default_algorithm(), SigningAlgorithm::Rs256);
    }

    #[test]
    fn inconsistent_options_are_rejected() {
        let defaults = KeyManagementOptions::default;
        let invalid = [
            KeyManagementOptions { propagation_time: defaults().rotation_interval, ..defaults() },
            KeyManagementOptions {
                signing_algorithms: vec![SigningAlgorithm::EdDsa, SigningAlgorithm::EdDsa],
                ..defaults()
            },
            KeyManagementOptions { signing_algorithms: Vec::new(), ..defaults() },
            KeyManagementOptions { key_cache_duration: TimeDelta::days(30), ..defaults() },
            KeyManagementOptions { retention_duration: TimeDelta::zero(), ..defaults() },
            KeyManagementOptions { rotation_interval: TimeDelta::MAX, ..defaults() },
        ];
        for options in invalid {
            assert!(options.validate().is_err(), "{options:?}");
        }
    }
}

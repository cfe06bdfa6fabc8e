//! `[keys]`: which JWS algorithms the server signs with, and how its signing keys rotate
//! (`oidc_server::KeyManagementOptions`, IdentityServer's automatic key management).

use oidc_server::{KeyManagementOptions, SigningAlgorithm};
use serde::{Deserialize, Serialize};

use super::limits::ConfigDuration;

/// `[keys]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct KeysConfig {
    /// The algorithms to keep keys for: the first signs access tokens; all are published.
    pub(crate) algorithms: Algorithms,
    pub(crate) rotation_interval: ConfigDuration,
    pub(crate) propagation_time: ConfigDuration,
    pub(crate) retention_duration: ConfigDuration,
    pub(crate) key_cache_duration: ConfigDuration,
}

impl Default for KeysConfig {
    fn default() -> Self {
        let defaults = KeyManagementOptions::default();
        let duration = |delta: chrono::TimeDelta| ConfigDuration(delta.to_std().unwrap_or_default());
        Self {
            algorithms: Algorithms(defaults.signing_algorithms),
            rotation_interval: duration(defaults.rotation_interval),
            propagation_time: duration(defaults.propagation_time),
            retention_duration: duration(defaults.retention_duration),
            key_cache_duration: duration(defaults.key_cache_duration),
        }
    }
}

/// A list of JWS algorithm names: an array in the file, comma-separated in the environment
/// (`IDENTITY_KEYS__ALGORITHMS=ES256,RS256`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct Algorithms(pub(crate) Vec<SigningAlgorithm>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_identityservers() {
        let keys = KeysConfig::default();
        assert_eq!(keys.algorithms.0, vec![SigningAlgorithm::Rs256]);
        assert_eq!(keys.rotation_interval.0.as_secs(), 90 * 86_400);
        assert_eq!(keys.propagation_time.0.as_secs(), 14 * 86_400);
        assert_eq!(keys.retention_duration.0.as_secs(), 14 * 86_400);
        assert_eq!(keys.key_cache_duration.0.as_secs(), 300);
    }

    #[test]
    fn algorithms_are_listed_by_their_jws_names() {
        let parsed: KeysConfig = toml::from_str("algorithms = [\"ES256\", \"RS256\", \"EdDSA\"]").expect("parses");
        assert_eq!(
            parsed.algorithms.0,
            vec![SigningAlgorithm::Es256, SigningAlgorithm::Rs256, SigningAlgorithm::EdDsa]
        );
        assert!(
            toml::from_str::<KeysConfig>("algorithms = [\"HS256\"]")
                .is_err_and(|error| error.to_string().contains("HS256"))
        );
        let from_toml: KeysConfig =
            toml::from_str("algorithms = [\"ES256\"]\nrotation_interval = \"30d\"").expect("parses");
        assert_eq!(from_toml.algorithms.0, vec![SigningAlgorithm::Es256]);
        assert_eq!(from_toml.rotation_interval.0.as_secs(), 30 * 86_400);
        assert!(toml::from_str::<KeysConfig>("algorithms = [\"none\"]").is_err());
    }
}

//! The tables, one declaration for both backends: the operational tables the migrations
//! create, and the bookkeeping table of applied migrations; and how enum names are read back.

use serde::de::{DeserializeOwned, IntoDeserializer, value};

use crate::error::OperationalStoreError;

diesel::table! {
    use diesel::sql_types::*;
    use crate::time::UtcTimestamp;

    /// Persisted grants ([`oidc_server::PersistedGrant`]).
    oidc_persisted_grants (key) {
        key -> Text,
        grant_type -> Text,
        subject_id -> Nullable<Text>,
        session_id -> Nullable<Text>,
        client_id -> Text,
        family_id -> Text,
        creation_time -> UtcTimestamp,
        expiration -> Nullable<UtcTimestamp>,
        consumed_time -> Nullable<UtcTimestamp>,
        data -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::time::UtcTimestamp;

    /// Signing keys ([`oidc_server::StoredSigningKey`]).
    oidc_signing_keys (key_id) {
        key_id -> Text,
        algorithm -> Text,
        created -> UtcTimestamp,
        data_protected -> Bool,
        data -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::time::UtcTimestamp;

    /// Sign-in sessions ([`oidc_server::StoredSession`]).
    oidc_server_sessions (session_id) {
        session_id -> Text,
        subject_id -> Text,
        created -> UtcTimestamp,
        renewed -> UtcTimestamp,
        expires -> UtcTimestamp,
        persistent -> Bool,
        subject -> Text,
        client_ids -> Text,
        ended -> Bool,
        claimed_until -> Nullable<UtcTimestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::time::UtcTimestamp;

    /// Clients defined at run time ([`crate::StoredClientDocument`]).
    oidc_clients (client_id) {
        client_id -> Text,
        document -> Text,
        updated -> UtcTimestamp,
    }
}

diesel::table! {
    /// The versions of this crate's migrations applied to the database.
    oidc_schema_migrations (version) {
        version -> Text,
    }
}

/// Reads back a name that `as_str` wrote to `column` (a grant type, a signing algorithm). The
/// types' serde names are the same strings, so every variant is read without a list here.
pub(crate) fn parse_name<T: DeserializeOwned>(column: &str, name: &str) -> Result<T, OperationalStoreError> {
    let deserializer: value::StrDeserializer<'_, value::Error> = name.into_deserializer();
    T::deserialize(deserializer).map_err(|_| OperationalStoreError::InvalidData(format!("unknown {column} `{name}`")))
}

#[cfg(test)]
mod tests {
    use oidc_server::{PersistedGrantType, SigningAlgorithm};

    use super::*;

    #[test]
    fn stored_names_read_back_as_the_values_that_wrote_them() {
        for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::EdDsa] {
            assert_eq!(parse_name::<SigningAlgorithm>("algorithm", algorithm.as_str()).ok(), Some(algorithm));
        }
        for grant_type in
            [PersistedGrantType::RefreshToken, PersistedGrantType::AuthorizationCode, PersistedGrantType::UserConsent]
        {
            assert_eq!(parse_name::<PersistedGrantType>("grant type", grant_type.as_str()).ok(), Some(grant_type));
        }
        let unknown = parse_name::<SigningAlgorithm>("algorithm", "HS256");
        assert!(matches!(unknown, Err(OperationalStoreError::InvalidData(message)) if message.contains("HS256")));
    }
}

//! Passkeys (`AspNetUserPasskeys`, Identity schema version 3): the credential id is the key, and
//! everything else lives in the `Data` JSON document in the shape EF Core writes for .NET's
//! `IdentityPasskeyData` (PascalCase names, byte arrays in base64, `CreatedAt` with an offset).

use super::rows::{to_user, users_with_extension};
use super::{DieselStore, retry_once_on_conflict};
use crate::error::{DieselStoreError, StoreResult};
use crate::schema::{user_passkeys, users};
use crate::sql_types::JsonText;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_any::write_transaction;
use identity_core::store::UserPasskeyStore;
use identity_core::{IdentityUser, Result, UserExtension, UserPasskeyInfo};
use serde::{Deserialize, Serialize};

/// The JSON of the `Data` column.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PasskeyData {
    #[serde(with = "identity_core::transfer::base64_bytes")]
    public_key: Vec<u8>,
    name: Option<String>,
    #[serde(with = "date_time_offset")]
    created_at: DateTime<Utc>,
    sign_count: u32,
    transports: Option<Vec<String>>,
    is_user_verified: bool,
    is_backup_eligible: bool,
    is_backed_up: bool,
    #[serde(with = "identity_core::transfer::base64_bytes")]
    attestation_object: Vec<u8>,
    #[serde(with = "identity_core::transfer::base64_bytes")]
    client_data_json: Vec<u8>,
    aaguid: Option<String>,
}

impl PasskeyData {
    pub(super) fn from_info(info: &UserPasskeyInfo) -> Self {
        Self {
            public_key: info.public_key.clone(),
            name: info.name.clone(),
            created_at: info.created_at,
            sign_count: info.sign_count,
            transports: info.transports.clone(),
            is_user_verified: info.is_user_verified,
            is_backup_eligible: info.is_backup_eligible,
            is_backed_up: info.is_backed_up,
            attestation_object: info.attestation_object.clone(),
            client_data_json: info.client_data_json.clone(),
            aaguid: info.aaguid.clone(),
        }
    }

    fn into_info(self, credential_id: Vec<u8>) -> UserPasskeyInfo {
        UserPasskeyInfo {
            credential_id,
            public_key: self.public_key,
            name: self.name,
            created_at: self.created_at,
            sign_count: self.sign_count,
            transports: self.transports,
            is_user_verified: self.is_user_verified,
            is_backup_eligible: self.is_backup_eligible,
            is_backed_up: self.is_backed_up,
            attestation_object: self.attestation_object,
            client_data_json: self.client_data_json,
            aaguid: self.aaguid,
        }
    }

    fn parse(json: &JsonText) -> StoreResult<Self> {
        serde_json::from_str(&json.0).map_err(|error| DieselStoreError::Data(format!("passkey data: {error}")))
    }

    pub(super) fn to_json(&self) -> StoreResult<JsonText> {
        Ok(JsonText(serde_json::to_string(self)?))
    }
}

pub(super) fn to_info((credential_id, data): (Vec<u8>, JsonText)) -> StoreResult<UserPasskeyInfo> {
    Ok(PasskeyData::parse(&data)?.into_info(credential_id))
}

mod date_time_offset {
    //! `DateTimeOffset` as System.Text.Json writes it: ISO 8601 with a numeric offset
    //! (`2026-11-26T10:00:00.1234567+00:00`); any offset is read.
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(instant: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text).map(|instant| instant.to_utc()).map_err(serde::de::Error::custom)
    }
}

#[async_trait]
impl<X: UserExtension> UserPasskeyStore<X> for DieselStore<X> {
    async fn add_or_update_passkey(&self, user: &IdentityUser<X>, passkey: &UserPasskeyInfo) -> Result<()> {
        let user_id = user.id.clone();
        let credential_id = passkey.credential_id.clone();
        let fresh = PasskeyData::from_info(passkey);
        self.run(move |connection| {
            retry_once_on_conflict(|| {
                write_transaction(connection, |connection| {
                    let row = user_passkeys::table.find(&credential_id);
                    // A no-op write that returns the stored document: it locks the row (on
                    // PostgreSQL; SQLite's transaction holds the write lock already), so the
                    // read-modify-write below cannot lose a concurrent update.
                    let stored: Option<JsonText> = diesel::update(row)
                        .set(user_passkeys::credential_id.eq(user_passkeys::credential_id))
                        .returning(user_passkeys::data)
                        .get_result(connection)
                        .optional()?;
                    match stored {
                        // Known credential (of any user): only the mutable fields change.
                        Some(stored) => {
                            let mut data = PasskeyData::parse(&stored)?;
                            data.name.clone_from(&fresh.name);
                            data.sign_count = fresh.sign_count;
                            data.is_backed_up = fresh.is_backed_up;
                            data.is_user_verified = fresh.is_user_verified;
                            diesel::update(row).set(user_passkeys::data.eq(data.to_json()?)).execute(connection)?;
                        }
                        None => {
                            diesel::insert_into(user_passkeys::table)
                                .values((
                                    user_passkeys::credential_id.eq(&credential_id),
                                    user_passkeys::user_id.eq(&user_id),
                                    user_passkeys::data.eq(fresh.to_json()?),
                                ))
                                .execute(connection)?;
                        }
                    }
                    Ok(())
                })
            })
        })
        .await
    }

    async fn get_passkeys(&self, user: &IdentityUser<X>) -> Result<Vec<UserPasskeyInfo>> {
        let user_id = user.id.clone();
        self.run(move |connection| {
            let rows: Vec<(Vec<u8>, JsonText)> = user_passkeys::table
                .filter(user_passkeys::user_id.eq(user_id))
                .order(user_passkeys::credential_id)
                .select((user_passkeys::credential_id, user_passkeys::data))
                .load(connection)?;
            rows.into_iter().map(to_info).collect()
        })
        .await
    }

    async fn find_by_passkey_id(&self, credential_id: &[u8]) -> Result<Option<IdentityUser<X>>> {
        let owner = user_passkeys::table.find(credential_id.to_vec()).select(user_passkeys::user_id);
        self.run(move |connection| {
            let row = users_with_extension().filter(users::id.eq_any(owner)).first(connection).optional()?;
            row.map(to_user).transpose()
        })
        .await
    }

    async fn find_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<Option<UserPasskeyInfo>> {
        let passkey = user_passkeys::table
            .find(credential_id.to_vec())
            .filter(user_passkeys::user_id.eq(user.id.clone()))
            .select((user_passkeys::credential_id, user_passkeys::data));
        self.run(move |connection| {
            let row: Option<(Vec<u8>, JsonText)> = passkey.first(connection).optional()?;
            row.map(to_info).transpose()
        })
        .await
    }

    async fn remove_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<()> {
        let passkey =
            user_passkeys::table.find(credential_id.to_vec()).filter(user_passkeys::user_id.eq(user.id.clone()));
        self.run(move |connection| {
            diesel::delete(passkey).execute(connection)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn data_is_written_in_ef_core_json_shape() {
        let info = UserPasskeyInfo {
            credential_id: vec![1, 2, 3],
            public_key: vec![0xfb, 0xff],
            name: Some("laptop".to_owned()),
            created_at: Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
            sign_count: 7,
            transports: Some(vec!["usb".to_owned()]),
            is_user_verified: true,
            is_backup_eligible: false,
            is_backed_up: false,
            attestation_object: vec![4],
            client_data_json: b"{}".to_vec(),
            aaguid: None,
        };
        let json = PasskeyData::from_info(&info).to_json().unwrap();
        assert_eq!(
            json.0,
            r#"{"PublicKey":"+/8=","Name":"laptop","CreatedAt":"2026-11-26T10:00:00+00:00","SignCount":7,"Transports":["usb"],"IsUserVerified":true,"IsBackupEligible":false,"IsBackedUp":false,"AttestationObject":"BA==","ClientDataJson":"e30=","Aaguid":null}"#
        );
        assert_eq!(to_info((vec![1, 2, 3], json)).unwrap(), info);
    }
}

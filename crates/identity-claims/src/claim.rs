//! A [`Claim`]: a typed statement about a user, with its [`ClaimValueType`] and issuer, as .NET's
//! `System.Security.Claims.Claim` carries them.
//!
//! The value is always kept as text (stores keep it that way); the value type says how token
//! and userinfo JSON renders it (see [`Claim::to_json_value`]).

use crate::error::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;

/// The issuer of claims a host creates itself, as in .NET (`ClaimsIdentity.DefaultIssuer`).
pub const DEFAULT_ISSUER: &str = "LOCAL AUTHORITY";

/// How a claim's text value is to be read.
///
/// It serializes as its [URI](Self::uri) and parses from a URI or a simple name (see
/// [`FromStr`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
#[non_exhaustive]
pub enum ClaimValueType {
    /// Text (`http://www.w3.org/2001/XMLSchema#string`), the default.
    #[default]
    String,
    /// `true` or `false` (`http://www.w3.org/2001/XMLSchema#boolean`).
    Boolean,
    /// A whole number (`http://www.w3.org/2001/XMLSchema#integer`; the `integer32`,
    /// `integer64`, `uinteger32` and `uinteger64` variants parse to this too).
    Integer,
    /// A floating-point number (`http://www.w3.org/2001/XMLSchema#double`).
    Double,
    /// A JSON document (`json`, IdentityServer's value type for structured claims such as
    /// `address`).
    Json,
}

const XML_SCHEMA: &str = "http://www.w3.org/2001/XMLSchema#";

impl ClaimValueType {
    /// Every value type.
    pub const ALL: [Self; 5] = [Self::String, Self::Boolean, Self::Integer, Self::Double, Self::Json];

    /// The URI .NET uses for this type (`ClaimValueTypes.*`; `json` for [`Self::Json`]).
    pub fn uri(self) -> &'static str {
        match self {
            Self::String => "http://www.w3.org/2001/XMLSchema#string",
            Self::Boolean => "http://www.w3.org/2001/XMLSchema#boolean",
            Self::Integer => "http://www.w3.org/2001/XMLSchema#integer",
            Self::Double => "http://www.w3.org/2001/XMLSchema#double",
            Self::Json => "json",
        }
    }
}

impl FromStr for ClaimValueType {
    type Err = Error;

    /// Parses a .NET value type URI (`http://www.w3.org/2001/XMLSchema#boolean`) or its simple
    /// name (`boolean`). Sized integer types (`integer32`, `integer64`, `uinteger32`,
    /// `uinteger64`) map to [`Self::Integer`].
    fn from_str(text: &str) -> Result<Self, Error> {
        let name = text.strip_prefix(XML_SCHEMA).unwrap_or(text);
        match name {
            "string" => Ok(Self::String),
            "boolean" => Ok(Self::Boolean),
            "integer" | "integer32" | "integer64" | "uinteger32" | "uinteger64" => Ok(Self::Integer),
            "double" => Ok(Self::Double),
            "json" if text == name => Ok(Self::Json),
            _ => Err(Error::UnknownValueType(text.to_owned())),
        }
    }
}

impl From<ClaimValueType> for &'static str {
    fn from(value_type: ClaimValueType) -> Self {
        value_type.uri()
    }
}

impl TryFrom<String> for ClaimValueType {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Error> {
        text.parse()
    }
}

/// A claim: a type, a text value, how to read the value, and who issued it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claim {
    /// The claim type, e.g. `given_name` or a .NET claim type URI.
    #[serde(rename = "type")]
    pub claim_type: String,
    /// The value as text.
    pub value: String,
    /// How to read [`Self::value`].
    #[serde(default)]
    pub value_type: ClaimValueType,
    /// Who issued the claim; [`DEFAULT_ISSUER`] unless set.
    #[serde(default = "default_issuer")]
    pub issuer: String,
}

fn default_issuer() -> String {
    DEFAULT_ISSUER.to_owned()
}

impl Claim {
    /// A text claim issued by [`DEFAULT_ISSUER`].
    pub fn new(claim_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self::with_value_type(claim_type, value, ClaimValueType::String)
    }

    /// A claim whose text `value` is to be read as `value_type`.
    pub fn with_value_type(
        claim_type: impl Into<String>,
        value: impl Into<String>,
        value_type: ClaimValueType,
    ) -> Self {
        Self { claim_type: claim_type.into(), value: value.into(), value_type, issuer: default_issuer() }
    }

    /// A boolean claim, valued `true` or `false`, such as `email_verified`.
    pub fn boolean(claim_type: impl Into<String>, value: bool) -> Self {
        Self::with_value_type(claim_type, value.to_string(), ClaimValueType::Boolean)
    }

    /// An integer claim.
    pub fn integer(claim_type: impl Into<String>, value: i64) -> Self {
        Self::with_value_type(claim_type, value.to_string(), ClaimValueType::Integer)
    }

    /// A time as seconds since the Unix epoch, such as `auth_time` or `updated_at`.
    pub fn timestamp(claim_type: impl Into<String>, time: DateTime<Utc>) -> Self {
        Self::integer(claim_type, time.timestamp())
    }

    /// A structured claim, such as `address`, embedded as JSON in tokens.
    pub fn json(claim_type: impl Into<String>, value: &Value) -> Self {
        Self::with_value_type(claim_type, value.to_string(), ClaimValueType::Json)
    }

    /// The same claim issued by `issuer`.
    #[must_use]
    pub fn issued_by(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The value as token and userinfo JSON writes it: a boolean for [`ClaimValueType::Boolean`]
    /// (`true`/`false`, any case), a number for [`ClaimValueType::Integer`] and
    /// [`ClaimValueType::Double`], the parsed document for [`ClaimValueType::Json`], and a string
    /// otherwise. A value that does not parse as its type stays a string.
    pub fn to_json_value(&self) -> Value {
        let text = self.value.trim();
        let typed = match self.value_type {
            ClaimValueType::String => None,
            ClaimValueType::Boolean => parse_bool(text).map(Value::Bool),
            ClaimValueType::Integer => {
                text.parse::<i64>().map(Value::from).or_else(|_| text.parse::<u64>().map(Value::from)).ok()
            }
            ClaimValueType::Double => {
                text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
            }
            ClaimValueType::Json => serde_json::from_str(text).ok(),
        };
        typed.unwrap_or_else(|| Value::String(self.value.clone()))
    }
}

/// .NET's `bool.Parse`: `true` or `false` in any case.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

impl From<identity_core::StoredClaim> for Claim {
    /// A stored claim (type and value) as a text claim issued by [`DEFAULT_ISSUER`].
    fn from(stored: identity_core::StoredClaim) -> Self {
        Self::new(stored.claim_type, stored.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_types_round_trip_through_uris_and_simple_names() {
        for value_type in [
            ClaimValueType::String,
            ClaimValueType::Boolean,
            ClaimValueType::Integer,
            ClaimValueType::Double,
            ClaimValueType::Json,
        ] {
            assert_eq!(value_type.uri().parse::<ClaimValueType>().ok(), Some(value_type));
        }
        assert_eq!("boolean".parse::<ClaimValueType>().ok(), Some(ClaimValueType::Boolean));
        assert_eq!(
            "http://www.w3.org/2001/XMLSchema#integer64".parse::<ClaimValueType>().ok(),
            Some(ClaimValueType::Integer)
        );
        assert_eq!("integer32".parse::<ClaimValueType>().ok(), Some(ClaimValueType::Integer));
        assert!(matches!(
            "http://www.w3.org/2001/XMLSchema#json".parse::<ClaimValueType>(),
            Err(Error::UnknownValueType(_))
        ));
        assert!(matches!("date".parse::<ClaimValueType>(), Err(Error::UnknownValueType(t)) if t == "date"));
    }

    #[test]
    fn new_claims_are_text_issued_by_the_local_authority() {
        let claim = Claim::new("given_name", "Alice");
        assert_eq!(claim.value_type, ClaimValueType::String);
        assert_eq!(claim.issuer, "LOCAL AUTHORITY");
        assert_eq!(claim.clone().issued_by("https://idp.example").issuer, "https://idp.example");
        let stored: Claim = identity_core::StoredClaim::new("website", "https://alice.example").into();
        assert_eq!(stored, Claim::new("website", "https://alice.example"));
    }

    #[test]
    fn json_values_follow_the_value_type() {
        assert_eq!(Claim::new("n", "42").to_json_value(), json!("42"));
        assert_eq!(Claim::boolean("b", true).to_json_value(), json!(true));
        assert_eq!(Claim::with_value_type("b", "False", ClaimValueType::Boolean).to_json_value(), json!(false));
        assert_eq!(Claim::integer("i", -7).to_json_value(), json!(-7));
        assert_eq!(
            Claim::with_value_type("u", "18446744073709551615", ClaimValueType::Integer).to_json_value(),
            json!(u64::MAX)
        );
        assert_eq!(Claim::with_value_type("d", "1.5", ClaimValueType::Double).to_json_value(), json!(1.5));
        let address = json!({ "street_address": "1 Main St", "country": "NL" });
        assert_eq!(Claim::json("address", &address).to_json_value(), address);
        let time = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(Claim::timestamp("auth_time", time).to_json_value(), json!(1_700_000_000));
    }

    #[test]
    fn unparsable_typed_values_stay_strings() {
        assert_eq!(Claim::with_value_type("b", "yes", ClaimValueType::Boolean).to_json_value(), json!("yes"));
        assert_eq!(Claim::with_value_type("i", "4.2", ClaimValueType::Integer).to_json_value(), json!("4.2"));
        assert_eq!(Claim::with_value_type("d", "NaN", ClaimValueType::Double).to_json_value(), json!("NaN"));
        assert_eq!(Claim::with_value_type("j", "{oops", ClaimValueType::Json).to_json_value(), json!("{oops"));
    }

    #[test]
    fn claims_serialize_with_value_type_uris() -> Result<(), serde_json::Error> {
        let claim = Claim::boolean("email_verified", false);
        let written = serde_json::to_value(&claim)?;
        assert_eq!(
            written,
            json!({
                "type": "email_verified",
                "value": "false",
                "value_type": "http://www.w3.org/2001/XMLSchema#boolean",
                "issuer": "LOCAL AUTHORITY",
            })
        );
        assert_eq!(serde_json::from_value::<Claim>(written)?, claim);
        let minimal: Claim = serde_json::from_value(json!({ "type": "name", "value": "Alice" }))?;
        assert_eq!(minimal, Claim::new("name", "Alice"));
        assert!(serde_json::from_value::<Claim>(json!({ "type": "t", "value": "v", "value_type": "date" })).is_err());
        Ok(())
    }
}

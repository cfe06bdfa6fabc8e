//! Properties of the claims' JSON mapping, checked with proptest:
//!
//! - a JSON claim (`Claim::json`) renders back to the very document it was made from, for any
//!   document of bounded depth;
//! - rendering a claim of any value type and any text never panics; a value that does not parse
//!   as its type stays the claim's text unchanged, and a text claim is always its text;
//! - boolean, integer and timestamp claims keep their JSON type;
//! - `claims_to_json` has one member per claim type: the single value of a type seen once (except
//!   `amr`, always an array), else the array of its values in order;
//! - a claim survives serde (value and text) unchanged; any JSON document or text either
//!   deserializes to a claim that does too, or fails without panicking; value type names parse
//!   without panicking, and every value type's URI parses back to it.

use chrono::DateTime;
use identity_claims::claim_types::jwt;
use identity_claims::{Claim, ClaimValueType, claims_to_json};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use test_support::json::documents;

/// Claim texts: anything, and texts near the edges of each value type's parser.
fn texts() -> impl Strategy<Value = String> {
    let edges = select(vec![
        " true ",
        "FALSE",
        "tRuE",
        "1",
        "-0",
        "+7",
        " 42 ",
        "4.2",
        "1e400",
        "-1e-400",
        "NaN",
        "inf",
        "-infinity",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775809",
        "{",
        "[1,",
        "null",
        "\"x\"",
        "{\"a\":[1,{\"b\":null}]}",
        "",
        " ",
    ]);
    prop_oneof![any::<String>(), edges.prop_map(str::to_owned)]
}

/// Any claim: a type from a small set (so that types repeat), any value type, text and issuer.
fn claims() -> impl Strategy<Value = Claim> {
    let known = select(vec!["sub", "role", "amr", "name", "email_verified", ""]).prop_map(str::to_owned);
    let claim_type = prop_oneof![known, any::<String>()];
    let value_type = select(ClaimValueType::ALL.to_vec());
    (claim_type, texts(), value_type, any::<String>()).prop_map(|(claim_type, value, value_type, issuer)| {
        Claim::with_value_type(claim_type, value, value_type).issued_by(issuer)
    })
}

/// JSON objects shaped like a serialized claim: each member present or not, a string, a value type
/// URI or name, or any document.
fn claim_shaped() -> impl Strategy<Value = Value> {
    let member = || {
        let names = ClaimValueType::ALL.iter().map(|t| t.uri()).chain(["boolean", "integer64", "date", "json"]);
        let value_type = select(names.collect::<Vec<_>>()).prop_map(|name| Value::String(name.to_owned()));
        prop::option::of(prop_oneof![any::<String>().prop_map(Value::String), value_type, documents()])
    };
    (member(), member(), member(), member()).prop_map(|(claim_type, value, value_type, issuer)| {
        let named = [("type", claim_type), ("value", value), ("value_type", value_type), ("issuer", issuer)];
        Value::Object(named.into_iter().filter_map(|(name, member)| Some((name.to_owned(), member?))).collect())
    })
}

proptest! {
    #[test]
    fn json_claims_render_as_their_document(claim_type in any::<String>(), document in documents()) {
        prop_assert_eq!(Claim::json(claim_type, &document).to_json_value(), document);
    }

    #[test]
    fn unparsable_values_stay_their_text(claim_type in any::<String>(), text in texts()) {
        let as_text = Value::String(text.clone());
        for value_type in ClaimValueType::ALL {
            let rendered = Claim::with_value_type(claim_type.clone(), text.clone(), value_type).to_json_value();
            match (&rendered, value_type) {
                (_, ClaimValueType::Json) => {
                    let parsed = serde_json::from_str::<Value>(text.trim()).unwrap_or_else(|_| as_text.clone());
                    prop_assert_eq!(&rendered, &parsed);
                }
                (Value::String(_), _) => prop_assert_eq!(&rendered, &as_text),
                (Value::Bool(_), ClaimValueType::Boolean)
                | (Value::Number(_), ClaimValueType::Integer | ClaimValueType::Double) => {}
                (other, value_type) => {
                    return Err(TestCaseError::fail(format!("{value_type:?} rendered {text:?} as {other}")));
                }
            }
        }
        prop_assert_eq!(Claim::new(claim_type, text.clone()).to_json_value(), Value::String(text));
    }

    #[test]
    fn typed_claims_keep_their_json_type(
        claim_type in any::<String>(),
        flag in any::<bool>(),
        number in any::<i64>(),
        seconds in -62_135_596_800_i64..=253_402_300_799,
    ) {
        prop_assert_eq!(Claim::boolean(claim_type.clone(), flag).to_json_value(), Value::Bool(flag));
        prop_assert_eq!(Claim::integer(claim_type.clone(), number).to_json_value(), Value::from(number));
        let time = DateTime::from_timestamp(seconds, 0).expect("a representable instant");
        prop_assert_eq!(Claim::timestamp(claim_type, time).to_json_value(), Value::from(seconds));
    }

    #[test]
    fn claims_group_by_type(list in prop::collection::vec(claims(), 0..12)) {
        let object: Map<String, Value> = claims_to_json(&list);
        let mut types: Vec<&str> = list.iter().map(|claim| claim.claim_type.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        prop_assert_eq!(object.len(), types.len());
        for claim_type in types {
            let mut values: Vec<Value> =
                list.iter().filter(|claim| claim.claim_type == claim_type).map(Claim::to_json_value).collect();
            let expected = if values.len() == 1 && claim_type != jwt::AUTHENTICATION_METHOD {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            prop_assert_eq!(object.get(claim_type), Some(&expected), "{}", claim_type);
        }
    }

    #[test]
    fn claims_survive_serde(claim in claims()) {
        let value = serde_json::to_value(&claim).expect("a claim serializes");
        prop_assert_eq!(serde_json::from_value::<Claim>(value).expect("and deserializes"), claim.clone());
        let text = serde_json::to_string(&claim).expect("a claim serializes");
        prop_assert_eq!(serde_json::from_str::<Claim>(&text).expect("and parses"), claim);
    }

    #[test]
    fn any_json_deserializes_to_a_faithful_claim_or_fails(
        shaped in claim_shaped(),
        document in documents(),
        text in any::<String>(),
    ) {
        let parsed = [
            serde_json::from_value::<Claim>(shaped).ok(),
            serde_json::from_value::<Claim>(document).ok(),
            serde_json::from_str::<Claim>(&text).ok(),
        ];
        for claim in parsed.into_iter().flatten() {
            let value = serde_json::to_value(&claim).expect("a claim serializes");
            prop_assert_eq!(serde_json::from_value::<Claim>(value).expect("and deserializes"), claim);
        }
        let _ = serde_json::from_str::<Vec<Claim>>(&text);
        let _ = text.parse::<ClaimValueType>();
    }
}

/// Every value type's URI parses back to it.
#[test]
fn value_type_uris_parse_back() {
    for value_type in ClaimValueType::ALL {
        assert_eq!(value_type.uri().parse::<ClaimValueType>().ok(), Some(value_type));
    }
}

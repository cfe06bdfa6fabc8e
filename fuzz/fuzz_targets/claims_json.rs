//! The claims' JSON mapping with arbitrary input: the input as the text of a claim of every value
//! type (a value that does not parse stays the text), as a JSON document of a JSON claim (it renders
//! back to itself, for documents without floats, whose text round trip serde_json does not promise
//! exactly), as a serialized `Claim`, list of claims (grouped by `claims_to_json` by type, `amr`
//! always an array) or `TokenClaim` (each survives serde). Nothing may panic.
#![no_main]

use identity_claims::claim_types::jwt;
use identity_claims::{Claim, ClaimValueType, claims_to_json};
use libfuzzer_sys::fuzz_target;
use oidc_server::TokenClaim;
use serde_json::Value;

/// Whether `value` holds a floating-point number anywhere.
fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.is_f64(),
        Value::Array(values) => values.iter().any(has_float),
        Value::Object(members) => members.values().any(has_float),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for value_type in ClaimValueType::ALL {
        let rendered = Claim::with_value_type("t", &*text, value_type).to_json_value();
        if value_type != ClaimValueType::Json
            && let Value::String(rendered) = &rendered
        {
            assert_eq!(rendered.as_str(), &*text);
        }
    }
    let _ = text.parse::<ClaimValueType>();

    if let Ok(document) = serde_json::from_slice::<Value>(data) {
        if !has_float(&document) {
            assert_eq!(Claim::json("t", &document).to_json_value(), document);
        }
        let claim = TokenClaim::new("t", document);
        let value = serde_json::to_value(&claim).expect("a claim serializes");
        assert_eq!(serde_json::from_value::<TokenClaim>(value).expect("and deserializes"), claim);
    }
    if let Ok(claim) = serde_json::from_slice::<Claim>(data) {
        let value = serde_json::to_value(&claim).expect("a claim serializes");
        assert_eq!(serde_json::from_value::<Claim>(value).expect("and deserializes"), claim);
    }
    if let Ok(claims) = serde_json::from_slice::<Vec<Claim>>(data) {
        let object = claims_to_json(&claims);
        for (claim_type, grouped) in &object {
            let mut values: Vec<Value> =
                claims.iter().filter(|claim| &claim.claim_type == claim_type).map(Claim::to_json_value).collect();
            let expected = if values.len() == 1 && claim_type.as_str() != jwt::AUTHENTICATION_METHOD {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            assert_eq!(grouped, &expected, "{claim_type}");
        }
        assert!(claims.iter().all(|claim| object.contains_key(&claim.claim_type)));
    }
});

//! The token server's own claim type, a claim type and a JSON value.

use oidc_server::{Subject, TokenClaim};
use proptest::prelude::*;

use test_support::json::documents;

proptest! {
    #[test]
    fn token_claims_survive_serde(claim_type in any::<String>(), value in documents()) {
        let claim = TokenClaim::new(claim_type, value);
        let text = serde_json::to_string(&claim).expect("a claim serializes");
        prop_assert_eq!(serde_json::from_str::<TokenClaim>(&text).expect("and parses"), claim);
    }

    #[test]
    fn any_json_deserializes_to_a_faithful_claim_or_fails(document in documents(), text in any::<String>()) {
        let shaped = serde_json::json!({ "type": text.clone(), "value": document.clone() });
        let parsed = [
            serde_json::from_value::<TokenClaim>(shaped).ok(),
            serde_json::from_value::<TokenClaim>(document).ok(),
            serde_json::from_str::<TokenClaim>(&text).ok(),
        ];
        for claim in parsed.into_iter().flatten() {
            let value = serde_json::to_value(&claim).expect("a claim serializes");
            prop_assert_eq!(serde_json::from_value::<TokenClaim>(value).expect("and deserializes"), claim);
        }
        let _ = serde_json::from_str::<Subject>(&text);
    }
}

//! Claims as the JSON object of a token payload or a userinfo response: [`claims_to_json`].

use crate::claim::Claim;
use crate::claim_types::jwt;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Converts claims to a JSON claims object, by IdentityServer's rules
/// (`ClaimsExtensions.ToClaimsDictionary`) plus OpenID Connect Core's `amr`:
/// - each value is rendered by [`Claim::to_json_value`] (booleans, numbers, embedded JSON);
/// - a claim type seen once is a single value, a type seen several times is an array of its
///   values in order (duplicates kept);
/// - `amr` is always an array, even with one value.
///
/// ```
/// use identity_claims::{Claim, claims_to_json};
/// use serde_json::json;
///
/// let claims = [
///     Claim::new("sub", "42"),
///     Claim::new("role", "admin"),
///     Claim::new("role", "user"),
///     Claim::new("amr", "pwd"),
///     Claim::boolean("email_verified", true),
/// ];
/// let object = claims_to_json(&claims);
/// assert_eq!(
///     serde_json::Value::Object(object),
///     json!({ "sub": "42", "role": ["admin", "user"], "amr": ["pwd"], "email_verified": true })
/// );
/// ```
pub fn claims_to_json<'a>(claims: impl IntoIterator<Item = &'a Claim>) -> Map<String, Value> {
    let mut grouped: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for claim in claims {
        grouped.entry(claim.claim_type.as_str()).or_default().push(claim.to_json_value());
    }
    grouped
        .into_iter()
        .map(|(claim_type, mut values)| {
            let value = if values.len() == 1 && claim_type != jwt::AUTHENTICATION_METHOD {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            (claim_type.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::ClaimValueType;
    use serde_json::json;

    fn check(claims: &[Claim], expected: Value) {
        assert_eq!(Value::Object(claims_to_json(claims)), expected);
    }

    #[test]
    fn no_claims_is_an_empty_object() {
        check(&[], json!({}));
    }

    #[test]
    fn single_claims_are_scalars() {
        check(
            &[Claim::new("sub", "1"), Claim::new("name", "Alice Smith")],
            json!({ "sub": "1", "name": "Alice Smith" }),
        );
    }

    #[test]
    fn repeated_types_become_arrays_in_order_with_duplicates() {
        check(
            &[
                Claim::new("role", "b"),
                Claim::new("sub", "1"),
                Claim::new("role", "a"),
                Claim::new("role", "b"),
                Claim::new("name", "alice"),
                Claim::new("name", "Alice Smith"),
            ],
            json!({ "sub": "1", "role": ["b", "a", "b"], "name": ["alice", "Alice Smith"] }),
        );
    }

    #[test]
    fn amr_is_always_an_array() {
        check(&[Claim::new("amr", "pwd")], json!({ "amr": ["pwd"] }));
        check(&[Claim::new("amr", "pwd"), Claim::new("amr", "mfa")], json!({ "amr": ["pwd", "mfa"] }));
    }

    #[test]
    fn typed_values_keep_their_json_type() {
        let address = json!({ "street_address": "1 Main St", "locality": "Springfield" });
        check(
            &[
                Claim::boolean("email_verified", true),
                Claim::boolean("phone_number_verified", false),
                Claim::integer("updated_at", 1_700_000_000),
                Claim::with_value_type("score", "0.25", ClaimValueType::Double),
                Claim::json("address", &address),
                Claim::new("zip", "01234"),
            ],
            json!({
                "email_verified": true,
                "phone_number_verified": false,
                "updated_at": 1_700_000_000,
                "score": 0.25,
                "address": address,
                "zip": "01234",
            }),
        );
    }

    #[test]
    fn repeated_json_arrays_nest_instead_of_merging() {
        check(
            &[Claim::json("groups", &json!(["a", "b"])), Claim::json("groups", &json!(["c"]))],
            json!({ "groups": [["a", "b"], ["c"]] }),
        );
        check(&[Claim::json("groups", &json!(["a", "b"]))], json!({ "groups": ["a", "b"] }));
    }
}

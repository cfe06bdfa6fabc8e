//! Generated JSON for property tests: [`documents`], every shape of JSON value a parser may meet.

use proptest::prelude::*;
use serde_json::Value;

/// JSON documents up to four levels deep. Numbers are integers or fractions with a power-of-two
/// denominator, which print and parse back exactly (serde_json's default float parsing does not
/// promise to round-trip every `f64`).
pub fn documents() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (any::<i32>(), 0_u32..8)
            .prop_map(|(mantissa, exponent)| Value::from(f64::from(mantissa) / f64::from(1_u32 << exponent))),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

//! `decode_form`, the strict `application/x-www-form-urlencoded` decoder of bodies and query
//! strings.

use oidc_server::decode_form;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use crate::support::form;

/// Bytes that are mostly form syntax: names, values, `=`, `&`, `+` and escapes, valid or not.
fn form_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let syntax = select(vec!["=", "&", "+", "%", "%2", "%zz", "%41", "%C3%A9", "%FF", "%E2%82", "a", "é"]);
    let piece = prop_oneof![syntax.prop_map(str::to_owned), "[a-z0-9]{1,4}"];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat().into_bytes())
}

proptest! {
    #[test]
    fn decoded_bodies_reencode_to_themselves(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), form_like_bytes()],
    ) {
        if let Some(pairs) = decode_form(&bytes) {
            prop_assert_eq!(decode_form(&form(&pairs)), Some(pairs));
        }
    }

    #[test]
    fn encoded_pairs_decode_to_themselves(pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..8)) {
        prop_assert_eq!(decode_form(&form(&pairs)), Some(pairs));
    }

    #[test]
    fn every_byte_escaped_decodes_to_the_text(name in "[a-z]{1,8}", text in any::<String>()) {
        let escaped: String = text.bytes().map(|byte| format!("%{byte:02X}")).collect();
        prop_assert_eq!(decode_form(format!("{name}={escaped}").as_bytes()), Some(vec![(name, text)]));
    }

    #[test]
    fn plus_signs_are_spaces(name in "[a-z]{1,8}", text in "[^%&=+]{0,16}") {
        let sent = text.replace(' ', "+");
        prop_assert_eq!(decode_form(format!("{name}={sent}").as_bytes()), Some(vec![(name, text)]));
    }

    #[test]
    fn escapes_of_bytes_that_are_not_utf8_are_refused(
        pairs in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..4),
        bad in select(vec!["%FF", "%C3", "%E2%82", "%ED%A0%80", "%C0%AF", "%F8%88%80%80%80"]),
        in_name in any::<bool>(),
        at in any::<Index>(),
    ) {
        let mut encoded: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect();
        let damaged = if in_name { format!("x{bad}=v") } else { format!("x={bad}") };
        encoded.insert(at.index(encoded.len() + 1), damaged);
        prop_assert_eq!(decode_form(encoded.join("&").as_bytes()), None);
    }
}

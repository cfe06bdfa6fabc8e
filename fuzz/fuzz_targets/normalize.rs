//! Lookup normalisation of arbitrary user names and e-mail addresses: never panics, treats names
//! and e-mails alike, is a fixed point on its NFC outputs, gives canonically equivalent inputs one
//! result and adds no control character. (It is not idempotent in general, as .NET's is not: an
//! upper-cased character can compose with the mark after it in the next round.)
#![no_main]

use identity_core::{LookupNormalizer as _, UpperInvariantNormalizer, is_storable_name};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::{UnicodeNormalization as _, is_nfc};

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    let normalizer = UpperInvariantNormalizer;
    let once = normalizer.normalize_name(name);
    assert_eq!(once, normalizer.normalize_email(name));
    if is_nfc(&once) {
        assert_eq!(normalizer.normalize_name(&once), once, "not a fixed point");
    }
    assert_eq!(normalizer.normalize_name(&name.nfd().collect::<String>()), once, "NFD input normalised apart");
    if !name.chars().any(char::is_control) {
        assert!(!once.chars().any(char::is_control), "control character added: {once:?}");
    }
    let _ = is_storable_name(name);
    let _ = is_storable_name(&once);
});

//! Lookup normalisation of user names and e-mail addresses.

use identity_core::{LookupNormalizer as _, UpperInvariantNormalizer};
use proptest::prelude::*;
use proptest::sample::select;
use unicode_normalization::{UnicodeNormalization as _, is_nfc};

/// Characters where composition and case mapping interact, mixed into generated names.
const TRICKY: &[char] = &[
    'a', 'A', 'i', 'I', 'ı', 'İ', 'ß', 'ẞ', 'e', 'é', '\u{301}', '\u{308}', '\u{345}', 'ǅ', 'ǰ', 'ŉ', 'ﬀ', 'σ', 'ς',
    'Σ', '\u{212a}', '\u{212b}', '\u{958}', 'ᾳ', '@', '.', ' ', '\0', '\n',
];

/// Any text, and text made of [`TRICKY`] characters.
fn names() -> impl Strategy<Value = String> {
    let tricky = prop::collection::vec(select(TRICKY), 0..16).prop_map(|chars| chars.into_iter().collect::<String>());
    prop_oneof![any::<String>(), tricky]
}

proptest! {
    #[test]
    fn names_and_emails_normalise_alike_and_nfc_outputs_are_fixed(name in names()) {
        let once = UpperInvariantNormalizer.normalize_name(&name);
        prop_assert_eq!(&once, &UpperInvariantNormalizer.normalize_email(&name));
        if is_nfc(&once) {
            prop_assert_eq!(UpperInvariantNormalizer.normalize_name(&once), once);
        }
    }

    #[test]
    fn canonically_equivalent_names_normalise_alike(name in names()) {
        let once = UpperInvariantNormalizer.normalize_name(&name);
        prop_assert_eq!(UpperInvariantNormalizer.normalize_name(&name.nfd().collect::<String>()), once.clone());
        prop_assert_eq!(UpperInvariantNormalizer.normalize_name(&name.nfc().collect::<String>()), once);
    }

    #[test]
    fn ascii_names_normalise_to_their_upper_case(name in "[ -~]{0,40}") {
        prop_assert_eq!(UpperInvariantNormalizer.normalize_name(&name), name.to_ascii_uppercase());
        let lower = UpperInvariantNormalizer.normalize_email(&name.to_ascii_lowercase());
        prop_assert_eq!(lower, UpperInvariantNormalizer.normalize_email(&name.to_ascii_uppercase()));
    }

    #[test]
    fn normalisation_adds_no_control_characters(name in names()) {
        let once = UpperInvariantNormalizer.normalize_name(&name);
        if !name.chars().any(char::is_control) {
            prop_assert!(!once.chars().any(char::is_control), "{:?}", once);
        }
    }
}

/// .NET's order (NFC, then upper case) can upper-case a character into one that composes with the
/// mark after it, which only the next round composes: `ı` + acute becomes `I` + acute, then `Í`.
/// Pinned so that a change of this behaviour (and of the stored `Normalized*` values) is noticed.
#[test]
fn normalisation_is_not_idempotent_after_a_composing_upper_case() {
    let once = UpperInvariantNormalizer.normalize_name("\u{131}\u{301}");
    assert_eq!(once, "I\u{301}");
    assert_eq!(UpperInvariantNormalizer.normalize_name(&once), "\u{cd}");
}

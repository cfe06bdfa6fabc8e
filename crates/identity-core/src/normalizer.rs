//! Lookup normalization, matching .NET's `UpperInvariantLookupNormalizer`: Unicode NFC followed by
//! a *simple* (one character to one character) invariant upper-case mapping, so that the
//! `Normalized*` columns written by .NET and by this crate agree (`ß` stays `ß`).

use unicode_normalization::UnicodeNormalization;

/// Normalizes names and emails for lookups.
pub trait LookupNormalizer: Send + Sync + std::fmt::Debug {
    /// Normalizes a user or role name.
    fn normalize_name(&self, name: &str) -> String;
    /// Normalizes an email address.
    fn normalize_email(&self, email: &str) -> String;
}

/// NFC, then per-character simple upper case, as .NET's `ToUpperInvariant`.
#[derive(Debug, Default, Clone, Copy)]
pub struct UpperInvariantNormalizer;

impl UpperInvariantNormalizer {
    fn normalize(value: &str) -> String {
        value.nfc().map(simple_uppercase).collect()
    }
}

impl LookupNormalizer for UpperInvariantNormalizer {
    fn normalize_name(&self, name: &str) -> String {
        Self::normalize(name)
    }

    fn normalize_email(&self, email: &str) -> String {
        Self::normalize(email)
    }
}

/// The simple upper-case mapping of one character: Rust's full mapping when it yields exactly one
/// character, otherwise the character itself. Full mappings that expand (`ß` to `SS`, ligatures)
/// have no simple mapping in UnicodeData, which is what .NET applies.
fn simple_uppercase(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_cases_ascii_and_accented_letters() {
        let n = UpperInvariantNormalizer;
        assert_eq!(n.normalize_name("alice@Example.com"), "ALICE@EXAMPLE.COM");
        assert_eq!(n.normalize_name("jos\u{e9}"), "JOS\u{c9}");
    }

    #[test]
    fn keeps_characters_whose_upper_case_expands() {
        let n = UpperInvariantNormalizer;
        assert_eq!(n.normalize_name("stra\u{df}e"), "STRA\u{df}E");
        assert_eq!(n.normalize_name("\u{fb00}"), "\u{fb00}");
    }

    #[test]
    fn composes_before_upper_casing() {
        let n = UpperInvariantNormalizer;
        // "e" followed by a combining acute accent composes to a single upper-case "É".
        assert_eq!(n.normalize_name("e\u{301}"), "\u{c9}");
    }
}

//! Argon2 PHC strings: random ones never verify, and one the hasher wrote verifies only its password
//! and nothing after any one of its characters is changed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use identity_core::PasswordVerificationResult::{Failed, Success};
use identity_core::{CompatibilityMode, PasswordHasher as _, PasswordHasherOptions};
use proptest::prelude::*;
use proptest::sample::{Index, select};

use crate::password_hashes::{MAX_PASSES, MEMORY_LIMIT_KIB, PASSWORD, every_mode, hasher};

/// An Argon2 cost field: small, or anything up to `u32::MAX`.
fn cost() -> impl Strategy<Value = u32> {
    prop_oneof![0_u32..=80, Just(u32::MAX), any::<u32>()]
}

/// A PHC base64 field: the encoding of random bytes, or characters around its alphabet.
fn b64_field(max_bytes: usize) -> impl Strategy<Value = String> {
    let encoded = prop::collection::vec(any::<u8>(), 0..max_bytes).prop_map(|bytes| STANDARD_NO_PAD.encode(bytes));
    prop_oneof![encoded, "[A-Za-z0-9+/=.-]{0,24}"]
}

/// PHC strings with random algorithms, versions, costs, extra parameters, salts and hashes. Huge
/// pass counts come only with a memory cost above the limit, which fails before any pass.
fn phc_strings() -> impl Strategy<Value = String> {
    let algorithm = select(vec!["argon2id", "argon2i", "argon2d", "argon2x", "pbkdf2-sha256", "", "ARGON2ID"]);
    let version = prop_oneof![
        Just(String::new()),
        Just("v=19$".to_owned()),
        Just("v=16$".to_owned()),
        any::<u32>().prop_map(|v| format!("v={v}$")),
    ];
    let extra = select(vec!["", ",keyid=AAAAAA", ",data=AAAAAA", ",x=1", ",", ",t=1"]);
    (algorithm, version, cost(), cost(), cost(), extra, b64_field(64), b64_field(80)).prop_map(
        |(algorithm, version, m, t, p, extra, salt, hash)| {
            let t = if m <= MEMORY_LIMIT_KIB { t.min(MAX_PASSES) } else { t };
            format!("${algorithm}${version}m={m},t={t},p={p}{extra}${salt}${hash}")
        },
    )
}

proptest! {
    #[test]
    fn phc_looking_strings_never_verify(stored in phc_strings()) {
        for hasher in every_mode() {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, PASSWORD), Failed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn argon2id_hashes_verify_only_their_password(
        password in any::<String>(),
        other in any::<String>(),
        index in any::<Index>(),
        replacement in prop_oneof![select(vec!['A', 'a', '0', '1', '9', '+', '/', '$', ',', '=', 'é']), any::<char>()],
    ) {
        let hasher = hasher(CompatibilityMode::Argon2id, PasswordHasherOptions::DEFAULT_V3_ITERATION_COUNT);
        let stored = hasher.hash_password(&password).expect("hashes");
        prop_assert_eq!(hasher.verify_hashed_password(&stored, &password), Success);
        if other != password {
            prop_assert_eq!(hasher.verify_hashed_password(&stored, &other), Failed);
        }
        let mut chars: Vec<char> = stored.chars().collect();
        let at = index.index(chars.len());
        if let Some(c) = chars.get_mut(at) {
            *c = replacement;
        }
        let changed: String = chars.into_iter().collect();
        if changed != stored {
            prop_assert_eq!(hasher.verify_hashed_password(&changed, &password), Failed, "{}", changed);
        }
    }
}

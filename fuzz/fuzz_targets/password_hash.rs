//! Password verification of arbitrary stored hashes against a fixed password, in every
//! compatibility mode: the input as text (PHC strings, base64) and the input's bytes in base64 (the
//! ASP.NET Identity V2/V3 layouts). Verification must never panic, and nothing the fuzzer makes may
//! verify: that would be a forged hash. Inputs slow by design are skipped
//! (see [`identity_fuzz::cheap_to_verify`]).
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use identity_core::{
    Argon2Params, CompatibilityMode, IdentityPasswordHasher, PasswordHasher as _, PasswordHasherOptions,
    PasswordVerificationResult,
};
use identity_fuzz::{MEMORY_LIMIT_KIB, PASSWORD, cheap_to_verify};
use libfuzzer_sys::fuzz_target;

/// One hasher per mode, at the smallest Argon2 cost and a small verification memory limit.
static HASHERS: LazyLock<[IdentityPasswordHasher; 3]> = LazyLock::new(|| {
    [CompatibilityMode::Argon2id, CompatibilityMode::IdentityV3, CompatibilityMode::IdentityV2].map(|mode| {
        let options = PasswordHasherOptions {
            mode,
            argon2: Argon2Params::INSECURE_MINIMUM,
            v3_iteration_count: PasswordHasherOptions::DEFAULT_V3_ITERATION_COUNT,
            argon2_max_verify_memory_kib: MEMORY_LIMIT_KIB,
            argon2_max_verify_iterations: PasswordHasherOptions::DEFAULT_ARGON2_MAX_VERIFY_ITERATIONS,
        };
        IdentityPasswordHasher::new(options).expect("valid options")
    })
});

fn never_verifies(stored: &str) {
    if !cheap_to_verify(stored) {
        return;
    }
    for hasher in HASHERS.iter() {
        let result = hasher.verify_hashed_password(stored, PASSWORD);
        assert_eq!(result, PasswordVerificationResult::Failed, "{stored:?} verified");
    }
}

fuzz_target!(|data: &[u8]| {
    never_verifies(&String::from_utf8_lossy(data));
    never_verifies(&STANDARD.encode(data));
});

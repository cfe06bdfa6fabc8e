//! Password hashing: Argon2id by default, and verification of imported ASP.NET Identity V2/V3 hashes
//! (whose formats live in the `identity_format` submodule).
//!
//! [`IdentityPasswordHasher`] writes one format, chosen by [`CompatibilityMode`], and verifies all
//! of them, so a database can move between formats one successful sign-in at a time:
//!
//! | Stored hash | Recognised by | Algorithm |
//! |---|---|---|
//! | Argon2 PHC string | `$argon2id$`, `$argon2i$` or `$argon2d$` | the parameters in the string |
//! | ASP.NET Identity V2 | base64, first byte `0x00`, exactly 49 bytes | PBKDF2-HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey |
//! | ASP.NET Identity V3 | base64, first byte `0x01` | PBKDF2 with the embedded PRF (SHA-1, SHA-256, SHA-512), iteration count and salt |
//!
//! Verification follows ASP.NET Core's `PasswordHasher<TUser>.VerifyHashedPassword`: the V3
//! header must hold a PRF of 0, 1 or 2, an iteration count in `1..=i32::MAX` and a salt of 16 to
//! 8192 bytes, followed by a subkey of at least 16 bytes; subkeys are compared in constant time.
//! Unlike .NET, which throws on invalid base64, every malformed input (bad base64, truncated
//! header, unknown marker, unparsable PHC string) is [`PasswordVerificationResult::Failed`].
//! ASCII space, tab, CR and LF inside a base64 hash are ignored, as .NET's decoder does.
//!
//! Whether a match asks for a rehash depends on the mode:
//!
//! | Match | `Argon2id` (default) | `IdentityV3` | `IdentityV2` |
//! |---|---|---|---|
//! | Argon2 | rehash if not argon2id v19, or m, t or p below the configured ones | rehash | rehash |
//! | V2 | rehash | rehash | success |
//! | V3 | rehash | rehash if iterations < configured count or PRF is not SHA-512 | rehash if PRF is not SHA-512 (.NET's quirk) |
//!
//! Cost: a hash or verification with the default Argon2id parameters (19 MiB, t=2, p=1) takes
//! about 23 ms in release builds on a 2-core machine and holds its 19 MiB while it runs; a V3
//! verification at 100,000 SHA-512 iterations about 45 ms. Run both through
//! [`HashingPool`](crate::hashing_pool::HashingPool).

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{Algorithm, Argon2, Version};
use identity_format::{Prf, encode_v2, encode_v3, verify_identity};

mod argon2_memory;
mod identity_format;

/// The result of verifying a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordVerificationResult {
    /// The password does not match (or the hash is malformed).
    Failed,
    /// The password matches.
    Success,
    /// The password matches, and the hash should be replaced by one in the current format.
    SuccessRehashNeeded,
}

/// Hashes and verifies passwords. Implementations are CPU-bound and synchronous; call them through
/// [`HashingPool`](crate::hashing_pool::HashingPool) from async code.
pub trait PasswordHasher: Send + Sync + std::fmt::Debug {
    /// Hashes a password in the current format.
    fn hash_password(&self, password: &str) -> crate::Result<String>;
    /// Verifies a password. Never panics or errors: a malformed hash is `Failed`.
    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult;
}

/// Which format [`IdentityPasswordHasher`] writes, and therefore which stored hashes it considers
/// current. Every mode verifies every supported format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CompatibilityMode {
    /// PHC-format Argon2id with the configured [`Argon2Params`] (default). Every ASP.NET Identity
    /// hash, and every Argon2 hash weaker than the configuration, needs a rehash.
    #[default]
    Argon2id,
    /// ASP.NET Core Identity V3: PBKDF2-HMAC-SHA512 with
    /// [`PasswordHasherOptions::v3_iteration_count`] iterations, readable by .NET.
    IdentityV3,
    /// ASP.NET Identity V2: PBKDF2-HMAC-SHA1 with 1000 iterations, readable by .NET Framework's
    /// ASP.NET Identity 2.x. Weak; only for sharing a database with such an application.
    IdentityV2,
}

/// Argon2id cost parameters for new hashes. Verification always uses the parameters stored in
/// the hash itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory cost in KiB (`m`); at least 8 × `parallelism`.
    pub memory_kib: u32,
    /// Number of passes over memory (`t`); at least 1.
    pub iterations: u32,
    /// Degree of parallelism (`p`); 1 to 2^24 − 1. Lanes run sequentially (no rayon), so a
    /// higher value does not make hashing faster here.
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's minimum recommendation, and the default: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: argon2::Params::DEFAULT_M_COST,
        iterations: argon2::Params::DEFAULT_T_COST,
        parallelism: argon2::Params::DEFAULT_P_COST,
    };

    /// The smallest parameters Argon2 accepts (8 KiB, 1 pass, 1 lane): fast, and insecure. Only
    /// for tests.
    pub const INSECURE_MINIMUM: Self = Self { memory_kib: 8, iterations: 1, parallelism: 1 };

    /// Parameters from their three values, unchecked (see [`IdentityPasswordHasher::new`]).
    pub const fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        Self { memory_kib, iterations, parallelism }
    }

    /// True when any of `self`'s costs is lower than `policy`'s.
    fn weaker_than(&self, policy: &Self) -> bool {
        self.memory_kib < policy.memory_kib
            || self.iterations < policy.iterations
            || self.parallelism < policy.parallelism
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Configuration of [`IdentityPasswordHasher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHasherOptions {
    /// The format new hashes are written in. Default: [`CompatibilityMode::Argon2id`].
    pub mode: CompatibilityMode,
    /// Argon2id costs for new hashes in [`CompatibilityMode::Argon2id`]. Default:
    /// [`Argon2Params::OWASP`].
    pub argon2: Argon2Params,
    /// PBKDF2-HMAC-SHA512 iterations for new V3 hashes, and the count below which a V3 hash needs
    /// a rehash, in [`CompatibilityMode::IdentityV3`]. `1..=i32::MAX`. Default: 100,000, as
    /// .NET 7 and later.
    pub v3_iteration_count: u32,
    /// The largest Argon2 memory cost, in KiB, a stored hash may ask for: a hash demanding more is
    /// `Failed` without being computed, so a corrupt or hostile hash cannot exhaust memory. At
    /// least `argon2.memory_kib`. Default: 1 GiB.
    pub argon2_max_verify_memory_kib: u32,
    /// The largest Argon2 iteration count (`t`) a stored hash may ask for: a hash demanding more
    /// is `Failed` without being computed, so a corrupt or hostile hash (`t = 4294967295`, say)
    /// cannot hold a hashing thread for hours. At least `argon2.iterations`. Default: 16.
    pub argon2_max_verify_iterations: u32,
}

impl PasswordHasherOptions {
    /// Default for [`PasswordHasherOptions::v3_iteration_count`].
    pub const DEFAULT_V3_ITERATION_COUNT: u32 = 100_000;
    /// Default for [`PasswordHasherOptions::argon2_max_verify_memory_kib`]: 1 GiB.
    pub const DEFAULT_ARGON2_MAX_VERIFY_MEMORY_KIB: u32 = 1024 * 1024;
    /// Default for [`PasswordHasherOptions::argon2_max_verify_iterations`]: 16, several times
    /// what the recommended profiles use (RFC 9106 and OWASP: 1 to 5).
    pub const DEFAULT_ARGON2_MAX_VERIFY_ITERATIONS: u32 = 16;
}

impl Default for PasswordHasherOptions {
    fn default() -> Self {
        Self {
            mode: CompatibilityMode::default(),
            argon2: Argon2Params::default(),
            v3_iteration_count: Self::DEFAULT_V3_ITERATION_COUNT,
            argon2_max_verify_memory_kib: Self::DEFAULT_ARGON2_MAX_VERIFY_MEMORY_KIB,
            argon2_max_verify_iterations: Self::DEFAULT_ARGON2_MAX_VERIFY_ITERATIONS,
        }
    }
}

/// The default [`PasswordHasher`]: writes the format of its [`CompatibilityMode`] (Argon2id
/// unless configured otherwise) and verifies Argon2 PHC strings and ASP.NET Identity V2/V3
/// hashes. See the [module documentation](self) for the formats and the rehash rules.
#[derive(Debug, Clone)]
pub struct IdentityPasswordHasher {
    options: PasswordHasherOptions,
    /// The Argon2id context for new hashes, built from validated `options.argon2`.
    argon2: Argon2<'static>,
}

impl Default for IdentityPasswordHasher {
    /// Argon2id with m = 19456 KiB, t = 2, p = 1.
    fn default() -> Self {
        Self {
            options: PasswordHasherOptions::default(),
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2::Params::DEFAULT),
        }
    }
}

impl IdentityPasswordHasher {
    /// A hasher with the given options.
    ///
    /// # Errors
    /// [`crate::Error::Configuration`] when the Argon2 parameters are out of Argon2's ranges, the
    /// V3 iteration count is outside `1..=i32::MAX` (.NET could not verify such a hash), or a
    /// verification limit is below the configured cost.
    pub fn new(options: PasswordHasherOptions) -> crate::Result<Self> {
        let Argon2Params { memory_kib, iterations, parallelism } = options.argon2;
        let params = argon2::Params::new(memory_kib, iterations, parallelism, None).map_err(|e| {
            crate::Error::Configuration(format!(
                "argon2 parameters m={memory_kib}, t={iterations}, p={parallelism}: {e}"
            ))
        })?;
        if options.v3_iteration_count == 0 || i32::try_from(options.v3_iteration_count).is_err() {
            return Err(crate::Error::Configuration(format!(
                "V3 iteration count must be in 1..={}, got {}",
                i32::MAX,
                options.v3_iteration_count
            )));
        }
        if options.argon2_max_verify_memory_kib < memory_kib {
            return Err(crate::Error::Configuration(format!(
                "argon2 verification memory limit ({} KiB) is below the configured memory cost ({memory_kib} KiB)",
                options.argon2_max_verify_memory_kib
            )));
        }
        if options.argon2_max_verify_iterations < iterations {
            return Err(crate::Error::Configuration(format!(
                "argon2 verification iteration limit ({}) is below the configured iterations ({iterations})",
                options.argon2_max_verify_iterations
            )));
        }
        Ok(Self { options, argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params) })
    }

    /// An Argon2id hasher with the given parameters and otherwise default options; tests use it
    /// with [`Argon2Params::INSECURE_MINIMUM`] for speed.
    ///
    /// # Errors
    /// [`crate::Error::Configuration`] as for [`IdentityPasswordHasher::new`].
    pub fn argon2id(params: Argon2Params) -> crate::Result<Self> {
        Self::new(PasswordHasherOptions { argon2: params, ..PasswordHasherOptions::default() })
    }

    /// The options this hasher was built with.
    pub fn options(&self) -> &PasswordHasherOptions {
        &self.options
    }

    fn hash_argon2id(&self, password: &[u8], salt: &[u8; SALT_LEN]) -> crate::Result<String> {
        let failed =
            |error: &dyn std::fmt::Display| crate::Error::Configuration(format!("argon2 hashing failed: {error}"));
        let params = self.argon2.params();
        let mut output = vec![0u8; params.output_len().unwrap_or(argon2::Params::DEFAULT_OUTPUT_LEN)];
        argon2_memory::hash_into(&self.argon2, params.block_count(), password, salt, &mut output)
            .map_err(|error| failed(&error))?;
        let hash = PhcHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(|error| failed(&error))?,
            salt: Some(Salt::new(salt).map_err(|error| failed(&error))?),
            hash: Some(Output::new(&output).map_err(|error| failed(&error))?),
        };
        Ok(hash.to_string())
    }

    /// Verifies an Argon2 PHC string; `None` when it is malformed, too costly or does not match.
    fn verify_argon2(&self, hashed_password: &str, password: &[u8]) -> Option<Matched> {
        let hash = PhcHash::new(hashed_password).ok()?;
        let algorithm = Algorithm::new(hash.algorithm.as_str()).ok()?;
        let params = argon2::Params::try_from(&hash).ok()?;
        if params.m_cost() > self.options.argon2_max_verify_memory_kib
            || params.t_cost() > self.options.argon2_max_verify_iterations
        {
            return None;
        }
        let version = hash.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
        let (salt, expected) = (hash.salt.as_ref()?, hash.hash.as_ref()?);
        // Recomputes with the algorithm, version and parameters of `hash`, in this thread's
        // reused memory; the outputs are compared in constant time (`Output`'s equality).
        let context = Argon2::new(algorithm, version, params.clone());
        let mut computed = vec![0u8; expected.len()];
        let reusable = self.argon2.params().block_count();
        argon2_memory::hash_into(&context, reusable, password, salt, &mut computed).ok()?;
        (Output::new(&computed).ok()? == *expected).then_some(())?;
        Some(Matched::Argon2 {
            algorithm,
            version: hash.version,
            params: Argon2Params::new(params.m_cost(), params.t_cost(), params.p_cost()),
        })
    }

    fn needs_rehash(&self, matched: Matched) -> bool {
        match (self.options.mode, matched) {
            (CompatibilityMode::Argon2id, Matched::Argon2 { algorithm, version, params }) => {
                algorithm != Algorithm::Argon2id
                    || version != Some(Version::V0x13.into())
                    || params.weaker_than(&self.options.argon2)
            }
            (CompatibilityMode::Argon2id, Matched::V2 | Matched::V3 { .. }) => true,
            (CompatibilityMode::IdentityV3 | CompatibilityMode::IdentityV2, Matched::Argon2 { .. }) => true,
            (CompatibilityMode::IdentityV3, Matched::V2) => true,
            (CompatibilityMode::IdentityV2, Matched::V2) => false,
            (CompatibilityMode::IdentityV3, Matched::V3 { prf, iterations }) => {
                iterations < self.options.v3_iteration_count || prf != Prf::Sha512
            }
            // .NET's configured count is 0 in V2 mode, so only the PRF matters.
            (CompatibilityMode::IdentityV2, Matched::V3 { prf, .. }) => prf != Prf::Sha512,
        }
    }
}

impl PasswordHasher for IdentityPasswordHasher {
    fn hash_password(&self, password: &str) -> crate::Result<String> {
        let salt: [u8; SALT_LEN] = rand::random();
        let password = password.as_bytes();
        match self.options.mode {
            CompatibilityMode::Argon2id => self.hash_argon2id(password, &salt),
            CompatibilityMode::IdentityV3 => Ok(encode_v3(password, &salt, self.options.v3_iteration_count)),
            CompatibilityMode::IdentityV2 => Ok(encode_v2(password, &salt)),
        }
    }

    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult {
        let password = provided_password.as_bytes();
        let matched = if hashed_password.starts_with('$') {
            self.verify_argon2(hashed_password, password)
        } else {
            verify_identity(hashed_password, password)
        };
        match matched {
            None => PasswordVerificationResult::Failed,
            Some(matched) if self.needs_rehash(matched) => PasswordVerificationResult::SuccessRehashNeeded,
            Some(_) => PasswordVerificationResult::Success,
        }
    }
}

/// Salt length of every hash this module writes, in bytes.
const SALT_LEN: usize = 16;

/// A successful verification, with what decides whether it needs a rehash.
#[derive(Debug, Clone, Copy)]
enum Matched {
    V2,
    V3 { prf: Prf, iterations: u32 },
    Argon2 { algorithm: Algorithm, version: Option<u32>, params: Argon2Params },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing_pool::HashingPool;
    use PasswordVerificationResult::{Failed, Success, SuccessRehashNeeded};
    use argon2::PasswordHasher as _;

    pub(super) const PASSWORD: &str = "my password";

    pub(super) const V2_SHA1_1000: &str = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==";
    const V3_SHA1_250: &str = "AQAAAAAAAAD6AAAAEAhftMyfTJylOlZT+eEotFXd1elee8ih5WsjXaR3PA9M";
    const V3_SHA256_250000: &str =
        "AQAAAAEAA9CQAAAAIESkQuj2Du8Y+kbc5lcN/W/3NiAZFEm11P27nrSN5/tId+bR1SwV8CO1Jd72r4C08OLvplNlCDc3oQZ8efcW+jQ=";
    const V3_SHA512_50: &str = "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw";
    const V3_SHA512_250: &str = "AQAAAAIAAAD6AAAAIJbVi5wbMR+htSfFp8fTw8N8GOS/Sje+S/4YZcgBfU7EQuqv4OkVYmc4VJl9AGZzmRTxSkP7LtVi9IWyUxX8IAAfZ8v+ZfhjCcudtC1YERSqE1OEdXLW9VukPuJWBBjLuw==";
    pub(super) const V3_SHA512_10000: &str =
        "AQAAAAIAACcQAAAAEAABAgMEBQYHCAkKCwwNDg9B0Oxwty+PGIDSp95gcCfzeDvA4sGapUIUov8usXfD6A==";
    pub(super) const V3_SHA512_100000: &str =
        "AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg/Q8A0WMKbtHQJQ2DHCdoEeeFBrgNlldq6vH4qX/CGqGQ==";
    const V3_SHA256_10000: &str =
        "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==";

    /// §4.3 success vectors with their result under the default V3 hasher (100,000 iterations).
    const SUCCESS_VECTORS: [(&str, &str, PasswordVerificationResult); 8] = [
        ("V2 SHA1/1000/16/32", V2_SHA1_1000, SuccessRehashNeeded),
        ("V3 SHA1/250/16/16", V3_SHA1_250, SuccessRehashNeeded),
        ("V3 SHA256/250000/32/32", V3_SHA256_250000, SuccessRehashNeeded),
        ("V3 SHA512/50/16/16", V3_SHA512_50, SuccessRehashNeeded),
        ("V3 SHA512/250/32/64", V3_SHA512_250, SuccessRehashNeeded),
        ("V3 SHA512/10000/16/32", V3_SHA512_10000, SuccessRehashNeeded),
        ("V3 SHA512/100000/16/32", V3_SHA512_100000, Success),
        ("V3 SHA256/10000/16/32", V3_SHA256_10000, SuccessRehashNeeded),
    ];

    /// §4.3 inputs that must be `Failed` for "my password".
    const MUST_FAIL_VECTORS: [(&str, &str); 9] = [
        ("V2 incorrect password", "AAABAgMEBQYHCAkKCwwNDg+uAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALtH1uJg=="),
        ("V2 too short", "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggE="),
        ("V2 extra bytes at end", "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJgAAAAAAAAAAAAA="),
        ("V3 incorrect password", "AQAAAAAAAAD6AAAAEAhftMyfTJyAAAAAAAAAAAAAAAAAAAih5WsjXaR3PA9M"),
        ("V3 too short", "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4A="),
        ("V3 extra bytes at end", "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHwAAAAAAAAAAAA"),
        (
            "V3 salt length > data",
            "AQAAAAIAAYagAP///wABAgMEBQYHCAkKCwwNDg/Q8A0WMKbtHQJQ2DHCdoEeeFBrgNlldq6vH4qX/CGqGQ==",
        ),
        (
            "V3 salt length = Int32.MaxValue",
            "AQAAAAEAACcQf////4r8+J3NDEnMWKlHbhJQ6N5oooZ7hUi3cr/qAjd7Lc1Sv6GhorP7Ly0AzCv9PAmKww==",
        ),
        ("V3 salt length 8 (< 16)", "AQAAAAIAAYagAAAACAABAgMEBQYH4qLSh7iNSI12qySxAkyR0XgpXpvNiwqhBJFNLbJKKFw="),
    ];

    /// The salt .NET's writer tests use: bytes 00 01 … 0f.
    pub(super) const TEST_SALT: [u8; SALT_LEN] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    fn hasher(options: PasswordHasherOptions) -> IdentityPasswordHasher {
        IdentityPasswordHasher::new(options).expect("valid options")
    }

    /// Argon2id mode with the cheapest parameters.
    pub(super) fn cheap() -> IdentityPasswordHasher {
        IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid params")
    }

    pub(super) fn v3_mode() -> IdentityPasswordHasher {
        hasher(PasswordHasherOptions { mode: CompatibilityMode::IdentityV3, ..PasswordHasherOptions::default() })
    }

    pub(super) fn v2_mode() -> IdentityPasswordHasher {
        hasher(PasswordHasherOptions { mode: CompatibilityMode::IdentityV2, ..PasswordHasherOptions::default() })
    }

    fn argon2_hash(algorithm: Algorithm, version: Version, params: Argon2Params) -> String {
        let params = argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .expect("valid test params");
        Argon2::new(algorithm, version, params)
            .hash_password_with_salt(PASSWORD.as_bytes(), &TEST_SALT)
            .expect("hashes")
            .to_string()
    }

    #[test]
    fn password_hasher_v3_mode_success_vectors() {
        let hasher = v3_mode();
        for (name, hash, expected) in SUCCESS_VECTORS {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), expected, "{name}");
        }
    }

    #[test]
    fn password_hasher_v3_mode_must_fail_vectors() {
        let hasher = v3_mode();
        for (name, hash) in MUST_FAIL_VECTORS {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), Failed, "{name}");
        }
    }

    #[test]
    fn password_hasher_argon2id_mode_rehashes_every_identity_vector() {
        let hasher = cheap();
        for (name, hash, _) in SUCCESS_VECTORS {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), SuccessRehashNeeded, "{name}");
        }
        for (name, hash) in MUST_FAIL_VECTORS {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), Failed, "{name}");
        }
    }

    #[test]
    fn password_hasher_wrong_password_fails_every_vector_in_every_mode() {
        for hasher in [cheap(), v3_mode(), v2_mode()] {
            for (name, hash, _) in SUCCESS_VECTORS {
                assert_eq!(hasher.verify_hashed_password(hash, "my passwore"), Failed, "{name}");
                assert_eq!(hasher.verify_hashed_password(hash, ""), Failed, "{name}");
            }
        }
    }

    #[test]
    fn password_hasher_v2_mode_vectors() {
        let hasher = v2_mode();
        // V2 is current; V3 follows .NET: the configured count is 0, so only the PRF matters.
        let expected = [
            Success,             // V2 SHA1/1000
            SuccessRehashNeeded, // V3 SHA1/250
            SuccessRehashNeeded, // V3 SHA256/250000
            Success,             // V3 SHA512/50
            Success,             // V3 SHA512/250
            Success,             // V3 SHA512/10000
            Success,             // V3 SHA512/100000
            SuccessRehashNeeded, // V3 SHA256/10000
        ];
        for ((name, hash, _), expected) in SUCCESS_VECTORS.into_iter().zip(expected) {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), expected, "{name}");
        }
        for (name, hash) in MUST_FAIL_VECTORS {
            assert_eq!(hasher.verify_hashed_password(hash, PASSWORD), Failed, "{name}");
        }
    }

    #[test]
    fn password_hasher_v3_mode_rehash_follows_configured_iteration_count() {
        let lenient = hasher(PasswordHasherOptions {
            mode: CompatibilityMode::IdentityV3,
            v3_iteration_count: 10_000,
            ..PasswordHasherOptions::default()
        });
        assert_eq!(lenient.verify_hashed_password(V3_SHA512_10000, PASSWORD), Success);
        assert_eq!(lenient.verify_hashed_password(V3_SHA512_250, PASSWORD), SuccessRehashNeeded);
        // The PRF alone asks for a rehash, whatever the iteration count.
        assert_eq!(lenient.verify_hashed_password(V3_SHA256_250000, PASSWORD), SuccessRehashNeeded);
    }

    #[test]
    fn password_hasher_round_trip_argon2id() {
        let hasher = cheap();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
    }

    /// The PHC string written from the reused memory is the one the argon2 crate's own hasher
    /// writes for the same salt.
    #[test]
    fn argon2id_hashes_are_the_reference_phc_strings() {
        for params in [Argon2Params::INSECURE_MINIMUM, Argon2Params::new(64, 3, 2)] {
            let hasher = IdentityPasswordHasher::argon2id(params).expect("valid");
            let ours = hasher.hash_argon2id(PASSWORD.as_bytes(), &TEST_SALT).expect("hashes");
            assert_eq!(ours, argon2_hash(Algorithm::Argon2id, Version::V0x13, params));
            assert_eq!(hasher.verify_hashed_password(&ours, PASSWORD), Success);
        }
    }

    #[test]
    fn password_hasher_round_trip_default_params() {
        let hasher = IdentityPasswordHasher::default();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let salt = hash.split('$').nth(4).expect("salt field");
        assert_eq!(salt.len(), 22, "16-byte salt is 22 unpadded base64 characters");
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
    }

    #[test]
    fn password_hasher_round_trip_non_ascii_password() {
        let password = "pässwörd 密码 🔑";
        for hasher in [cheap(), v3_mode(), v2_mode()] {
            let hash = hasher.hash_password(password).expect("hashes");
            assert_eq!(hasher.verify_hashed_password(&hash, password), Success);
            assert_eq!(hasher.verify_hashed_password(&hash, "pässwörd 密码"), Failed);
        }
    }

    #[test]
    fn password_hasher_same_password_hashes_differently() {
        for hasher in [cheap(), v3_mode(), v2_mode()] {
            let first = hasher.hash_password(PASSWORD).expect("hashes");
            let second = hasher.hash_password(PASSWORD).expect("hashes");
            assert_ne!(first, second);
            assert_eq!(hasher.verify_hashed_password(&first, PASSWORD), Success);
            assert_eq!(hasher.verify_hashed_password(&second, PASSWORD), Success);
        }
    }

    #[test]
    fn password_hasher_weaker_argon2_params_need_rehash() {
        let policy = IdentityPasswordHasher::argon2id(Argon2Params::new(32, 2, 2)).expect("valid params");
        let cases = [
            (Argon2Params::new(32, 2, 2), Success),
            (Argon2Params::new(64, 3, 4), Success),
            (Argon2Params::new(16, 2, 2), SuccessRehashNeeded),
            (Argon2Params::new(32, 1, 2), SuccessRehashNeeded),
            (Argon2Params::new(32, 2, 1), SuccessRehashNeeded),
        ];
        for (params, expected) in cases {
            let hash = argon2_hash(Algorithm::Argon2id, Version::V0x13, params);
            assert_eq!(policy.verify_hashed_password(&hash, PASSWORD), expected, "{hash}");
            assert_eq!(policy.verify_hashed_password(&hash, "other"), Failed, "{hash}");
        }
    }

    #[test]
    fn password_hasher_other_argon2_variants_and_versions_need_rehash() {
        let hasher = cheap();
        let params = Argon2Params::INSECURE_MINIMUM;
        for (algorithm, version) in [
            (Algorithm::Argon2i, Version::V0x13),
            (Algorithm::Argon2d, Version::V0x13),
            (Algorithm::Argon2id, Version::V0x10),
        ] {
            let hash = argon2_hash(algorithm, version, params);
            assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded, "{hash}");
            assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed, "{hash}");
        }
    }

    #[test]
    fn password_hasher_identity_modes_verify_and_rehash_argon2() {
        let hash = cheap().hash_password(PASSWORD).expect("hashes");
        for hasher in [v3_mode(), v2_mode()] {
            assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
            assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
        }
    }

    #[test]
    fn password_hasher_argon2_costs_above_the_limits_fail_without_computing() {
        let hash = argon2_hash(Algorithm::Argon2id, Version::V0x13, Argon2Params::INSECURE_MINIMUM);
        let hostile = hash.replacen("m=8,", "m=4294967295,", 1);
        assert_ne!(hash, hostile);
        assert_eq!(cheap().verify_hashed_password(&hostile, PASSWORD), Failed);
        let endless = hash.replacen("t=1,", "t=4294967295,", 1);
        assert_ne!(hash, endless);
        assert_eq!(cheap().verify_hashed_password(&endless, PASSWORD), Failed, "refused before computing");

        let limited = hasher(PasswordHasherOptions {
            argon2: Argon2Params::INSECURE_MINIMUM,
            argon2_max_verify_memory_kib: 16,
            ..PasswordHasherOptions::default()
        });
        assert_eq!(limited.verify_hashed_password(&hash, PASSWORD), Success);
        let bigger = argon2_hash(Algorithm::Argon2id, Version::V0x13, Argon2Params::new(32, 1, 1));
        assert_eq!(limited.verify_hashed_password(&bigger, PASSWORD), Failed);
    }

    #[test]
    fn password_hasher_garbage_inputs_fail() {
        let long_a = "A".repeat(1 << 20);
        let long_dollar = format!("$argon2id${}", "x".repeat(1 << 16));
        let long_unicode = "é".repeat(1 << 16);
        let no_output =
            cheap().hash_password(PASSWORD).expect("hashes").rsplit_once('$').map(|(head, _)| head.to_owned());
        let garbage = [
            "",
            " ",
            "AA",
            "AA==",
            "AQ==",
            "Ag==",
            "AQAAAAIAAYag",
            "not base64!!",
            "\0",
            "密码",
            "$",
            "$$",
            "$argon2id$",
            "$argon2id$garbage",
            "$argon2id$v=19$m=8,t=1,p=1$",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
            "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=99$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$2b$12$abcdefghijklmnopqrstuuJ0m0H7mKnY9yZ6z6z6z6z6z6z6z6z6z6",
            no_output.as_deref().expect("PHC string has fields"),
            &long_a,
            &long_dollar,
            &long_unicode,
        ];
        for hasher in [cheap(), v3_mode(), v2_mode()] {
            for input in garbage {
                let shown: String = input.chars().take(40).collect();
                assert_eq!(hasher.verify_hashed_password(input, PASSWORD), Failed, "{shown:?}");
                assert_eq!(hasher.verify_hashed_password(input, ""), Failed, "{shown:?}");
            }
        }
    }

    #[test]
    fn password_hasher_default_is_owasp_argon2id() {
        let default = IdentityPasswordHasher::default();
        assert_eq!(default.options(), &PasswordHasherOptions::default());
        assert_eq!(default.options().mode, CompatibilityMode::Argon2id);
        assert_eq!(default.options().argon2, Argon2Params::new(19456, 2, 1));
        assert_eq!(default.options().v3_iteration_count, 100_000);
        let built = IdentityPasswordHasher::new(PasswordHasherOptions::default()).expect("valid defaults");
        assert_eq!(format!("{:?}", built.argon2), format!("{:?}", default.argon2));
    }

    #[test]
    fn password_hasher_rejects_invalid_options() {
        let invalid = [
            PasswordHasherOptions { v3_iteration_count: 0, ..PasswordHasherOptions::default() },
            PasswordHasherOptions { v3_iteration_count: 1 << 31, ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2: Argon2Params::new(0, 2, 1), ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2: Argon2Params::new(19456, 0, 1), ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2: Argon2Params::new(19456, 2, 0), ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2: Argon2Params::new(15, 1, 2), ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2: Argon2Params::new(8, 1, 1 << 24), ..PasswordHasherOptions::default() },
            PasswordHasherOptions { argon2_max_verify_memory_kib: 19455, ..PasswordHasherOptions::default() },
        ];
        for options in invalid {
            let result = IdentityPasswordHasher::new(options.clone());
            assert!(matches!(result, Err(crate::Error::Configuration(_))), "{options:?}: {result:?}");
        }
        let edge = PasswordHasherOptions {
            mode: CompatibilityMode::IdentityV3,
            v3_iteration_count: 1,
            argon2: Argon2Params::new(16, 1, 2),
            argon2_max_verify_memory_kib: 16,
            argon2_max_verify_iterations: 1,
        };
        assert!(IdentityPasswordHasher::new(edge).is_ok());
        assert!(
            IdentityPasswordHasher::new(PasswordHasherOptions {
                v3_iteration_count: i32::MAX.unsigned_abs(),
                ..PasswordHasherOptions::default()
            })
            .is_ok()
        );
    }

    #[tokio::test]
    async fn password_hasher_pool_hashes_and_verifies() {
        let pool = HashingPool::new(std::sync::Arc::new(cheap()), 2);
        let hash = pool.hash(PASSWORD).await.expect("hashes");
        assert_eq!(pool.verify(&hash, PASSWORD).await.expect("runs"), Success);
        assert_eq!(pool.verify(V3_SHA512_50, PASSWORD).await.expect("runs"), SuccessRehashNeeded);
        assert_eq!(pool.verify("garbage", PASSWORD).await.expect("runs"), Failed);
    }
}

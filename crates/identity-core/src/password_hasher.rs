//! Password hashing: Argon2id by default, verification of imported ASP.NET Identity V2/V3 hashes,
//! and a bounded pool that runs hashing off the async runtime.
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
//! verification at 100,000 SHA-512 iterations about 45 ms. Run both through [`HashingPool`].

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::{Algorithm, Argon2, Version};
use argon2::{PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq as _;

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
/// [`HashingPool`] from async code.
pub trait PasswordHasher: Send + Sync + std::fmt::Debug {
    /// Hashes a password in the current format.
    fn hash_password(&self, password: &str) -> crate::Result<String>;
    /// Verifies a password. Never panics or errors: a malformed hash is `Failed`.
    fn verify_hashed_password(&self, hashed_password: &str, provided_password: &str) -> PasswordVerificationResult;
}

/// Runs a [`PasswordHasher`] on tokio's blocking threads, at most `max_concurrent` at a time, so a
/// flood of password requests queues here instead of stalling the async runtime or exhausting
/// memory (each Argon2id hash holds its memory cost while it runs).
#[derive(Debug, Clone)]
pub struct HashingPool {
    hasher: std::sync::Arc<dyn PasswordHasher>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl HashingPool {
    /// A pool over `hasher` running at most `max_concurrent` hashes at once (at least one).
    pub fn new(hasher: std::sync::Arc<dyn PasswordHasher>, max_concurrent: usize) -> Self {
        Self { hasher, permits: std::sync::Arc::new(tokio::sync::Semaphore::new(max_concurrent.max(1))) }
    }

    /// A pool sized to the machine's available parallelism.
    pub fn with_available_parallelism(hasher: std::sync::Arc<dyn PasswordHasher>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(hasher, cores)
    }

    /// The hasher this pool runs.
    pub fn hasher(&self) -> &dyn PasswordHasher {
        self.hasher.as_ref()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    ) -> crate::Result<T> {
        let permit = std::sync::Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| crate::Error::Background("hashing pool closed".to_owned()))?;
        let hasher = std::sync::Arc::clone(&self.hasher);
        // The permit moves into the blocking task: a caller that stops waiting (a dropped
        // request) does not stop the hash, so the permit must stay taken until the hash ends.
        tokio::task::spawn_blocking(move || {
            let _held_until_the_hash_ends = permit;
            work(hasher.as_ref())
        })
        .await
        .map_err(|e| crate::Error::Background(e.to_string()))
    }

    /// Hashes a password off the async runtime.
    pub async fn hash(&self, password: &str) -> crate::Result<String> {
        let password = password.to_owned();
        self.run(move |hasher| hasher.hash_password(&password)).await?
    }

    /// Verifies a password off the async runtime.
    pub async fn verify(
        &self,
        hashed_password: &str,
        provided_password: &str,
    ) -> crate::Result<PasswordVerificationResult> {
        let hashed = hashed_password.to_owned();
        let provided = provided_password.to_owned();
        self.run(move |hasher| hasher.verify_hashed_password(&hashed, &provided)).await
    }
}

/// Which format [`IdentityPasswordHasher`] writes, and therefore which stored hashes it considers
/// current. Every mode verifies every supported format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
}

impl PasswordHasherOptions {
    /// Default for [`PasswordHasherOptions::v3_iteration_count`].
    pub const DEFAULT_V3_ITERATION_COUNT: u32 = 100_000;
    /// Default for [`PasswordHasherOptions::argon2_max_verify_memory_kib`]: 1 GiB.
    pub const DEFAULT_ARGON2_MAX_VERIFY_MEMORY_KIB: u32 = 1024 * 1024;
}

impl Default for PasswordHasherOptions {
    fn default() -> Self {
        Self {
            mode: CompatibilityMode::default(),
            argon2: Argon2Params::default(),
            v3_iteration_count: Self::DEFAULT_V3_ITERATION_COUNT,
            argon2_max_verify_memory_kib: Self::DEFAULT_ARGON2_MAX_VERIFY_MEMORY_KIB,
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
    /// V3 iteration count is outside `1..=i32::MAX` (.NET could not verify such a hash), or the
    /// verification memory limit is below the configured memory cost.
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
        let hash = self
            .argon2
            .hash_password_with_salt(password, salt)
            .map_err(|e| crate::Error::Configuration(format!("argon2 hashing failed: {e}")))?;
        Ok(hash.to_string())
    }

    /// Verifies an Argon2 PHC string; `None` when it is malformed, too costly or does not match.
    fn verify_argon2(&self, hashed_password: &str, password: &[u8]) -> Option<Matched> {
        let hash = PhcHash::new(hashed_password).ok()?;
        let algorithm = Algorithm::new(hash.algorithm.as_str()).ok()?;
        let params = argon2::Params::try_from(&hash).ok()?;
        if params.m_cost() > self.options.argon2_max_verify_memory_kib {
            return None;
        }
        // Recomputes with the algorithm, version and parameters of `hash`; the outputs are
        // compared in constant time.
        Argon2::default().verify_password(password, &hash).ok()?;
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
/// Subkey length of the ASP.NET Identity hashes this module writes, in bytes.
const SUBKEY_LEN: usize = 32;
/// V2 format marker, iteration count and total length.
const V2_MARKER: u8 = 0x00;
const V2_ITERATIONS: u32 = 1000;
const V2_LEN: usize = 1 + SALT_LEN + SUBKEY_LEN;
/// V3 format marker, header length and the salt and subkey bounds of its verifier.
const V3_MARKER: u8 = 0x01;
const V3_HEADER_LEN: usize = 13;
const V3_MIN_SALT_LEN: usize = 16;
const V3_MAX_SALT_LEN: usize = 8192;
const V3_MIN_SUBKEY_LEN: usize = 16;

/// .NET's `Convert.FromBase64String` alphabet and padding; like .NET it ignores the unused low
/// bits of the last character.
const DOTNET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

/// A successful verification, with what decides whether it needs a rehash.
#[derive(Debug, Clone, Copy)]
enum Matched {
    V2,
    V3 { prf: Prf, iterations: u32 },
    Argon2 { algorithm: Algorithm, version: Option<u32>, params: Argon2Params },
}

/// .NET's `KeyDerivationPrf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn from_wire(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::Sha1),
            1 => Some(Self::Sha256),
            2 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn to_wire(self) -> u32 {
        match self {
            Self::Sha1 => 0,
            Self::Sha256 => 1,
            Self::Sha512 => 2,
        }
    }

    fn derive(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out),
            Self::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, out),
        }
    }
}

/// The V2 hash of `password` with `salt`, base64-encoded.
fn encode_v2(password: &[u8], salt: &[u8; SALT_LEN]) -> String {
    let mut subkey = [0u8; SUBKEY_LEN];
    Prf::Sha1.derive(password, salt, V2_ITERATIONS, &mut subkey);
    let mut bytes = Vec::with_capacity(V2_LEN);
    bytes.push(V2_MARKER);
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(&subkey);
    DOTNET_BASE64.encode(bytes)
}

/// The V3 hash (HMAC-SHA512) of `password` with `salt` and `iterations`, base64-encoded.
fn encode_v3(password: &[u8], salt: &[u8; SALT_LEN], iterations: u32) -> String {
    let mut subkey = [0u8; SUBKEY_LEN];
    Prf::Sha512.derive(password, salt, iterations, &mut subkey);
    let mut bytes = Vec::with_capacity(V3_HEADER_LEN + SALT_LEN + SUBKEY_LEN);
    bytes.push(V3_MARKER);
    bytes.extend_from_slice(&Prf::Sha512.to_wire().to_be_bytes());
    bytes.extend_from_slice(&iterations.to_be_bytes());
    bytes.extend_from_slice(&(SALT_LEN as u32).to_be_bytes());
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(&subkey);
    DOTNET_BASE64.encode(bytes)
}

/// Verifies a base64 ASP.NET Identity hash; `None` when it is malformed or does not match.
fn verify_identity(hashed_password: &str, password: &[u8]) -> Option<Matched> {
    let compact: Vec<u8> = hashed_password.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    let decoded = DOTNET_BASE64.decode(compact).ok()?;
    match *decoded.first()? {
        V2_MARKER => verify_v2(&decoded, password),
        V3_MARKER => verify_v3(&decoded, password),
        _ => None,
    }
}

fn verify_v2(decoded: &[u8], password: &[u8]) -> Option<Matched> {
    if decoded.len() != V2_LEN {
        return None;
    }
    let salt = decoded.get(1..1 + SALT_LEN)?;
    let expected = decoded.get(1 + SALT_LEN..)?;
    let mut actual = [0u8; SUBKEY_LEN];
    Prf::Sha1.derive(password, salt, V2_ITERATIONS, &mut actual);
    bool::from(actual.ct_eq(expected)).then_some(Matched::V2)
}

fn verify_v3(decoded: &[u8], password: &[u8]) -> Option<Matched> {
    let prf = Prf::from_wire(read_u32_be(decoded, 1)?)?;
    let iterations = read_u32_be(decoded, 5)?;
    // .NET reads the count as an `int`, and PBKDF2 rejects a count that is not positive.
    if iterations == 0 || i32::try_from(iterations).is_err() {
        return None;
    }
    let salt_len = usize::try_from(read_u32_be(decoded, 9)?).ok()?;
    if !(V3_MIN_SALT_LEN..=V3_MAX_SALT_LEN).contains(&salt_len) {
        return None;
    }
    let salt = decoded.get(V3_HEADER_LEN..V3_HEADER_LEN + salt_len)?;
    let expected = decoded.get(V3_HEADER_LEN + salt_len..)?;
    if expected.len() < V3_MIN_SUBKEY_LEN {
        return None;
    }
    let mut actual = vec![0u8; expected.len()];
    prf.derive(password, salt, iterations, &mut actual);
    bool::from(actual.ct_eq(expected)).then_some(Matched::V3 { prf, iterations })
}

/// The big-endian `u32` at `offset`, if `bytes` is long enough.
fn read_u32_be(bytes: &[u8], offset: usize) -> Option<u32> {
    let field = bytes.get(offset..offset + 4)?;
    Some(u32::from_be_bytes(field.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordVerificationResult::{Failed, Success, SuccessRehashNeeded};

    const PASSWORD: &str = "my password";

    const V2_SHA1_1000: &str = "AAABAgMEBQYHCAkKCwwNDg+ukCEMDf0yyQ29NYubggHIVY0sdEUfdyeM+E1LtH1uJg==";
    const V3_SHA1_250: &str = "AQAAAAAAAAD6AAAAEAhftMyfTJylOlZT+eEotFXd1elee8ih5WsjXaR3PA9M";
    const V3_SHA256_250000: &str =
        "AQAAAAEAA9CQAAAAIESkQuj2Du8Y+kbc5lcN/W/3NiAZFEm11P27nrSN5/tId+bR1SwV8CO1Jd72r4C08OLvplNlCDc3oQZ8efcW+jQ=";
    const V3_SHA512_50: &str = "AQAAAAIAAAAyAAAAEOMwvh3+FZxqkdMBz2ekgGhwQ4B6pZWND6zgESBuWiHw";
    const V3_SHA512_250: &str = "AQAAAAIAAAD6AAAAIJbVi5wbMR+htSfFp8fTw8N8GOS/Sje+S/4YZcgBfU7EQuqv4OkVYmc4VJl9AGZzmRTxSkP7LtVi9IWyUxX8IAAfZ8v+ZfhjCcudtC1YERSqE1OEdXLW9VukPuJWBBjLuw==";
    const V3_SHA512_10000: &str =
        "AQAAAAIAACcQAAAAEAABAgMEBQYHCAkKCwwNDg9B0Oxwty+PGIDSp95gcCfzeDvA4sGapUIUov8usXfD6A==";
    const V3_SHA512_100000: &str =
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
    const TEST_SALT: [u8; SALT_LEN] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    fn hasher(options: PasswordHasherOptions) -> IdentityPasswordHasher {
        IdentityPasswordHasher::new(options).expect("valid options")
    }

    /// Argon2id mode with the cheapest parameters.
    fn cheap() -> IdentityPasswordHasher {
        IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid params")
    }

    fn v3_mode() -> IdentityPasswordHasher {
        hasher(PasswordHasherOptions { mode: CompatibilityMode::IdentityV3, ..PasswordHasherOptions::default() })
    }

    fn v2_mode() -> IdentityPasswordHasher {
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

    fn decode(hash: &str) -> Vec<u8> {
        DOTNET_BASE64.decode(hash).expect("valid base64")
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
    fn password_hasher_writers_match_dotnet_byte_for_byte() {
        assert_eq!(encode_v3(PASSWORD.as_bytes(), &TEST_SALT, 100_000), V3_SHA512_100000);
        assert_eq!(encode_v3(PASSWORD.as_bytes(), &TEST_SALT, 10_000), V3_SHA512_10000);
        assert_eq!(encode_v2(PASSWORD.as_bytes(), &TEST_SALT), V2_SHA1_1000);
    }

    #[test]
    fn password_hasher_round_trip_argon2id() {
        let hasher = cheap();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
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
    fn password_hasher_round_trip_identity_v3() {
        let hasher = v3_mode();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert_eq!(hash.len(), 84);
        let bytes = decode(&hash);
        assert_eq!(bytes.len(), 61);
        // Marker 1, PRF 2 (SHA-512), 100,000 iterations, 16-byte salt; all big-endian.
        assert_eq!(bytes.get(..13), Some(&[1, 0, 0, 0, 2, 0, 1, 0x86, 0xa0, 0, 0, 0, 16][..]));
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
        // The default Argon2id hasher accepts it and asks for an upgrade.
        assert_eq!(cheap().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
    }

    #[test]
    fn password_hasher_round_trip_identity_v2() {
        let hasher = v2_mode();
        let hash = hasher.hash_password(PASSWORD).expect("hashes");
        assert_eq!(hash.len(), 68);
        let bytes = decode(&hash);
        assert_eq!((bytes.len(), bytes.first()), (49, Some(&0)));
        assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), Success);
        assert_eq!(hasher.verify_hashed_password(&hash, "other"), Failed);
        assert_eq!(v3_mode().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
        assert_eq!(cheap().verify_hashed_password(&hash, PASSWORD), SuccessRehashNeeded);
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
    fn password_hasher_argon2_memory_above_limit_fails_without_computing() {
        let hash = argon2_hash(Algorithm::Argon2id, Version::V0x13, Argon2Params::INSECURE_MINIMUM);
        let hostile = hash.replacen("m=8,", "m=4294967295,", 1);
        assert_ne!(hash, hostile);
        assert_eq!(cheap().verify_hashed_password(&hostile, PASSWORD), Failed);

        let limited = hasher(PasswordHasherOptions {
            argon2: Argon2Params::INSECURE_MINIMUM,
            argon2_max_verify_memory_kib: 16,
            ..PasswordHasherOptions::default()
        });
        assert_eq!(limited.verify_hashed_password(&hash, PASSWORD), Success);
        let bigger = argon2_hash(Algorithm::Argon2id, Version::V0x13, Argon2Params::new(32, 1, 1));
        assert_eq!(limited.verify_hashed_password(&bigger, PASSWORD), Failed);
    }

    /// A V3 hash with the given header fields; the salt is `TEST_SALT` and the subkey the one
    /// SHA-512 would give, so only the field under test can make it fail.
    fn v3_with(prf: u32, iterations: u32) -> String {
        let mut bytes = vec![V3_MARKER];
        bytes.extend_from_slice(&prf.to_be_bytes());
        bytes.extend_from_slice(&iterations.to_be_bytes());
        bytes.extend_from_slice(&16u32.to_be_bytes());
        bytes.extend_from_slice(&TEST_SALT);
        let mut subkey = [0u8; SUBKEY_LEN];
        Prf::Sha512.derive(PASSWORD.as_bytes(), &TEST_SALT, 1, &mut subkey);
        bytes.extend_from_slice(&subkey);
        DOTNET_BASE64.encode(bytes)
    }

    #[test]
    fn password_hasher_v3_header_limits() {
        let hasher = v3_mode();
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 1), PASSWORD), SuccessRehashNeeded);
        assert_eq!(hasher.verify_hashed_password(&v3_with(3, 1), PASSWORD), Failed, "PRF 3");
        assert_eq!(hasher.verify_hashed_password(&v3_with(u32::MAX, 1), PASSWORD), Failed, "PRF u32::MAX");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 0), PASSWORD), Failed, "0 iterations");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, 1 << 31), PASSWORD), Failed, "negative as i32");
        assert_eq!(hasher.verify_hashed_password(&v3_with(2, u32::MAX), PASSWORD), Failed, "-1 as i32");

        // Salt of exactly 8192 bytes is accepted; 8193 is not (subkey valid either way).
        for (salt_len, expected) in [(8192usize, SuccessRehashNeeded), (8193, Failed)] {
            let salt = vec![7u8; salt_len];
            let mut bytes = vec![V3_MARKER];
            bytes.extend_from_slice(&2u32.to_be_bytes());
            bytes.extend_from_slice(&1u32.to_be_bytes());
            bytes.extend_from_slice(&u32::try_from(salt_len).expect("small").to_be_bytes());
            bytes.extend_from_slice(&salt);
            let mut subkey = [0u8; 16];
            Prf::Sha512.derive(PASSWORD.as_bytes(), &salt, 1, &mut subkey);
            bytes.extend_from_slice(&subkey);
            let hash = DOTNET_BASE64.encode(bytes);
            assert_eq!(hasher.verify_hashed_password(&hash, PASSWORD), expected, "salt {salt_len}");
        }
    }

    #[test]
    fn password_hasher_base64_leniency_matches_dotnet() {
        let hasher = v3_mode();
        let spaced = format!(" {}\r\n{}\t{} ", &V2_SHA1_1000[..10], &V2_SHA1_1000[10..40], &V2_SHA1_1000[40..]);
        assert_eq!(hasher.verify_hashed_password(&spaced, PASSWORD), SuccessRehashNeeded);
        // "Jg==" → "Jh==": same byte, non-zero unused bits, which .NET ignores.
        let trailing_bits = V2_SHA1_1000.replace("Jg==", "Jh==");
        assert_eq!(hasher.verify_hashed_password(&trailing_bits, PASSWORD), SuccessRehashNeeded);
        // Missing padding and URL-safe characters are rejected, as by .NET.
        let unpadded = V2_SHA1_1000.trim_end_matches('=');
        assert_eq!(hasher.verify_hashed_password(unpadded, PASSWORD), Failed);
        let url_safe = V2_SHA1_1000.replace('+', "-");
        assert_eq!(hasher.verify_hashed_password(&url_safe, PASSWORD), Failed);
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

    /// Records the highest number of overlapping calls.
    #[derive(Debug, Default)]
    struct Gauge {
        running: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
    }

    impl PasswordHasher for Gauge {
        fn hash_password(&self, password: &str) -> crate::Result<String> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.running.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            self.running.fetch_sub(1, SeqCst);
            Ok(password.to_owned())
        }

        fn verify_hashed_password(&self, _: &str, _: &str) -> PasswordVerificationResult {
            Failed
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_hasher_pool_limits_concurrency() {
        let gauge = std::sync::Arc::new(Gauge::default());
        let pool = HashingPool::new(gauge.clone(), 2);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(&i.to_string()).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task completes").expect("hashes");
        }
        let peak = gauge.peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "peak concurrency {peak}");
    }

    /// Callers that stop waiting mid-hash (dropped requests) do not free their permits early:
    /// the abandoned hashes still run, so new ones must wait for them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_callers_keep_their_permits_until_the_hash_ends() {
        use std::sync::atomic::Ordering::SeqCst;
        let gauge = std::sync::Arc::new(Gauge::default());
        let pool = HashingPool::new(gauge.clone(), 2);
        for round in 0..3 {
            let abandoned: Vec<_> = (0..6)
                .map(|i| {
                    let pool = pool.clone();
                    tokio::spawn(async move { pool.hash(&format!("{round}-{i}")).await })
                })
                .collect();
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            for task in &abandoned {
                task.abort();
            }
        }
        let finished: Vec<_> = (0..4)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(&i.to_string()).await })
            })
            .collect();
        for task in finished {
            task.await.expect("task completes").expect("hashes");
        }
        let peak = gauge.peak.load(SeqCst);
        assert!((1..=2).contains(&peak), "peak concurrency {peak} with a bound of 2");
    }
}

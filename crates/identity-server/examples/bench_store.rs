//! The store's lookups on a large database, for `cargo xtask bench --users N`: opens the Diesel
//! store the server would open on `--database-url`, then times, one call at a time on users
//! picked at random among the `--users` seeded ones (named `{prefix}{i}`, e-mail
//! `{prefix}{i}@bench.example`):
//!
//! - `find_by_name`: what the password grant and the login page start with;
//! - `find_by_email`: the e-mail sign-in and password reset lookup;
//! - `load_claims_data`: the user with claims, roles and role claims, in one store call, as the
//!   profile service reads it for every token and userinfo answer;
//! - `verify_password`: one Argon2id verification of a stored hash with the server's hasher, so
//!   that the password grant's latency can be split into hashing and everything else.
//!
//! Prints one line per operation: its name, then each call's time in microseconds (the caller
//! computes the percentiles).

use std::time::{Duration, Instant};

use identity_core::store::UserStore as _;
use identity_core::{IdentityPasswordHasher, PasswordHasher as _, PasswordHasherOptions, PasswordVerificationResult};
use identity_diesel::{Database, DieselStore};

/// Verifications timed: each costs tens of milliseconds.
const VERIFICATIONS: usize = 20;

/// The command line.
struct Options {
    database_url: String,
    /// The name prefix of the users to look up.
    prefix: String,
    /// How many there are (`{prefix}0` to `{prefix}{users - 1}`).
    users: u64,
    /// The password they all have.
    password: String,
    /// Lookups of each kind.
    samples: usize,
}

fn main() -> Result<(), String> {
    let options = parse(std::env::args().skip(1).collect())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(measure(&options))
}

/// Reads the command line.
fn parse(args: Vec<String>) -> Result<Options, String> {
    const USAGE: &str =
        "usage: bench_store --database-url URL --prefix NAME_PREFIX --users N --password P [--samples K]";
    let mut options = Options {
        database_url: String::new(),
        prefix: String::new(),
        users: 0,
        password: String::new(),
        samples: 2000,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(USAGE)?;
        match arg.as_str() {
            "--database-url" => options.database_url = value,
            "--prefix" => options.prefix = value,
            "--users" => options.users = value.parse().map_err(|_| USAGE)?,
            "--samples" => options.samples = value.parse().map_err(|_| USAGE)?,
            "--password" => options.password = value,
            _ => return Err(USAGE.to_owned()),
        }
    }
    if options.database_url.is_empty() || options.password.is_empty() || options.users == 0 || options.samples == 0 {
        return Err(USAGE.to_owned());
    }
    Ok(options)
}

/// Times the lookups and verifications, and prints them.
async fn measure(options: &Options) -> Result<(), String> {
    let db = Database::connect(&options.database_url).await.map_err(|e| e.to_string())?;
    let store = DieselStore::<()>::new(db).await.map_err(|e| e.to_string())?;
    let email_store = store.email_store().ok_or("the store has no e-mail capability")?;
    let claims_store = store.claims_data_store().ok_or("the store has no bulk claims read")?;
    let mut picks = Picks(0x9e37_79b9_7f4a_7c15);
    let (mut by_name, mut by_email, mut claims) = (Vec::new(), Vec::new(), Vec::new());
    let mut hash = None;
    for _ in 0..options.samples {
        let name = format!("{}{}", options.prefix, picks.next() % options.users);
        let started = Instant::now();
        let user = store.find_by_name(&name.to_uppercase()).await.map_err(|e| e.to_string())?;
        by_name.push(started.elapsed());
        let user = user.ok_or_else(|| format!("{name} is not in the database"))?;

        let email = format!("{}{}@bench.example", options.prefix, picks.next() % options.users);
        let started = Instant::now();
        let found = email_store.find_by_email(&email.to_uppercase()).await.map_err(|e| e.to_string())?;
        by_email.push(started.elapsed());
        found.ok_or_else(|| format!("no user has the e-mail address {email}"))?;

        let started = Instant::now();
        let data = claims_store.load_claims_data(&user.id).await.map_err(|e| e.to_string())?;
        claims.push(started.elapsed());
        data.ok_or_else(|| format!("{name} has no claims data"))?;
        hash = user.password_hash;
    }
    let hash = hash.ok_or("the users have no password hash")?;
    let hasher = IdentityPasswordHasher::new(PasswordHasherOptions::default()).map_err(|e| e.to_string())?;
    let mut verifications = Vec::new();
    for _ in 0..VERIFICATIONS {
        let started = Instant::now();
        let result = hasher.verify_hashed_password(&hash, &options.password);
        verifications.push(started.elapsed());
        if result == PasswordVerificationResult::Failed {
            return Err("the seeded hash does not verify the bench password".to_owned());
        }
    }
    for (name, times) in [
        ("find_by_name", by_name),
        ("find_by_email", by_email),
        ("load_claims_data", claims),
        ("verify_password", verifications),
    ] {
        let micros: Vec<String> = times.iter().map(Duration::as_micros).map(|us| us.to_string()).collect();
        println!("{name} {}", micros.join(" "));
    }
    Ok(())
}

/// A small deterministic generator (splitmix64): every run looks up the same users, with no
/// dependency for it.
struct Picks(u64);

impl Picks {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

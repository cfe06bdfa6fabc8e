//! Properties of identity-core's parsers of untrusted input, checked with proptest:
//!
//! - password verification never panics and never accepts: arbitrary strings, arbitrary bytes in
//!   base64 (in ASP.NET Identity's V2/V3 layouts or not) and PHC-looking Argon2 strings with
//!   random fields, including huge `m`, `t` and `p`, are `Failed` in every compatibility mode;
//! - an Argon2id hash written by the hasher (at the smallest cost) verifies its password, no other
//!   password, and nothing after any one of its characters is changed;
//! - ASP.NET Identity V2 and V3 hashes built here with PBKDF2 verify their password with each
//!   mode's rehash answer and no other password, and fail after any flipped bit, truncation or
//!   extension, except a V3 truncation that keeps at least 16 subkey bytes: PBKDF2's output is a
//!   prefix of its longer outputs, and .NET accepts any subkey of 16 bytes or more;
//! - lookup normalisation never panics, treats names and e-mails alike, gives canonically
//!   equivalent inputs one result, upper-cases ASCII, adds no control character, and is a fixed
//!   point on its NFC outputs. It is not idempotent in general, exactly as .NET's (see
//!   `normalisation::normalisation_is_not_idempotent_after_a_composing_upper_case`).
//!
//! Inputs that would make verification slow by design are generated or filtered away: V3 headers
//! asking for more than `password_hashes::MAX_ITERATIONS` PBKDF2 iterations (.NET accepts up to
//! `i32::MAX`), and Argon2 strings asking for more than `password_hashes::MAX_PASSES` passes
//! within the memory limit.

mod argon2_hashes;
mod normalisation;
mod password_hashes;

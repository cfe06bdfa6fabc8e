//! The store conformance suite: ASP.NET Core Identity's specification tests
//! (`UserManagerSpecificationTestBase` and `IdentitySpecificationTestBase`), ported to run against
//! any store that implements the `identity-core` traits.
//!
//! A store author implements [`StoreFixture`], writes an `async fn(test_support::Backend)`
//! returning a fresh one, and stamps the suite in a test file (the crate needs `test-support`
//! and `tokio` as dev-dependencies):
//!
//! ```ignore
//! identity_conformance::conformance_tests!(setup: crate::fixture, backends: [sqlite, postgres]);
//! ```
//!
//! The macro generates, through `test_support::backend_cases!`, one `#[tokio::test]` per case
//! and backend, named after the .NET test in snake case, so every store runs every case and each
//! shows up by name. A case that needs a capability the store lacks ends with
//! [`CaseError::NotSupported`]; the generated test passes only if the fixture declared that
//! capability in [`StoreFixture::unsupported`], so nothing is skipped silently.

pub mod cases;
pub mod harness;
pub mod stamped;

pub use harness::{CaseError, CaseResult, EmptyStores, Harness, StoreFixture, run_case};

/// Generates one `#[tokio::test]` per conformance case and backend; `setup` is an
/// `async fn(test_support::Backend) -> impl StoreFixture`, called once per test.
#[macro_export]
macro_rules! conformance_tests {
    (setup: $setup:path, backends: [$($backend:ident),+ $(,)?] $(,)?) => {
        $crate::for_each_case!($crate::__conformance_tests, [$setup, $($backend),+]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ([$setup:path, $($backend:ident),+]; $($case:ident)*) => {
        ::test_support::backend_cases! {
            setup: $setup,
            backends: [$($backend),+],
            module: identity_conformance::stamped,
            cases: [$($case),*],
        }
    };
}

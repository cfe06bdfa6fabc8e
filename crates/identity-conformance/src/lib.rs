//! The store conformance suite: ASP.NET Core Identity's specification tests
//! (`UserManagerSpecificationTestBase` and `IdentitySpecificationTestBase`), ported to run against
//! any store that implements the `identity-core` traits.
//!
//! A store author implements [`StoreFixture`] and writes one line in a test file:
//!
//! ```ignore
//! identity_conformance::conformance_tests!(MyFixture::new());
//! ```
//!
//! The macro generates one `#[tokio::test]` per case, named after the .NET test in snake case, so
//! every store runs every case and each shows up by name. A case that needs a capability the
//! store lacks ends with [`CaseError::NotSupported`]; the generated test passes only if the fixture
//! declared that capability in [`StoreFixture::unsupported`], so nothing is skipped silently.

pub mod cases;
pub mod harness;

pub use harness::{CaseError, CaseResult, Harness, StoreFixture, run_case};

/// Generates one `#[tokio::test]` per conformance case for a fixture expression, which is
/// evaluated once per test. The calling crate needs `tokio` (with `macros` and
/// `rt-multi-thread`) as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:expr) => {
        $crate::for_each_case!($crate::__conformance_test, $fixture);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($fixture:expr; $($case:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::run_case(stringify!($case), $fixture, $crate::cases::$case).await;
            }
        )*
    };
}

//! One `pub async fn case(fixture)` per conformance case, generated from the case list: the
//! shape `test_support::backend_cases!` stamps, each running its case through [`run_case`].

use crate::harness::{StoreFixture, run_case};

/// Generates the adapters from the case list of [`for_each_case!`](crate::for_each_case).
macro_rules! adapters {
    ($unused:tt; $($case:ident)*) => {
        $(
            #[doc = concat!("Runs [`", stringify!($case), "`](crate::cases::", stringify!($case), ") on the fixture's stores.")]
            pub async fn $case<F: StoreFixture>(fixture: F) {
                run_case(stringify!($case), fixture, crate::cases::$case).await;
            }
        )*
    };
}

crate::for_each_case!(adapters, []);

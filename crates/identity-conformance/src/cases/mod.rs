//! The cases, one `pub async fn` per .NET specification test (snake case; theory rows get a
//! suffix), grouped by feature. [`for_each_case!`](crate::for_each_case) lists every case; the
//! `every_case_is_listed` test keeps that list and the functions in step.

mod users;

pub use users::*;

/// Calls `$callback!($fixture; case1 case2 ...)` with every case name.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_case {
    ($callback:path, $fixture:expr) => {
        $callback!($fixture;
            create_user_will_set_create_date_only_if_supported
            can_delete_user
            can_update_user_name
            check_set_user_name_validates_user
            set_user_name_updates_security_stamp
            can_find_by_id
        );
    };
}

//! The cases, one `pub async fn` per .NET specification test (snake case; theory rows get a
//! suffix), grouped by feature. [`for_each_case!`](crate::for_each_case) lists every case; the
//! `every_case_is_listed` test keeps that list and the functions in step.

mod change_email;
mod claim_queries;
mod claims;
mod email;
mod lockout;
mod logins;
mod passkeys;
mod passwords;
mod phone;
mod roles;
mod sign_in;
mod store_extras;
mod transfer;
mod two_factor;
mod two_factor_sign_in;
mod user_tokens;
mod users;
mod validators;

pub use change_email::*;
pub use claim_queries::*;
pub use claims::*;
pub use email::*;
pub use lockout::*;
pub use logins::*;
pub use passkeys::*;
pub use passwords::*;
pub use phone::*;
pub use roles::*;
pub use sign_in::*;
pub use store_extras::*;
pub use transfer::*;
pub use two_factor::*;
pub use two_factor_sign_in::*;
pub use user_tokens::*;
pub use users::*;
pub use validators::*;

/// Calls `$callback!([$args]; case1 case2 ...)` with every case name.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_case {
    ($callback:path, $args:tt) => {
        $callback!($args;
            create_user_will_set_create_date_only_if_supported
            can_delete_user
            can_update_user_name
            check_set_user_name_validates_user
            set_user_name_updates_security_stamp
            can_find_by_id
            password_validator_with_no_errors_can_block_add_password
            reset_authenticator_key_updates_security_stamp
            check_set_email_validates_user
            can_update_password_using_hasher
            user_validator_can_block_create
            user_validator_can_block_update
            can_chain_user_validators
            user_validator_blocks_short_emails_when_requires_unique_email_empty
            user_validator_blocks_short_emails_when_requires_unique_email_null
            user_validator_blocks_invalid_emails_when_requires_unique_email_at_at_afd
            user_validator_blocks_invalid_emails_when_requires_unique_email_bogus
            password_validator_can_block_add_password
            can_chain_password_validators
            password_validator_with_no_errors_can_block_change_password
            password_validator_with_no_errors_can_block_create_user
            password_validator_with_no_errors_can_block_reset_password_with_static_token_provider
            password_validator_can_block_change_password
            password_validator_can_block_create_user
            can_create_user_no_password
            can_create_user_add_login
            can_create_user_login_and_add_password
            add_password_fails_if_already_have
            can_create_user_add_remove_login
            can_remove_password
            can_change_password
            can_add_remove_user_claim
            remove_claim_only_affects_user
            can_replace_user_claim
            replace_user_claim_only_affects_user
            change_password_falls_if_password_wrong
            add_dupe_user_name_fails
            add_dupe_email_allowed_by_default
            add_dupe_email_fails_when_unique_email_required
            update_security_stamp_actually_changes
            add_dupe_login_fails
            can_find_by_email
            can_find_users_via_user_queryable
            confirm_email_false_by_default_test
            can_reset_password_with_static_token_provider
            replace_password_sets_a_new_one_in_one_write_or_nothing
            password_validator_can_block_reset_password_with_static_token_provider
            reset_password_with_static_token_provider_fails_with_wrong_token
            can_generate_and_verify_user_token_with_static_token_provider
            can_confirm_email_with_static_token
            confirm_email_with_static_token_fails_with_wrong_token
            confirm_token_fails_after_password_change
            single_failure_lockout
            two_failure_lockout
            reset_access_count_prevents_lockout
            can_enable_lockout_manually_and_lockout
            user_not_locked_out_with_null_date_time_and_is_set_to_null_date
            lockout_fails_if_not_enabled
            lockout_end_to_utc_now_minus1_sec_in_user_should_not_be_locked_out
            lockout_end_to_utc_now_sub_one_second_with_manager_should_not_be_locked_out
            lockout_end_to_utc_now_plus5_should_be_locked_out
            user_locked_out_with_date_time_local_kind_now_plus30
            set_phone_number_test
            can_change_phone_number
            change_phone_number_token_is_int
            change_phone_number_fails_with_wrong_token
            change_phone_number_with_custom_provider
            change_phone_number_fails_with_wrong_phone_number
            can_verify_phone_number
            can_change_email
            can_change_email_only_if_email_same
            can_change_email_with_different_token_provider
            change_email_tokens_fails_after_email_changed
            change_email_fails_with_wrong_token
            change_email_fails_with_email
            email_factor_fails_after_security_stamp_change_test
            enable_two_factor_changes_security_stamp
            generate_two_factor_with_unknown_factor_provider_will_throw
            get_valid_two_factor_test_empty_with_no_providers
            can_get_set_update_and_remove_user_token
            can_redeem_recovery_code_only_once
            recovery_codes_invalid_after_replace
            can_get_valid_two_factor
            phone_factor_fails_after_security_stamp_change_test
            verify_token_from_wrong_token_provider_fails
            verify_with_wrong_sms_token_fails
            nullable_date_time_operation_test
            can_get_users_with_claims
            can_create_role_test
            bad_validator_blocks_create_role
            can_chain_role_validators
            bad_validator_blocks_role_update
            can_delete_role
            can_add_remove_role_claim
            can_role_find_by_id
            can_role_find_by_name
            can_update_role_name
            can_queryable_roles
            create_role_fails_if_exists
            can_add_users_to_role
            can_get_roles_for_user
            remove_user_from_role_with_multiple_roles
            can_remove_users_from_role
            remove_user_not_in_role_fails
            add_user_to_role_fails_if_already_in_role
            add_user_to_roles_ignores_duplicates
            can_find_role_by_name_with_manager
            can_find_role_with_manager
            can_get_users_in_role
            can_add_and_retrieve_passkey
            can_remove_passkey
            can_add_multiple_passkeys
            updating_passkey_changes_only_mutable_fields
            concurrent_updates_will_fail
            concurrent_updates_will_fail_with_detached_user
            delete_a_modified_user_will_fail
            concurrent_role_updates_will_fail
            concurrent_role_updates_will_fail_with_detached_role
            delete_a_modified_role_will_fail
            two_users_same_password_different_hash
            find_by_email_throws_with_two_users_with_same_email
            add_user_to_unknown_role_fails
            delete_role_non_empty_succeeds_test
            delete_user_removes_from_role_test
            delete_user_removes_tokens_test
            load_claims_data_matches_individual_reads
            load_from_db_find_by_id_test
            load_from_db_find_by_name_test
            load_from_db_find_by_login_test
            load_from_db_find_by_email_test
            can_require_confirmed_email_for_password_sign_in
            can_require_confirmed_phone_number_for_password_sign_in
            check_password_sign_in_returns_locked_out_when_locked_out
            check_password_sign_in_locks_out_after_max_failures
            check_password_only_reset_lockout_when_tfa_not_enabled_tfa_disabled
            check_password_only_reset_lockout_when_tfa_not_enabled_tfa_enabled
            check_password_sign_in_fails_when_reset_lockout_fails
            concurrent_access_failed_is_recorded_atomically
            concurrent_failed_sign_ins_are_all_counted
            concurrent_burst_never_signs_in_a_locked_account
            password_sign_in_requires_two_factor
            password_sign_in_finds_users_by_email_only_when_allowed
            two_factor_authenticator_codes_count_toward_lockout
            concurrent_wrong_two_factor_codes_are_all_counted
            two_factor_recovery_code_sign_in_works_once
            concurrent_recovery_code_redemptions_succeed_once
            remembered_two_factor_client_is_forgotten_when_the_stamp_changes
            export_then_import_into_an_empty_store_round_trips_every_row
            importing_the_same_records_again_skips_them_and_changes_nothing
            import_fails_only_the_records_that_conflict
            export_pages_hold_every_user_once_in_id_order
        );
    };
}

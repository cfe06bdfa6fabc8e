//! The tables, hand-written for both backends: EF Core's Identity tables with their exact names
//! and column names, and this crate's `identity_user_extensions`.
//!
//! Column types are the common subset that Diesel's `MultiConnection` supports, except
//! `LockoutEnd` and the passkey `Data`, whose storage differs per provider (see
//! [`crate::sql_types`]). PostgreSQL's `character varying(256)` columns are `Text` here, as
//! Diesel binds text parameters to them unchanged.

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::DateTimeOffset;

    /// `AspNetUsers`.
    #[sql_name = "AspNetUsers"]
    users (id) {
        #[sql_name = "Id"]
        id -> Text,
        #[sql_name = "UserName"]
        user_name -> Nullable<Text>,
        #[sql_name = "NormalizedUserName"]
        normalized_user_name -> Nullable<Text>,
        #[sql_name = "Email"]
        email -> Nullable<Text>,
        #[sql_name = "NormalizedEmail"]
        normalized_email -> Nullable<Text>,
        #[sql_name = "EmailConfirmed"]
        email_confirmed -> Bool,
        #[sql_name = "PasswordHash"]
        password_hash -> Nullable<Text>,
        #[sql_name = "SecurityStamp"]
        security_stamp -> Nullable<Text>,
        #[sql_name = "ConcurrencyStamp"]
        concurrency_stamp -> Nullable<Text>,
        #[sql_name = "PhoneNumber"]
        phone_number -> Nullable<Text>,
        #[sql_name = "PhoneNumberConfirmed"]
        phone_number_confirmed -> Bool,
        #[sql_name = "TwoFactorEnabled"]
        two_factor_enabled -> Bool,
        #[sql_name = "LockoutEnd"]
        lockout_end -> Nullable<DateTimeOffset>,
        #[sql_name = "LockoutEnabled"]
        lockout_enabled -> Bool,
        #[sql_name = "AccessFailedCount"]
        access_failed_count -> Integer,
    }
}

diesel::table! {
    /// `AspNetRoles`.
    #[sql_name = "AspNetRoles"]
    roles (id) {
        #[sql_name = "Id"]
        id -> Text,
        #[sql_name = "Name"]
        name -> Nullable<Text>,
        #[sql_name = "NormalizedName"]
        normalized_name -> Nullable<Text>,
        #[sql_name = "ConcurrencyStamp"]
        concurrency_stamp -> Nullable<Text>,
    }
}

diesel::table! {
    /// `AspNetUserClaims`.
    #[sql_name = "AspNetUserClaims"]
    user_claims (id) {
        #[sql_name = "Id"]
        id -> Integer,
        #[sql_name = "UserId"]
        user_id -> Text,
        #[sql_name = "ClaimType"]
        claim_type -> Nullable<Text>,
        #[sql_name = "ClaimValue"]
        claim_value -> Nullable<Text>,
    }
}

diesel::table! {
    /// `AspNetRoleClaims`.
    #[sql_name = "AspNetRoleClaims"]
    role_claims (id) {
        #[sql_name = "Id"]
        id -> Integer,
        #[sql_name = "RoleId"]
        role_id -> Text,
        #[sql_name = "ClaimType"]
        claim_type -> Nullable<Text>,
        #[sql_name = "ClaimValue"]
        claim_value -> Nullable<Text>,
    }
}

diesel::table! {
    /// `AspNetUserRoles`.
    #[sql_name = "AspNetUserRoles"]
    user_roles (user_id, role_id) {
        #[sql_name = "UserId"]
        user_id -> Text,
        #[sql_name = "RoleId"]
        role_id -> Text,
    }
}

diesel::table! {
    /// `AspNetUserLogins`.
    #[sql_name = "AspNetUserLogins"]
    user_logins (login_provider, provider_key) {
        #[sql_name = "LoginProvider"]
        login_provider -> Text,
        #[sql_name = "ProviderKey"]
        provider_key -> Text,
        #[sql_name = "ProviderDisplayName"]
        provider_display_name -> Nullable<Text>,
        #[sql_name = "UserId"]
        user_id -> Text,
    }
}

diesel::table! {
    /// `AspNetUserTokens`.
    #[sql_name = "AspNetUserTokens"]
    user_tokens (user_id, login_provider, name) {
        #[sql_name = "UserId"]
        user_id -> Text,
        #[sql_name = "LoginProvider"]
        login_provider -> Text,
        #[sql_name = "Name"]
        name -> Text,
        #[sql_name = "Value"]
        value -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::JsonDocument;

    /// `AspNetUserPasskeys` (Identity schema version 3 only).
    #[sql_name = "AspNetUserPasskeys"]
    user_passkeys (credential_id) {
        #[sql_name = "CredentialId"]
        credential_id -> Binary,
        #[sql_name = "UserId"]
        user_id -> Text,
        #[sql_name = "Data"]
        data -> JsonDocument,
    }
}

diesel::table! {
    /// This crate's table for the JSON of a user's [`identity_core::UserExtension`].
    identity_user_extensions (user_id) {
        #[sql_name = "UserId"]
        user_id -> Text,
        #[sql_name = "Data"]
        data -> Text,
    }
}

diesel::joinable!(identity_user_extensions -> users (user_id));
diesel::joinable!(user_claims -> users (user_id));
diesel::joinable!(user_logins -> users (user_id));
diesel::joinable!(user_tokens -> users (user_id));
diesel::joinable!(user_passkeys -> users (user_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(user_roles -> roles (role_id));
diesel::joinable!(role_claims -> roles (role_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    roles,
    user_claims,
    role_claims,
    user_roles,
    user_logins,
    user_tokens,
    user_passkeys,
    identity_user_extensions,
);

DROP INDEX IF EXISTS "identity_IX_AspNetUserClaims_ClaimType_ClaimValue";
DROP TABLE IF EXISTS "identity_user_extensions";

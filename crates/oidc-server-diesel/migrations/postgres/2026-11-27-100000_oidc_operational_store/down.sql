-- Drops the token server's operational tables (and their indexes); the Identity tables are untouched.
DROP TABLE "oidc_signing_keys";
DROP TABLE "oidc_persisted_grants";

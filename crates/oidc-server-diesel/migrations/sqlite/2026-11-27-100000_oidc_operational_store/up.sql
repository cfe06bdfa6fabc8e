-- The token server's operational data. The tables are owned by oidc-server-diesel and can share a
-- database with the Identity tables. Times are UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, whose text
-- order is time order; booleans are 0 or 1.

-- Refresh tokens (and later other one-time grants), keyed by the hash of their handle.
CREATE TABLE "oidc_persisted_grants" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "grant_type" TEXT NOT NULL,
    "subject_id" TEXT,
    "session_id" TEXT,
    "client_id" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "creation_time" TEXT NOT NULL,
    "expiration" TEXT,
    "consumed_time" TEXT,
    "data" TEXT NOT NULL
);
-- Revoking a grant family, a user's grants to a client or of a login session; expiry clean-up.
CREATE INDEX "oidc_persisted_grants_family_id" ON "oidc_persisted_grants" ("family_id");
CREATE INDEX "oidc_persisted_grants_subject_client" ON "oidc_persisted_grants" ("subject_id", "client_id", "grant_type");
CREATE INDEX "oidc_persisted_grants_subject_session" ON "oidc_persisted_grants" ("subject_id", "session_id", "grant_type");
CREATE INDEX "oidc_persisted_grants_expiration" ON "oidc_persisted_grants" ("expiration");

-- Signing keys shared by every server instance.
CREATE TABLE "oidc_signing_keys" (
    "key_id" TEXT NOT NULL PRIMARY KEY,
    "algorithm" TEXT NOT NULL,
    "created" TEXT NOT NULL,
    "data_protected" INTEGER NOT NULL,
    "data" TEXT NOT NULL
);
-- The "is there a newer key of this algorithm" check.
CREATE INDEX "oidc_signing_keys_algorithm_created" ON "oidc_signing_keys" ("algorithm", "created");

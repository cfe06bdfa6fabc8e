-- The token server's operational data. The tables are owned by oidc-server-diesel and can share a
-- database with the Identity tables. Times are `timestamp with time zone`.

-- Refresh tokens (and later other one-time grants), keyed by the hash of their handle.
CREATE TABLE "oidc_persisted_grants" (
    "key" text NOT NULL,
    "grant_type" text NOT NULL,
    "subject_id" text,
    "session_id" text,
    "client_id" text NOT NULL,
    "family_id" text NOT NULL,
    "creation_time" timestamp with time zone NOT NULL,
    "expiration" timestamp with time zone,
    "consumed_time" timestamp with time zone,
    "data" text NOT NULL,
    CONSTRAINT "oidc_persisted_grants_pkey" PRIMARY KEY ("key")
);
-- Revoking a grant family, a user's grants to a client or of a login session; expiry clean-up.
CREATE INDEX "oidc_persisted_grants_family_id" ON "oidc_persisted_grants" ("family_id");
CREATE INDEX "oidc_persisted_grants_subject_client" ON "oidc_persisted_grants" ("subject_id", "client_id", "grant_type");
CREATE INDEX "oidc_persisted_grants_subject_session" ON "oidc_persisted_grants" ("subject_id", "session_id", "grant_type");
CREATE INDEX "oidc_persisted_grants_expiration" ON "oidc_persisted_grants" ("expiration");

-- Signing keys shared by every server instance.
CREATE TABLE "oidc_signing_keys" (
    "key_id" text NOT NULL,
    "algorithm" text NOT NULL,
    "created" timestamp with time zone NOT NULL,
    "data_protected" boolean NOT NULL,
    "data" text NOT NULL,
    CONSTRAINT "oidc_signing_keys_pkey" PRIMARY KEY ("key_id")
);
-- The "is there a newer key of this algorithm" check.
CREATE INDEX "oidc_signing_keys_algorithm_created" ON "oidc_signing_keys" ("algorithm", "created");

-- Server-side sign-in sessions: the session cookie only refers to a row, so ending the row ends
-- the session on every instance. An ended session whose clients are still to be notified
-- (back-channel logout) stays, claimed by one instance at a time, until delivered.
CREATE TABLE "oidc_server_sessions" (
    "session_id" text NOT NULL,
    "subject_id" text NOT NULL,
    "created" timestamp with time zone NOT NULL,
    "renewed" timestamp with time zone NOT NULL,
    "expires" timestamp with time zone NOT NULL,
    "persistent" boolean NOT NULL,
    -- JSON: the subject (idp, amr, auth_time, claims) and the client ids, in first-use order.
    "subject" text NOT NULL,
    "client_ids" text NOT NULL,
    "ended" boolean NOT NULL DEFAULT false,
    "claimed_until" timestamp with time zone,
    "attempts" integer NOT NULL DEFAULT 0,
    CONSTRAINT "oidc_server_sessions_pkey" PRIMARY KEY ("session_id")
);
-- A user's sessions; the expiry clean-up.
CREATE INDEX "oidc_server_sessions_subject_id" ON "oidc_server_sessions" ("subject_id");
CREATE INDEX "oidc_server_sessions_expires" ON "oidc_server_sessions" ("expires");
-- The delivery of ended sessions' logout notifications.
CREATE INDEX "oidc_server_sessions_ended" ON "oidc_server_sessions" ("ended", "claimed_until");

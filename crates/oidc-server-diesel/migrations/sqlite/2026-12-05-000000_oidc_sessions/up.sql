-- Server-side sign-in sessions: the session cookie only refers to a row, so ending the row ends
-- the session on every instance. An ended session whose clients are still to be notified
-- (back-channel logout) stays, claimed by one instance at a time, until delivered. Times as in
-- the first migration; booleans are 0 or 1.
CREATE TABLE "oidc_server_sessions" (
    "session_id" TEXT NOT NULL PRIMARY KEY,
    "subject_id" TEXT NOT NULL,
    "created" TEXT NOT NULL,
    "renewed" TEXT NOT NULL,
    "expires" TEXT NOT NULL,
    "persistent" INTEGER NOT NULL,
    -- JSON: the subject (idp, amr, auth_time, claims) and the client ids, in first-use order.
    "subject" TEXT NOT NULL,
    "client_ids" TEXT NOT NULL,
    "ended" INTEGER NOT NULL DEFAULT 0,
    "claimed_until" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0
);
-- A user's sessions; the expiry clean-up.
CREATE INDEX "oidc_server_sessions_subject_id" ON "oidc_server_sessions" ("subject_id");
CREATE INDEX "oidc_server_sessions_expires" ON "oidc_server_sessions" ("expires");
-- The delivery of ended sessions' logout notifications.
CREATE INDEX "oidc_server_sessions_ended" ON "oidc_server_sessions" ("ended", "claimed_until");

-- Clients defined at run time (`identity-server clients …`), beside those of the configuration
-- file: one row per client, its definition a JSON document in the host's format. Times as in
-- the first migration.
CREATE TABLE "oidc_clients" (
    "client_id" TEXT NOT NULL PRIMARY KEY,
    "document" TEXT NOT NULL,
    "updated" TEXT NOT NULL
);

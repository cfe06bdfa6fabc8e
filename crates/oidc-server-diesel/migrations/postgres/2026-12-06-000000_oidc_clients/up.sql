-- Clients defined at run time (`identity-server clients …`), beside those of the configuration
-- file: one row per client, its definition a JSON document in the host's format.
CREATE TABLE "oidc_clients" (
    "client_id" text NOT NULL,
    "document" text NOT NULL,
    "updated" timestamp with time zone NOT NULL,
    CONSTRAINT "oidc_clients_pkey" PRIMARY KEY ("client_id")
);

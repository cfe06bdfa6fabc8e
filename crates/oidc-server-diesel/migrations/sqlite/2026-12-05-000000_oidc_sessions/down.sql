DROP TABLE "oidc_server_sessions";

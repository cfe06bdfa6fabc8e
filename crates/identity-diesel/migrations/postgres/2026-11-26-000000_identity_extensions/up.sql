-- Objects owned by identity-diesel, next to EF Core's Identity tables (which are never altered).
-- The JSON of a user's custom extension fields; a row exists only when they serialize to non-null.
CREATE TABLE IF NOT EXISTS "identity_user_extensions" (
    "UserId" text NOT NULL,
    "Data" text NOT NULL,
    CONSTRAINT "PK_identity_user_extensions" PRIMARY KEY ("UserId"),
    CONSTRAINT "FK_identity_user_extensions_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
-- Users holding a claim (GetUsersForClaim). A hash index, because a B-tree entry cannot hold an
-- arbitrarily long ClaimValue (text) and would make such inserts fail.
CREATE INDEX IF NOT EXISTS "identity_IX_AspNetUserClaims_ClaimValue" ON "AspNetUserClaims" USING hash ("ClaimValue");

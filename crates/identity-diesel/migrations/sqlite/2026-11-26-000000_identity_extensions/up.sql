-- Objects owned by identity-diesel, next to EF Core's Identity tables (which are never altered).
-- The JSON of a user's custom extension fields; a row exists only when they serialize to non-null.
CREATE TABLE IF NOT EXISTS "identity_user_extensions" (
    "UserId" TEXT NOT NULL CONSTRAINT "PK_identity_user_extensions" PRIMARY KEY,
    "Data" TEXT NOT NULL,
    CONSTRAINT "FK_identity_user_extensions_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
-- Users holding a claim (GetUsersForClaim).
CREATE INDEX IF NOT EXISTS "identity_IX_AspNetUserClaims_ClaimType_ClaimValue" ON "AspNetUserClaims" ("ClaimType", "ClaimValue");

-- One text form for a role grant everywhere: "role" or "role@keyStoreId" (RoleGrant.ToString), as
-- principals.grants and the CLI already write it. Approval requests kept their requester's grants as
-- "role keyStoreId" inside a JSON array; neither role names (lower-case letters, digits, dashes) nor
-- key store ids contain a space, and the JSON is written without whitespace, so every space in the
-- column is a grant's separator.

UPDATE approval_requests SET requester_grants = replace(requester_grants, ' ', '@');

-- Quorum policies and approval requests (issue 7, "M-of-N approvals"; README, "Quorum approvals").
--
-- A policy guards operations; a guarded call becomes a request that runs once required_approvals
-- members of approver_group other than the requester approve it. Each operation is covered by one
-- policy at most (quorum_policy_operations' primary key).

CREATE TABLE quorum_policies (
    name               TEXT NOT NULL PRIMARY KEY,
    required_approvals INTEGER NOT NULL,
    approver_group     TEXT NOT NULL,
    lifetime_seconds   INTEGER NOT NULL,
    updated_at         TEXT NOT NULL,
    updated_by         TEXT NOT NULL        -- caller id
);

CREATE TABLE quorum_policy_operations (
    operation   TEXT NOT NULL PRIMARY KEY,
    policy_name TEXT NOT NULL REFERENCES quorum_policies (name) ON DELETE CASCADE
);

-- The captured call (method, route pattern and values, query, JSON body: guarded calls carry no
-- secrets), the requester as they were, and the target's fingerprint. state moves only by
-- conditional UPDATEs: pending -> approved -> executed, or pending -> denied|cancelled|expired,
-- approved -> void. sealed_result holds an answer with a secret, sealed, until the requester takes it.
CREATE TABLE approval_requests (
    id                 TEXT NOT NULL PRIMARY KEY,
    operation          TEXT NOT NULL,
    policy_name        TEXT NOT NULL,
    required_approvals INTEGER NOT NULL,
    approver_group     TEXT NOT NULL,
    method             TEXT NOT NULL,
    route_pattern      TEXT NOT NULL,
    path               TEXT NOT NULL,
    route_values       TEXT NOT NULL,       -- JSON object of strings
    query              TEXT NOT NULL,
    body               TEXT NULL,
    requester_id       TEXT NOT NULL,
    requester_kind     TEXT NOT NULL,
    requester_name     TEXT NOT NULL,
    requester_grants   TEXT NOT NULL,       -- JSON array of "role" or "role keyStoreId"
    requester_groups   TEXT NOT NULL,       -- JSON array
    requester_token_id TEXT NULL,
    reason             TEXT NULL,
    fingerprint        TEXT NOT NULL,
    state              TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    finished_at        TEXT NULL,
    end_reason         TEXT NULL,
    result_status      INTEGER NULL,
    result_body        TEXT NULL,
    sealed_result      BLOB NULL
);

CREATE INDEX approval_requests_by_state ON approval_requests (state, created_at);

CREATE TABLE approval_votes (
    request_id  TEXT NOT NULL REFERENCES approval_requests (id),
    voter_id    TEXT NOT NULL,
    voter_kind  TEXT NOT NULL,
    voter_name  TEXT NOT NULL,
    approves    INTEGER NOT NULL,
    comment     TEXT NULL,
    voted_at    TEXT NOT NULL,
    PRIMARY KEY (request_id, voter_id)
);

-- Rotation policies and the rotation scheduler's memory (issue 5; docs/design.md, "Lifecycle").
--
-- A policy belongs to a key or to a key store (scope 'key' or 'keystore'); a key's own policy
-- replaces its store's whole. It rotates every interval_days after the last rotation, or at
-- time_of_day (UTC, 'HH:MM') every day or on day_of_week only (0 Sunday .. 6 Saturday), and
-- optionally rotate_before_expiry_days before the current version's deactivates_at.

CREATE TABLE rotation_policies (
    scope                     TEXT NOT NULL,     -- key, keystore
    target_id                 TEXT NOT NULL,     -- keys.id or key_stores.id
    interval_days             INTEGER NULL,
    time_of_day               TEXT NULL,
    day_of_week               INTEGER NULL,
    rotate_before_expiry_days INTEGER NULL,
    updated_at                TEXT NOT NULL,
    updated_by                TEXT NOT NULL,     -- management token id
    PRIMARY KEY (scope, target_id)
);

-- What the scheduler last did for a key, written in the same transaction as the rotation: the due
-- time it answered and the version it rotated away. A rotation claims its row, and the claim fails
-- if that version was already rotated away by the scheduler, so neither two ticks nor two nodes
-- rotate a key twice for one due time; after a restart the scheduler goes on from here.
CREATE TABLE key_rotation_state (
    key_id        TEXT NOT NULL PRIMARY KEY,   -- keys.id (no foreign key, like rotation_policies.target_id)
    last_due_at   TEXT NOT NULL,
    from_version  INTEGER NOT NULL,
    rotated_at    TEXT NOT NULL
);

-- Webhook alerts (README, "Alerts"; issue 5).
--
-- Every lifecycle change is an audit record; the alert dispatcher reads the chain after its cursor
-- (settings row 'alerts.dispatch.cursor') and puts one delivery per matching webhook into
-- alert_deliveries, moving the cursor in the same transaction. The primary key (webhook, record)
-- makes that exactly once even if a batch is read twice. The deliverer then works the outbox:
-- attempts and the next attempt time are stored, so retries carry on after a restart.
--
-- Times are the fixed-width UTC text of 0001_initial.sql, so "due" is a plain text comparison.

CREATE TABLE alert_webhooks (
    id            TEXT NOT NULL PRIMARY KEY,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,       -- comma-separated event types or prefixes; '' = every event
    sealed_secret BLOB NOT NULL,       -- the HMAC secret sealed under the master key; erased on removal
    from_seq      BIGINT NOT NULL,     -- audit head at creation: only later records are its events
    created_at    TEXT NOT NULL,
    created_by    TEXT NULL,
    removed_at    TEXT NULL            -- kept (without secret) so its deliveries still name it
);

CREATE TABLE alert_deliveries (
    webhook_id      TEXT NOT NULL REFERENCES alert_webhooks (id),
    audit_seq       BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,     -- the JSON body, fixed when enqueued
    state           TEXT NOT NULL,     -- pending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NULL,         -- set while pending
    last_attempt_at TEXT NULL,
    last_status     INTEGER NULL,
    last_error      TEXT NULL,
    delivered_at    TEXT NULL,
    PRIMARY KEY (webhook_id, audit_seq)
);

-- The deliverer's question ("what is due?") reads only pending rows.
CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';

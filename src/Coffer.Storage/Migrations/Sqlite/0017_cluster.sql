-- Cluster coordination (docs/cluster.md): the node registry and the leader lease.
--
-- Times here are unix milliseconds on the database's clock (BIGINT), written by the database itself
-- in every statement, never by a node: nodes' clocks may disagree, the database is the one clock they
-- share, and integer milliseconds compare and add the same way on every engine. The PostgreSQL script
-- (Postgres/0017_cluster.sql) is this one, column for column.

-- One row per node id: the process that holds the id now (instance_id, random per start) and what it
-- last reported. A node is live while its heartbeat is younger than Cluster.LivenessMilliseconds;
-- stopped_at is set when it stops gracefully.
CREATE TABLE cluster_nodes (
    node_id        TEXT PRIMARY KEY,
    instance_id    TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    heartbeat_at   BIGINT NOT NULL,
    stopped_at     BIGINT,
    xks_url        TEXT NOT NULL,
    management_url TEXT NOT NULL,
    version        TEXT NOT NULL,
    sealed         INTEGER NOT NULL,          -- 1 sealed, 0 unsealed
    health         TEXT NOT NULL,             -- the software backend's XKS health status
    hsm_health     TEXT                       -- the pkcs11 backend's, null without an HSM
);

-- The leader lease: one row, taken or renewed by one guarded UPDATE (holder is the caller, or the
-- lease has expired). holder_instance is null until a node first leads.
CREATE TABLE cluster_leader (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    holder_node     TEXT,
    holder_instance TEXT,
    acquired_at     BIGINT,
    expires_at      BIGINT NOT NULL
);
INSERT INTO cluster_leader (id, holder_node, holder_instance, acquired_at, expires_at) VALUES (1, NULL, NULL, NULL, 0);

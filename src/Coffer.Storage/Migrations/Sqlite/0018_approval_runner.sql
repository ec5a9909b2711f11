-- Which node process runs an approved request (docs/cluster.md, "What runs only on the leader"): the
-- node id and the instance id of the process that moved it to approved. The leader's sweep marks an
-- approved request interrupted only when that process is gone from the registry or stopped, so a run
-- under way on another node is left alone. Null for requests approved before this was recorded.

ALTER TABLE approval_requests ADD COLUMN run_node TEXT;
ALTER TABLE approval_requests ADD COLUMN run_instance TEXT;

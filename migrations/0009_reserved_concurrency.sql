-- Inbound headroom: batches never use the last `reserved_concurrency` of a
-- workspace's `max_concurrent_calls` slots (always below it, so a batch
-- keeps at least one). 0: batches may use every slot, as before.
ALTER TABLE workspaces ADD COLUMN reserved_concurrency INTEGER NOT NULL DEFAULT 0;

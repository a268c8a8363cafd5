-- The execution engine: per-attempt dispatch/claim markers, leases, and
-- batch counters kept by a trigger so every status change counts exactly once.

-- The attempt number last handed to the queue; a job for attempt N may be
-- claimed only while attempts = N - 1 and dispatched_attempt = N.
ALTER TABLE calls ADD COLUMN dispatched_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN dispatched_at INTEGER;
-- attempts made before the current pass (POST …/retry starts a new pass)
ALTER TABLE calls ADD COLUMN pass_base INTEGER NOT NULL DEFAULT 0;
-- epoch ms at which a waiting call is next due; 0 = a first attempt, due as soon as the batch runs
ALTER TABLE calls ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN provider_call_id TEXT;
-- epoch ms after which an active call with no final status is resolved as failed
ALTER TABLE calls ADD COLUMN lease_expires_at INTEGER;

-- Callbacks and window-deferred calls only (first attempts have due_at = 0),
-- so intake's bulk insert pays nothing for this index.
CREATE INDEX calls_due ON calls(batch_id, due_at) WHERE status = 'waiting' AND due_at > 0;
CREATE INDEX calls_active ON calls(batch_id, lease_expires_at) WHERE status = 'active';
CREATE INDEX calls_dispatched ON calls(batch_id, dispatched_at) WHERE status = 'waiting' AND dispatched_attempt > attempts;
CREATE INDEX calls_recent ON calls(batch_id, end_time) WHERE end_time IS NOT NULL;

ALTER TABLE batches ADD COLUMN pass INTEGER NOT NULL DEFAULT 1;

CREATE TRIGGER calls_status_counters AFTER UPDATE OF status ON calls
WHEN OLD.status != NEW.status
BEGIN
  UPDATE batches SET
    waiting_count   = waiting_count   - (OLD.status = 'waiting')   + (NEW.status = 'waiting'),
    active_count    = active_count    - (OLD.status = 'active')    + (NEW.status = 'active'),
    completed_count = completed_count - (OLD.status = 'completed') + (NEW.status = 'completed'),
    failed_count    = failed_count    - (OLD.status = 'failed')    + (NEW.status = 'failed'),
    cancelled_count = cancelled_count - (OLD.status = 'cancelled') + (NEW.status = 'cancelled'),
    total_duration_ms = total_duration_ms
      + CASE WHEN NEW.status = 'completed' THEN CAST(coalesce(NEW.duration, 0) * 1000 AS INTEGER) ELSE 0 END
      - CASE WHEN OLD.status = 'completed' THEN CAST(coalesce(OLD.duration, 0) * 1000 AS INTEGER) ELSE 0 END,
    last_completed_time = CASE
      WHEN NEW.status IN ('completed', 'failed') AND NEW.end_time IS NOT NULL
        THEN max(coalesce(last_completed_time, 0), NEW.end_time)
      ELSE last_completed_time END
  WHERE id = NEW.batch_id;
END;

-- A batch may be a draft (uploaded with start=false): validated, stored and
-- counted, nothing dialled until POST …/start. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with 'draft' allowed: every
-- row and column is copied as it is (no data is dropped with the old table),
-- then its indexes are made again. Nothing references batches, so no foreign
-- key is touched; the copy runs in the migration's own transaction.
CREATE TABLE batches_next (
  id                    TEXT PRIMARY KEY,
  workspace_id          TEXT NOT NULL REFERENCES workspaces(id),
  agent_id              TEXT NOT NULL,
  name                  TEXT,
  status                TEXT NOT NULL CHECK (status IN ('preparing', 'draft', 'queued', 'processing', 'paused', 'completed', 'cancelled', 'failed')),
  total_calls           INTEGER NOT NULL DEFAULT 0,
  duplicates_removed    INTEGER NOT NULL DEFAULT 0,
  suppressed            INTEGER NOT NULL DEFAULT 0,
  invalid_rows          INTEGER NOT NULL DEFAULT 0,
  -- the summary the batch's object writes (see 0003)
  waiting_count         INTEGER NOT NULL DEFAULT 0,
  active_count          INTEGER NOT NULL DEFAULT 0,
  completed_count       INTEGER NOT NULL DEFAULT 0,
  failed_count          INTEGER NOT NULL DEFAULT 0,
  cancelled_count       INTEGER NOT NULL DEFAULT 0,
  total_duration_ms     INTEGER NOT NULL DEFAULT 0,
  scheduled_at          TEXT,
  smart_callback_config TEXT,
  calling_window        TEXT,
  max_concurrent_calls  INTEGER,
  default_country       TEXT NOT NULL,
  -- normalised CSV header, in file order
  columns               TEXT NOT NULL,
  csv_key               TEXT NOT NULL,
  created_at            TEXT NOT NULL,
  start_time            INTEGER,
  last_completed_time   INTEGER,
  completed_time        INTEGER,
  pass                  INTEGER NOT NULL DEFAULT 1,
  summary_version       INTEGER NOT NULL DEFAULT 0,
  control_at            INTEGER,
  outcomes              TEXT,
  dispositions          TEXT,
  file_name             TEXT,
  stop_rules            TEXT,
  paused_reason         TEXT,
  pre_dial_url          TEXT,
  pre_dial_on_error     TEXT
);

INSERT INTO batches_next (
  id, workspace_id, agent_id, name, status, total_calls, duplicates_removed, suppressed, invalid_rows,
  waiting_count, active_count, completed_count, failed_count, cancelled_count, total_duration_ms,
  scheduled_at, smart_callback_config, calling_window, max_concurrent_calls, default_country, columns, csv_key,
  created_at, start_time, last_completed_time, completed_time, pass, summary_version, control_at, outcomes,
  dispositions, file_name, stop_rules, paused_reason, pre_dial_url, pre_dial_on_error
)
SELECT
  id, workspace_id, agent_id, name, status, total_calls, duplicates_removed, suppressed, invalid_rows,
  waiting_count, active_count, completed_count, failed_count, cancelled_count, total_duration_ms,
  scheduled_at, smart_callback_config, calling_window, max_concurrent_calls, default_country, columns, csv_key,
  created_at, start_time, last_completed_time, completed_time, pass, summary_version, control_at, outcomes,
  dispositions, file_name, stop_rules, paused_reason, pre_dial_url, pre_dial_on_error
FROM batches;

DROP TABLE batches;
ALTER TABLE batches_next RENAME TO batches;

CREATE INDEX batches_workspace ON batches(workspace_id, created_at DESC);
CREATE INDEX batches_preparing ON batches(status, created_at) WHERE status = 'preparing';
CREATE INDEX batches_control_marked ON batches(control_at) WHERE control_at IS NOT NULL;

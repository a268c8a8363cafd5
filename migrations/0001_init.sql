-- Tenancy: workspaces own keys, agents, batches and a do-not-call list.
CREATE TABLE workspaces (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  calls_per_second     INTEGER NOT NULL DEFAULT 1,
  max_concurrent_calls INTEGER NOT NULL DEFAULT 10,
  webhook_url          TEXT,
  -- AES-GCM ciphertext (SECRETS_ENCRYPTION_KEY); the plain secret is never stored.
  webhook_secret_enc   TEXT NOT NULL,
  timezone             TEXT,
  created_at           TEXT NOT NULL
);

-- Only a SHA-256 of the key's secret part is stored; the key id is its lookup handle.
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  secret_hash  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  revoked_at   TEXT
);
CREATE INDEX api_keys_workspace ON api_keys(workspace_id);

CREATE TABLE agents (
  id           TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name         TEXT NOT NULL,
  provider     TEXT NOT NULL CHECK (provider IN ('simulated', 'twilio', 'webhook')),
  from_number  TEXT,
  voice_url    TEXT,
  dial_url     TEXT,
  created_at   TEXT NOT NULL,
  deleted_at   TEXT
);
CREATE INDEX agents_workspace ON agents(workspace_id, created_at);

-- 'preparing' batches are uploads still being written: no read path shows them,
-- and the cron sweep deletes any whose request died part-way.
CREATE TABLE batches (
  id                    TEXT PRIMARY KEY,
  workspace_id          TEXT NOT NULL REFERENCES workspaces(id),
  agent_id              TEXT NOT NULL,
  name                  TEXT,
  status                TEXT NOT NULL CHECK (status IN ('preparing', 'queued', 'processing', 'paused', 'completed', 'cancelled', 'failed')),
  total_calls           INTEGER NOT NULL DEFAULT 0,
  duplicates_removed    INTEGER NOT NULL DEFAULT 0,
  suppressed            INTEGER NOT NULL DEFAULT 0,
  invalid_rows          INTEGER NOT NULL DEFAULT 0,
  -- counters kept by every call transition, so /status never scans calls
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
  -- normalised CSV header, in file order; calls.metadata holds values in this order
  columns               TEXT NOT NULL,
  csv_key               TEXT NOT NULL,
  created_at            TEXT NOT NULL,
  start_time            INTEGER,
  last_completed_time   INTEGER,
  completed_time        INTEGER
);
CREATE INDEX batches_workspace ON batches(workspace_id, created_at DESC);
CREATE INDEX batches_preparing ON batches(status, created_at) WHERE status = 'preparing';

-- One row per recipient. The call id is derived: call_<batch suffix>_<seq>.
CREATE TABLE calls (
  batch_id        TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  phone_number    TEXT NOT NULL,
  -- every CSV value of the row, verbatim, as a JSON array aligned with batches.columns
  metadata        TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'active', 'completed', 'failed', 'cancelled')),
  outcome         TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  start_time      INTEGER,
  end_time        INTEGER,
  duration        INTEGER,
  error           TEXT,
  PRIMARY KEY (batch_id, seq)
) WITHOUT ROWID;
-- No secondary index covers every row: intake writes ~200k rows in one go,
-- and each index would be another B-tree to fill. Reads page by the primary
-- key; the engine's lookups use partial indexes over the few rows they need.

CREATE TABLE idempotency_keys (
  workspace_id    TEXT NOT NULL,
  key             TEXT NOT NULL,
  request_hash    TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('running', 'done')),
  response_status INTEGER,
  response_body   TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key)
);

CREATE TABLE dnc (
  workspace_id TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (workspace_id, phone_number)
) WITHOUT ROWID;

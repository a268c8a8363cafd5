/**
 * The ledger's schema, as one ordered list of migrations the ledger applies
 * every time its object starts. Each step is idempotent (IF NOT EXISTS, or a
 * check of the table's columns first), so no version row is kept: a start
 * on a current ledger runs the same statements and writes no row.
 */

/** A step of the ledger's schema: safe to apply again to a ledger that already has it. */
export type Migration = { name: string; apply: (sql: SqlStorage) => void };

const TABLES = `
CREATE TABLE IF NOT EXISTS calls (
  seq                INTEGER PRIMARY KEY,
  phone_number       TEXT NOT NULL,
  metadata           TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'waiting',
  outcome            TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    TEXT,
  start_time         INTEGER,
  end_time           INTEGER,
  duration           REAL,
  error              TEXT,
  dispatched_attempt INTEGER NOT NULL DEFAULT 0,
  dispatched_at      INTEGER,
  pass_base          INTEGER NOT NULL DEFAULT 0,
  due_at             INTEGER NOT NULL DEFAULT 0,
  provider_call_id   TEXT,
  lease_expires_at   INTEGER,
  -- 1 once the active attempt's dial is confirmed (the provider answered, or a report came)
  dial_confirmed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_due ON calls(due_at) WHERE status = 'waiting' AND due_at > 0;
CREATE INDEX IF NOT EXISTS calls_active ON calls(lease_expires_at) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS calls_dispatched ON calls(dispatched_at) WHERE status = 'waiting' AND dispatched_attempt > attempts;
CREATE INDEX IF NOT EXISTS calls_recent ON calls(end_time) WHERE end_time IS NOT NULL;
-- For /calls?status=… pages only. Without statistics the planner would also pick it
-- for the scheduler's queries and scan every waiting call, so those name their index.
CREATE INDEX IF NOT EXISTS calls_by_status ON calls(status, seq);
CREATE TABLE IF NOT EXISTS batch (
  id                  INTEGER PRIMARY KEY CHECK (id = 1),
  status              TEXT NOT NULL,
  pass                INTEGER NOT NULL DEFAULT 1,
  total_calls         INTEGER NOT NULL DEFAULT 0,
  waiting_count       INTEGER NOT NULL DEFAULT 0,
  active_count        INTEGER NOT NULL DEFAULT 0,
  completed_count     INTEGER NOT NULL DEFAULT 0,
  failed_count        INTEGER NOT NULL DEFAULT 0,
  cancelled_count     INTEGER NOT NULL DEFAULT 0,
  total_duration_ms   INTEGER NOT NULL DEFAULT 0,
  start_time          INTEGER,
  last_completed_time INTEGER,
  completed_time      INTEGER,
  version             INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS calls_status_counters AFTER UPDATE OF status ON calls
WHEN OLD.status != NEW.status
BEGIN
  UPDATE batch SET
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
      ELSE last_completed_time END,
    version = version + 1;
END;
-- Jobs marked dispatched but not yet confirmed sent: the next tick sends them first.
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, attempt INTEGER NOT NULL);
-- Limiter leases freed here but not yet handed back: returned with the next limiter call.
CREATE TABLE IF NOT EXISTS releases (lease TEXT PRIMARY KEY);
`;

/** The ledger's schema, oldest step first. Append new steps; never edit or reorder a landed one. */
export const MIGRATIONS: readonly Migration[] = [
  // The tables as they are now: a new ledger gets every column here, so later steps find nothing to do.
  { name: "tables, indexes and the counters' trigger", apply: (sql) => sql.exec(TABLES) },
  {
    name: "calls.dial_confirmed",
    apply: (sql) => {
      // Ledgers created before dial confirmation was recorded gain the column (their active calls count as confirmed).
      const cols = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('calls')").toArray();
      if (!cols.some((c) => c.name === "dial_confirmed")) sql.exec("ALTER TABLE calls ADD COLUMN dial_confirmed INTEGER NOT NULL DEFAULT 1");
    },
  },
];

/** Brings a ledger's schema up to date: every step, in order. */
export function migrate(sql: SqlStorage): void {
  for (const m of MIGRATIONS) m.apply(sql);
}

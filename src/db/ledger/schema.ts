/**
 * The ledger's schema, as one ordered list of migrations the ledger applies
 * every time its object starts. Each step is idempotent (IF NOT EXISTS, or a
 * check of the table's columns first), so no version row is kept: a start
 * on a current ledger runs the same statements and writes no row.
 */

import { addColumn, LEAN_STEPS } from "./schema-lean";

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
  dial_confirmed     INTEGER NOT NULL DEFAULT 0,
  -- the latest disposition an agent reported, and the attempt whose result the call shows
  disposition         TEXT,
  result_attempt      INTEGER,
  requested_callbacks INTEGER NOT NULL DEFAULT 0,
  opted_out           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_due ON calls(due_at) WHERE status = 'waiting' AND due_at > 0;
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
  version             INTEGER NOT NULL DEFAULT 0,
  outcome_answered           INTEGER NOT NULL DEFAULT 0,
  outcome_voicemail          INTEGER NOT NULL DEFAULT 0,
  outcome_no_answer          INTEGER NOT NULL DEFAULT 0,
  outcome_busy               INTEGER NOT NULL DEFAULT 0,
  outcome_failed             INTEGER NOT NULL DEFAULT 0,
  outcome_canceled           INTEGER NOT NULL DEFAULT 0,
  outcome_callback_requested INTEGER NOT NULL DEFAULT 0
);
-- Jobs marked dispatched but not yet confirmed sent: the next tick sends them first.
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, attempt INTEGER NOT NULL);
-- Limiter leases freed here but not yet handed back: returned with the next limiter call.
CREATE TABLE IF NOT EXISTS releases (lease TEXT PRIMARY KEY);
`;

/** Calls by their current outcome: one counter column of the batch row per outcome. */
export const OUTCOME_COUNTERS = ["answered", "voicemail", "no_answer", "busy", "failed", "canceled", "callback_requested"] as const;

const counterDelta = (o: string) => `outcome_${o} = outcome_${o} - (OLD.outcome IS '${o}') + (NEW.outcome IS '${o}')`;

/**
 * The agent's side of a call: each attempt's merged result, each finished
 * attempt's history, the counters of dispositions, the data field names
 * seen (export columns), and opt-outs recorded but not yet carried to the
 * workspace's do-not-call list. The counters' trigger now also counts calls
 * by outcome, in the same UPDATE of the batch row (no extra row written).
 */
const RESULTS = `
CREATE TABLE IF NOT EXISTS results (
  seq            INTEGER NOT NULL,
  attempt        INTEGER NOT NULL,
  disposition    TEXT,
  summary        TEXT,
  sentiment      TEXT,
  data           TEXT,
  transcript_key TEXT,
  recording_url  TEXT,
  callback_at    INTEGER,
  -- what became of callback_at: pending (the attempt is still on), scheduled, or ignored
  callback_state TEXT,
  opt_out        INTEGER NOT NULL DEFAULT 0,
  received_at    INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  revision       INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (seq, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attempt_log (
  seq              INTEGER NOT NULL,
  attempt          INTEGER NOT NULL,
  from_number      TEXT,
  start_time       INTEGER,
  end_time         INTEGER,
  outcome          TEXT NOT NULL,
  duration         REAL,
  error            TEXT,
  provider_call_id TEXT,
  PRIMARY KEY (seq, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS disposition_counts (label TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS data_fields (name TEXT PRIMARY KEY, ord INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS optouts (seq INTEGER NOT NULL, attempt INTEGER NOT NULL, phone TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (seq, attempt)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calls_by_disposition ON calls(disposition, seq) WHERE disposition IS NOT NULL;
DROP TRIGGER IF EXISTS calls_status_counters;
CREATE TRIGGER IF NOT EXISTS calls_counters AFTER UPDATE OF status, outcome ON calls
WHEN OLD.status IS NOT NEW.status OR OLD.outcome IS NOT NEW.outcome
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
    ${OUTCOME_COUNTERS.map(counterDelta).join(",\n    ")},
    version = version + 1;
END;
CREATE TRIGGER IF NOT EXISTS calls_disposition_counters AFTER UPDATE OF disposition ON calls
WHEN OLD.disposition IS NOT NEW.disposition
BEGIN
  UPDATE disposition_counts SET n = n - 1 WHERE label = OLD.disposition;
  INSERT INTO disposition_counts (label, n) SELECT NEW.disposition, 1 WHERE NEW.disposition IS NOT NULL
    ON CONFLICT (label) DO UPDATE SET n = n + 1;
  UPDATE batch SET version = version + 1;
END;
`;

/** The ledger's schema, oldest step first. Append new steps; never edit or reorder a landed one. */
export const MIGRATIONS: readonly Migration[] = [
  // The tables as they are now: a new ledger gets every column here, so later steps find nothing to do.
  { name: "tables and indexes", apply: (sql) => sql.exec(TABLES) },
  {
    name: "calls.dial_confirmed",
    apply: (sql) => {
      // Ledgers created before dial confirmation was recorded gain the column (their active calls count as confirmed).
      const cols = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('calls')").toArray();
      if (!cols.some((c) => c.name === "dial_confirmed")) sql.exec("ALTER TABLE calls ADD COLUMN dial_confirmed INTEGER NOT NULL DEFAULT 1");
    },
  },
  {
    name: "agent results, attempt history, outcome and disposition counters",
    apply: (sql) => {
      for (const [col, type] of [
        ["disposition", "TEXT"],
        ["result_attempt", "INTEGER"],
        ["requested_callbacks", "INTEGER NOT NULL DEFAULT 0"],
        ["opted_out", "INTEGER NOT NULL DEFAULT 0"],
      ]) {
        addColumn(sql, "calls", col!, type!);
      }
      let added = false;
      for (const o of OUTCOME_COUNTERS) added = addColumn(sql, "batch", `outcome_${o}`, "INTEGER NOT NULL DEFAULT 0") || added;
      // A ledger made before outcomes were counted: count its calls once, before the trigger keeps them.
      if (added) {
        sql.exec(`UPDATE batch SET ${OUTCOME_COUNTERS.map((o) => `outcome_${o} = (SELECT count(*) FROM calls WHERE outcome = '${o}')`).join(", ")}`);
      }
      sql.exec(RESULTS);
    },
  },
  {
    name: "number pools, several numbers per recipient, wait reasons",
    apply: (sql) => {
      // numbers: JSON array of the recipient's numbers, phone_number first (NULL: phone_number only).
      // dial_to / dial_from: the number the current attempt calls (NULL: phone_number) and the caller ID it uses.
      // wait_reason: why a waiting call is held past its time (contact_policy, no_enabled_number, …), else NULL.
      for (const [col, type] of [
        ["numbers", "TEXT"],
        ["dial_to", "TEXT"],
        ["dial_from", "TEXT"],
        ["wait_reason", "TEXT"],
      ]) {
        addColumn(sql, "calls", col!, type!);
      }
      addColumn(sql, "attempt_log", "to_number", "TEXT");
      // What a freed lease's attempt did (0 no call, 1 ended, 2 ended answered): the limiter counts it in its caller ID's health.
      addColumn(sql, "releases", "answered", "INTEGER NOT NULL DEFAULT 0");
    },
  },
  {
    name: "stop rules: why a batch paused, its own pauses announced, the window of finished attempts",
    apply: (sql) => {
      // paused_reason: manual, failure_rate, voicemail_rate (null unless paused). auto_pauses counts the pauses the
      // batch's own rules made; pauses_announced, those a batch.paused event was handed over for.
      for (const [col, type] of [
        ["paused_reason", "TEXT"],
        ["auto_pauses", "INTEGER NOT NULL DEFAULT 0"],
        ["pauses_announced", "INTEGER NOT NULL DEFAULT 0"],
        ["window_n", "INTEGER NOT NULL DEFAULT 0"],
      ]) {
        addColumn(sql, "batch", col!, type!);
      }
      // The last finished attempts' outcomes, a ring of the rules' window (slot = n mod window): written only with stop rules.
      sql.exec("CREATE TABLE IF NOT EXISTS stop_window (slot INTEGER PRIMARY KEY, outcome TEXT NOT NULL)");
    },
  },
  {
    name: "test calls: one call of a draft or paused batch to the operator, outside the calls table and its counters",
    apply: (sql) => {
      // seq: TEST_SEQ_BASE + n. row_number: the batch's call whose variables it used (metadata: that call's values).
      // result: the agent's merged result (a StoredResult as JSON), or NULL.
      sql.exec(`CREATE TABLE IF NOT EXISTS test_calls (
        seq INTEGER PRIMARY KEY, row_number INTEGER NOT NULL, to_number TEXT NOT NULL, from_number TEXT,
        metadata TEXT NOT NULL, variables TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT,
        start_time INTEGER NOT NULL, end_time INTEGER, duration REAL, error TEXT, provider_call_id TEXT, result TEXT
      )`);
    },
  },
  {
    name: "appended rows: each append's key and what it added",
    apply: (sql) => {
      // One row per POST …/rows that committed: an append whose key is here (a retry, a second delivery) adds nothing and answers these counts.
      sql.exec(
        `CREATE TABLE IF NOT EXISTS appends (key TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, added INTEGER NOT NULL,
           duplicates INTEGER NOT NULL, suppressed INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID`,
      );
    },
  },
  {
    name: "budget: billed minutes and finished attempts on the batch row, kept by the counters trigger",
    apply: (sql) => {
      // Billed minutes of a duration (seconds): rounded up to whole minutes, 0 without one (domain/budget's billedMinutes).
      const billed = (d: string) => `CASE WHEN ${d} > 0 THEN CAST(${d} / 60.0 AS INTEGER) + (${d} / 60.0 > CAST(${d} / 60.0 AS INTEGER)) ELSE 0 END`;
      let added = false;
      for (const col of ["billed_minutes", "attempts_ended"]) added = addColumn(sql, "batch", col, "INTEGER NOT NULL DEFAULT 0") || added;
      // A ledger made before the budget: its finished attempts counted once, from their history, before the trigger keeps them.
      if (added) {
        const ended = "FROM attempt_log WHERE start_time IS NOT NULL AND end_time IS NOT NULL";
        sql.exec(`UPDATE batch SET attempts_ended = (SELECT count(*) ${ended}), billed_minutes = (SELECT coalesce(sum(${billed("duration")}), 0) ${ended})`);
      }
      // Replaced only while its stored SQL lacks the budget: a start on a current ledger reads sqlite_master and writes nothing.
      const stored = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'calls_counters'").toArray()[0];
      if (stored?.sql.includes("billed_minutes")) return;
      // A real attempt's end: the call leaves 'active' with its start and end set (finish(); cancelClaimed and unclaim clear start_time).
      // Same UPDATE of the batch row as every other counter: no extra row written per call.
      const end = "(OLD.status = 'active' AND NEW.status != 'active' AND NEW.start_time IS NOT NULL AND NEW.end_time IS NOT NULL)";
      // The trigger as RESULTS makes it, with the budget's two counters added to its one UPDATE.
      const from = RESULTS.indexOf("CREATE TRIGGER IF NOT EXISTS calls_counters");
      const counters = RESULTS.slice(from, RESULTS.indexOf("END;", from) + "END;".length);
      const budget = `attempts_ended = attempts_ended + ${end},\n    billed_minutes = billed_minutes + CASE WHEN ${end} THEN ${billed("NEW.duration")} ELSE 0 END,`;
      sql.exec(`DROP TRIGGER IF EXISTS calls_counters; ${counters.replace("version = version + 1;", `${budget}\n    version = version + 1;`)}`);
    },
  },
  // Fewer rows written per call (issue 20): ledger/schema-lean.ts.
  ...LEAN_STEPS,
];

/** Brings a ledger's schema up to date: every step, in order. */
export function migrate(sql: SqlStorage): void {
  for (const m of MIGRATIONS) m.apply(sql);
}

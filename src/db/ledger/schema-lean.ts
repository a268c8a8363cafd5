/**
 * The ledger's steps that cut the rows written per call (Cloudflare bills a
 * Durable Object's SQLite by rows written, each index entry an UPDATE
 * re-inserts included): indexes only the rows that need them enter, the
 * outbox a row per slice, and what an attempt's end owes (its limiter
 * lease, its place among the calls that ended last) carried by the
 * counters trigger's one UPDATE of the batch row, already paid for.
 * Part of MIGRATIONS (schema.ts), in order; each is safe to apply again.
 */
import type { Migration } from "./schema";

/** The calls that ended last the batch row keeps (recentCallExcerpts shows the last of them by end time). */
export const RECENT_KEPT = 20;

/** Adds `column` to `table` unless it is there; true if it was added. */
export function addColumn(sql: SqlStorage, table: string, column: string, type: string): boolean {
  const cols = sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray();
  if (cols.some((c) => c.name === column)) return false;
  sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  return true;
}

/**
 * Adds `assignment` (ending in a comma) to the SET of the counters
 * trigger's UPDATE of the batch row, unless its stored SQL already has
 * `marker`: a start on a current ledger reads sqlite_master and writes nothing.
 */
function extendCounters(sql: SqlStorage, marker: string, assignment: string): void {
  const stored = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'calls_counters'").toArray()[0];
  if (!stored || stored.sql.includes(marker)) return;
  sql.exec(`DROP TRIGGER IF EXISTS calls_counters; ${stored.sql.replace("version = version + 1;", `${assignment}\n    version = version + 1;`)}`);
}

export const LEAN_STEPS: readonly Migration[] = [
  {
    name: "fewer rows written per call: no status index, no index of the active calls, the outbox a row per slice",
    apply: (sql) => {
      // SQLite bills each index entry an UPDATE re-inserts as a row written. calls_by_status took one at every
      // transition (/calls?status= pages now walk the key); calls_active one at every claim and again when the
      // dial was confirmed (it was keyed by the lease, which that moves): the ledger watches its active calls
      // itself (ledger/in-flight.ts). (The first step no longer makes either; a ledger that has them loses them here.)
      sql.exec(`DROP INDEX IF EXISTS calls_by_status;
        DROP INDEX IF EXISTS calls_active;
        CREATE TABLE IF NOT EXISTS outbox_slices (id INTEGER PRIMARY KEY, jobs TEXT NOT NULL);`);
      // Jobs an older ledger left in its one-row-per-job outbox: one slice, which the next tick sends.
      if (sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0) {
        sql.exec("INSERT INTO outbox_slices (jobs) SELECT json_group_array(json_array(seq, attempt)) FROM outbox; DELETE FROM outbox;");
      }
    },
  },
  {
    name: "an attempt's end names its limiter lease in the batch row, in the counters trigger's one UPDATE",
    apply: (sql) => {
      // ended_leases: JSON array of [seq, attempt] of attempts that ended and whose lease is not yet handed back.
      addColumn(sql, "batch", "ended_leases", "TEXT NOT NULL DEFAULT '[]'");
      // A real attempt's end, as the budget counts it: the lease it held is free. A releases row per call (a row
      // and its key's index entry, then its delete) cost 3 rows written; the batch row is written here anyway.
      const end = "(OLD.status = 'active' AND NEW.status != 'active' AND NEW.start_time IS NOT NULL AND NEW.end_time IS NOT NULL)";
      const ended = `ended_leases = CASE WHEN ${end} THEN json_insert(ended_leases, '$[#]', json_array(NEW.seq, NEW.attempts)) ELSE ended_leases END,`;
      extendCounters(sql, "ended_leases =", ended);
    },
  },
  {
    name: "the calls that ended last, kept in the batch row by the counters trigger instead of an index on end_time",
    apply: (sql) => {
      // recent: JSON array of the seqs of the last RECENT_KEPT calls to end, oldest first (a seq may appear twice).
      if (addColumn(sql, "batch", "recent", "TEXT NOT NULL DEFAULT '[]'")) {
        sql.exec(`UPDATE batch SET recent = (SELECT json_group_array(seq) FROM
          (SELECT seq, end_time FROM (SELECT seq, end_time FROM calls WHERE end_time IS NOT NULL ORDER BY end_time DESC LIMIT ${RECENT_KEPT}) ORDER BY end_time))`);
      }
      // And no index on dispatched attempts (each dispatch entered it): the ledger keeps them in memory (ledger/in-flight.ts).
      sql.exec("DROP INDEX IF EXISTS calls_recent; DROP INDEX IF EXISTS calls_dispatched");
      // Every call that leaves a status with an end time (finished, or waiting for its callback) joins the ring.
      const appended = "json_insert(recent, '$[#]', NEW.seq)";
      const ring = `recent = CASE WHEN NEW.end_time IS NOT NULL AND NEW.status != 'active'
      THEN CASE WHEN json_array_length(recent) >= ${RECENT_KEPT} THEN json_remove(${appended}, '$[0]') ELSE ${appended} END
      ELSE recent END,`;
      extendCounters(sql, "recent =", ring);
    },
  },
];

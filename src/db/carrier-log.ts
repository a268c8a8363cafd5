/**
 * The simulated carrier's memory, in its object's own SQLite: every call
 * it accepted (as a real provider's call log, asked when a dial's fate is
 * unknown), the status reports it still owes the batch, each due at a
 * time, and the results its simulated agent still has to post. Reports
 * and results survive restarts.
 */
export type OwedReport = { id: number; event: string };

/** A result the simulated agent owes: its body (the POST's JSON) and how many posts of it failed. */
export type OwedResult = { batch_id: string; seq: number; attempt: number; body: string; tries: number };

// A result's `due` stays NULL until its attempt's final report is delivered: a
// real agent's post-call webhook comes after the call ends, and so does this one.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, due INTEGER NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dials (seq INTEGER NOT NULL, attempt INTEGER NOT NULL, provider_call_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (seq, attempt));
CREATE TABLE IF NOT EXISTS results (seq INTEGER NOT NULL, attempt INTEGER NOT NULL, batch_id TEXT NOT NULL, body TEXT NOT NULL,
  due INTEGER, tries INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (seq, attempt));
CREATE INDEX IF NOT EXISTS results_due ON results (due) WHERE due IS NOT NULL;
`;

export class CarrierLog {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** The provider call id placed for this attempt, if the carrier ever accepted one. */
  placement(seq: number, attempt: number): string | null {
    return this.sql.exec<{ id: string }>("SELECT provider_call_id AS id FROM dials WHERE seq = ? AND attempt = ?", seq, attempt).toArray()[0]?.id ?? null;
  }

  /**
   * Records a slice's dials in one statement; returns the `seq:attempt` of those placed now. An
   * attempt already placed is left out (a repeat is the same call). One statement per slice, not
   * per call: the carrier shares the local thread with the service it stands in for.
   */
  recordDials(dials: { seq: number; attempt: number; providerCallId: string }[], at: number): Set<string> {
    const rows = this.sql
      .exec<{ seq: number; attempt: number }>(
        `INSERT OR IGNORE INTO dials (seq, attempt, provider_call_id, at)
           SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, ?2 FROM json_each(?1) AS j RETURNING seq, attempt`,
        JSON.stringify(dials.map((d) => [d.seq, d.attempt, d.providerCallId])),
        at,
      )
      .toArray();
    return new Set(rows.map((r) => `${r.seq}:${r.attempt}`));
  }

  /** Reports owed, each due at its time (one statement). */
  owe(reports: { due: number; event: string }[]): void {
    if (reports.length === 0) return;
    this.sql.exec(
      "INSERT INTO events (due, event) SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?) AS j",
      JSON.stringify(reports.map((r) => [r.due, r.event])),
    );
  }

  /** Results to post once their attempts' final reports are delivered (one statement). */
  oweResults(results: { batchId: string; seq: number; attempt: number; body: string }[]): void {
    if (results.length === 0) return;
    this.sql.exec(
      "INSERT OR IGNORE INTO results (seq, attempt, batch_id, body) SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 FROM json_each(?) AS j",
      JSON.stringify(results.map((r) => [r.seq, r.attempt, r.batchId, r.body])),
    );
  }

  /** The next time anything is owed: a report, or a result whose final is delivered. */
  earliestDue(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(t) AS t FROM (SELECT min(due) AS t FROM events UNION ALL SELECT min(due) FROM results)").one().t;
  }

  /** Reports due by `now`, oldest first. */
  due(now: number, limit: number): OwedReport[] {
    return this.sql.exec<OwedReport>("SELECT id, event FROM events WHERE due <= ? ORDER BY due, id LIMIT ?", now, limit).toArray();
  }

  /** These reports were delivered; their attempts' results (if any) may go from `now`. Two statements for them all. */
  delivered(reports: { id: number; seq: number; attempt: number }[], now: number): void {
    if (reports.length === 0) return;
    this.sql.exec("DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(reports.map((r) => r.id)));
    this.sql.exec(
      `UPDATE results SET due = ?1 WHERE due IS NULL
         AND (seq, attempt) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?2) AS j)`,
      now,
      JSON.stringify(reports.map((r) => [r.seq, r.attempt])),
    );
  }

  /** Results whose finals are delivered and whose time has come, oldest first. */
  resultsDue(now: number, limit: number): OwedResult[] {
    return this.sql
      .exec<OwedResult>("SELECT batch_id, seq, attempt, body, tries FROM results WHERE due IS NOT NULL AND due <= ? ORDER BY due LIMIT ?", now, limit)
      .toArray();
  }

  /** Posted (or refused for good): owed no more. */
  resultDone(seq: number, attempt: number): void {
    this.sql.exec("DELETE FROM results WHERE seq = ? AND attempt = ?", seq, attempt);
  }

  /** A post that failed: tried again at `due`. */
  /** Results being posted now: not due again until `until` (a post's timeout), unless settled first. */
  resultsInFlight(rows: { seq: number; attempt: number }[], until: number): void {
    for (const r of rows) this.sql.exec("UPDATE results SET due = ? WHERE seq = ? AND attempt = ?", until, r.seq, r.attempt);
  }

  resultRetry(seq: number, attempt: number, due: number): void {
    this.sql.exec("UPDATE results SET tries = tries + 1, due = ? WHERE seq = ? AND attempt = ?", due, seq, attempt);
  }
}

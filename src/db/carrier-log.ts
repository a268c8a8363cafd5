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

  /** Records a dial; false if this attempt was already placed (a repeat is the same call). */
  recordDial(seq: number, attempt: number, providerCallId: string, at: number): boolean {
    return (
      this.sql
        .exec("INSERT OR IGNORE INTO dials (seq, attempt, provider_call_id, at) VALUES (?, ?, ?, ?) RETURNING seq", seq, attempt, providerCallId, at)
        .toArray().length > 0
    );
  }

  owe(due: number, event: string): void {
    this.sql.exec("INSERT INTO events (due, event) VALUES (?, ?)", due, event);
  }

  /** A result to post once the attempt's final report is delivered. */
  oweResult(batchId: string, seq: number, attempt: number, body: string): void {
    this.sql.exec("INSERT OR IGNORE INTO results (seq, attempt, batch_id, body) VALUES (?, ?, ?, ?)", seq, attempt, batchId, body);
  }

  /** The next time anything is owed: a report, or a result whose final is delivered. */
  earliestDue(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(t) AS t FROM (SELECT min(due) AS t FROM events UNION ALL SELECT min(due) FROM results)").one().t;
  }

  /** Reports due by `now`, oldest first. */
  due(now: number, limit: number): OwedReport[] {
    return this.sql.exec<OwedReport>("SELECT id, event FROM events WHERE due <= ? ORDER BY due, id LIMIT ?", now, limit).toArray();
  }

  /** The report was delivered; the attempt's result (if it has one) may go from `now`. */
  delivered(id: number, seq: number, attempt: number, now: number): void {
    this.sql.exec("DELETE FROM events WHERE id = ?", id);
    this.sql.exec("UPDATE results SET due = ? WHERE seq = ? AND attempt = ? AND due IS NULL", now, seq, attempt);
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

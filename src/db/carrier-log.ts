/**
 * The simulated carrier's memory, in its object's own SQLite: every call
 * it accepted (as a real provider's call log, asked when a dial's fate is
 * unknown) and the status reports it still owes the batch, each due at a
 * time. Reports survive restarts.
 */
export type OwedReport = { id: number; event: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, due INTEGER NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dials (seq INTEGER NOT NULL, attempt INTEGER NOT NULL, provider_call_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (seq, attempt));
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

  earliestDue(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(due) AS t FROM events").one().t;
  }

  /** Reports due by `now`, oldest first. */
  due(now: number, limit: number): OwedReport[] {
    return this.sql.exec<OwedReport>("SELECT id, event FROM events WHERE due <= ? ORDER BY due, id LIMIT ?", now, limit).toArray();
  }

  delivered(id: number): void {
    this.sql.exec("DELETE FROM events WHERE id = ?", id);
  }
}

/**
 * A workspace's capacity, in its WorkspaceLimiter's own SQLite: the leases
 * held by call attempts (one per attempt, each with an expiry), the starts
 * of the last second, and which batches asked recently. Every method is
 * synchronous, so the object's check-and-record stays atomic.
 */
export type LeaseRow = { id: string; batch_id: string; started_at: number | null; expires_at: number; from_number: string | null };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, expires_at INTEGER NOT NULL, started_at INTEGER);
CREATE INDEX IF NOT EXISTS leases_batch ON leases(batch_id);
CREATE INDEX IF NOT EXISTS leases_expiry ON leases(expires_at);
CREATE TABLE IF NOT EXISTS starts (at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS starts_at ON starts(at);
CREATE TABLE IF NOT EXISTS demand (batch_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);
`;

export class LimiterStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    // The caller ID a started lease dials from (added with number pools).
    const cols = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('leases')").toArray();
    if (!cols.some((c) => c.name === "from_number")) sql.exec("ALTER TABLE leases ADD COLUMN from_number TEXT");
  }

  /** Forgets lapsed leases, starts older than the window, and batches that stopped asking. */
  purge(now: number, windowMs: number, demandMs: number): void {
    this.sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM starts WHERE at <= ?", now - windowMs);
    this.sql.exec("DELETE FROM demand WHERE last_seen <= ?", now - demandMs);
  }

  noteDemand(batchId: string, now: number): void {
    this.sql.exec("INSERT INTO demand (batch_id, last_seen) VALUES (?, ?) ON CONFLICT (batch_id) DO UPDATE SET last_seen = excluded.last_seen", batchId, now);
  }

  competingBatches(): number {
    return this.count("SELECT count(*) AS n FROM demand");
  }

  heldBy(batchId: string): Set<string> {
    return new Set(
      this.sql
        .exec<{ id: string }>("SELECT id FROM leases WHERE batch_id = ?", batchId)
        .toArray()
        .map((r) => r.id),
    );
  }

  leaseCount(): number {
    return this.count("SELECT count(*) AS n FROM leases");
  }

  /** Leases of the batch still waiting for their start. */
  pendingCount(batchId: string): number {
    return this.count("SELECT count(*) AS n FROM leases WHERE batch_id = ? AND started_at IS NULL", batchId);
  }

  addLease(id: string, batchId: string, expiresAt: number): void {
    this.sql.exec("INSERT INTO leases (id, batch_id, expires_at) VALUES (?, ?, ?)", id, batchId, expiresAt);
  }

  earliestExpiry(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM leases").one().t;
  }

  /** The lease's start (null if not started yet) and caller ID; undefined if there is no such lease. */
  startOf(id: string): { at: number | null; from: string | null } | undefined {
    const row = this.sql
      .exec<{ started_at: number | null; from_number: string | null }>("SELECT started_at, from_number FROM leases WHERE id = ?", id)
      .toArray()[0];
    return row ? { at: row.started_at, from: row.from_number } : undefined;
  }

  /** Starts recorded after `since`, and the oldest of them. */
  startsSince(since: number): { n: number; oldest: number | null } {
    const row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(at) AS oldest FROM starts WHERE at > ?", since).one();
    return { n: Number(row.n), oldest: row.oldest };
  }

  /** Records a start in the window and moves the lease's expiry to the call's lease; `from` is the caller ID chosen, if any. */
  start(id: string, at: number, expiresAt: number, from: string | null): void {
    this.sql.exec("INSERT INTO starts (at) VALUES (?)", at);
    this.sql.exec("UPDATE leases SET started_at = ?, expires_at = ?, from_number = ? WHERE id = ?", at, expiresAt, from, id);
  }

  release(id: string): void {
    this.sql.exec("DELETE FROM leases WHERE id = ?", id);
  }

  leases(): LeaseRow[] {
    return this.sql.exec<LeaseRow>("SELECT id, batch_id, started_at, expires_at, from_number FROM leases ORDER BY id").toArray();
  }

  private count(query: string, ...params: (string | number)[]): number {
    return Number(this.sql.exec<{ n: number }>(query, ...params).one().n);
  }
}

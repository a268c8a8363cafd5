/**
 * A workspace's capacity, in its WorkspaceLimiter's own SQLite: the leases
 * held by call attempts (one per attempt, each with an expiry) and which
 * batches asked recently. Both are also kept in memory — every lease's
 * batch, expiry, start and caller ID; per batch how many it holds and how
 * many wait for their start; when each batch last asked — read from the
 * tables once when the object wakes and moved by every write after (this
 * object is their only writer, and memory moves only once its write
 * succeeded). So counting, finding lapsed leases and answering for a lease
 * read no row: the lease table is written (one row when a lease is
 * reserved, started and released; no index over it) and read only when
 * the object wakes. Every method is synchronous, so the object's
 * check-and-record stays atomic.
 */
export type LeaseRow = { id: string; batch_id: string; started_at: number | null; expires_at: number; from_number: string | null };

const LEASES = "(id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, expires_at INTEGER NOT NULL, started_at INTEGER, from_number TEXT) WITHOUT ROWID";
const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases ${LEASES};
CREATE TABLE IF NOT EXISTS demand (batch_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);
`;

type Lease = { batchId: string; expiresAt: number; at: number | null; from: string | null };
type Memory = {
  leases: Map<string, Lease>;
  /** Per batch: leases held, and of those not started yet. */
  held: Map<string, number>;
  waiting: Map<string, number>;
  /** When each batch that asked recently last asked. */
  demand: Map<string, number>;
  /** No lease expires before this (a lower bound: looking for lapsed leases before it would find none). */
  purgeAfter: number;
};

export class LimiterStore {
  private mem: Memory | null = null;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    const table = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'leases'").one().sql;
    if (!table.includes("WITHOUT ROWID")) {
      // Before: a rowid table with an index by batch and one by expiry, so each lease write touched four b-trees. Moved over once.
      if (!table.includes("from_number")) sql.exec("ALTER TABLE leases ADD COLUMN from_number TEXT");
      sql.exec(`CREATE TABLE leases_v2 ${LEASES}`);
      sql.exec("INSERT INTO leases_v2 SELECT id, batch_id, expires_at, started_at, from_number FROM leases");
      sql.exec("DROP TABLE leases");
      sql.exec("ALTER TABLE leases_v2 RENAME TO leases");
    }
  }

  /** Forgets lapsed leases: looked for in memory once the earliest expiry has passed, each deleted by its key. */
  purgeLeases(now: number): void {
    const mem = this.load();
    if (now < mem.purgeAfter) return;
    let next = Infinity;
    for (const [id, lease] of mem.leases) {
      if (lease.expiresAt > now) next = Math.min(next, lease.expiresAt);
      else this.release(id);
    }
    mem.purgeAfter = next;
  }

  /** Forgets batches that stopped asking. */
  purgeDemand(now: number, demandMs: number): void {
    const { demand } = this.load();
    for (const [batchId, seen] of demand) {
      if (seen > now - demandMs) continue;
      this.sql.exec("DELETE FROM demand WHERE batch_id = ?", batchId);
      demand.delete(batchId);
    }
  }

  noteDemand(batchId: string, now: number): void {
    const { demand } = this.load();
    this.sql.exec("INSERT INTO demand (batch_id, last_seen) VALUES (?, ?) ON CONFLICT (batch_id) DO UPDATE SET last_seen = excluded.last_seen", batchId, now);
    demand.set(batchId, now);
  }

  competingBatches(): number {
    return this.load().demand.size;
  }

  /** Of `ids`, those the batch holds. */
  heldAmong(batchId: string, ids: string[]): Set<string> {
    const { leases } = this.load();
    return new Set(ids.filter((id) => leases.get(id)?.batchId === batchId));
  }

  leaseCount(): number {
    return this.load().leases.size;
  }

  /** Leases the batch holds. */
  heldCount(batchId: string): number {
    return this.load().held.get(batchId) ?? 0;
  }

  /** Leases of the batch still waiting for their start. */
  pendingCount(batchId: string): number {
    return this.load().waiting.get(batchId) ?? 0;
  }

  addLease(id: string, batchId: string, expiresAt: number): void {
    const mem = this.load();
    this.sql.exec("INSERT INTO leases (id, batch_id, expires_at) VALUES (?, ?, ?)", id, batchId, expiresAt);
    mem.leases.set(id, { batchId, expiresAt, at: null, from: null });
    bump(mem.held, batchId, 1);
    bump(mem.waiting, batchId, 1);
    mem.purgeAfter = Math.min(mem.purgeAfter, expiresAt);
  }

  earliestExpiry(): number | null {
    let min = Infinity;
    for (const lease of this.load().leases.values()) min = Math.min(min, lease.expiresAt);
    return min === Infinity ? null : min;
  }

  /** The lease's start (null if not started yet) and caller ID; undefined if there is no such lease. */
  startOf(id: string): { at: number | null; from: string | null } | undefined {
    const lease = this.load().leases.get(id);
    return lease ? { at: lease.at, from: lease.from } : undefined;
  }

  /** Marks a lease not started yet as started and moves its expiry to the call's lease; `from` is the caller ID chosen, if any. */
  start(id: string, at: number, expiresAt: number, from: string | null): void {
    const mem = this.load();
    const lease = mem.leases.get(id);
    if (!lease || lease.at !== null) return;
    this.sql.exec("UPDATE leases SET started_at = ?, expires_at = ?, from_number = ? WHERE id = ?", at, expiresAt, from, id);
    Object.assign(lease, { at, expiresAt, from });
    bump(mem.waiting, lease.batchId, -1);
    mem.purgeAfter = Math.min(mem.purgeAfter, expiresAt);
  }

  /** Frees a lease; what it was (its start and caller ID), or undefined if it was not held (then nothing is written). */
  release(id: string): { at: number | null; from: string | null } | undefined {
    const mem = this.load();
    const lease = mem.leases.get(id);
    if (!lease) return undefined;
    this.sql.exec("DELETE FROM leases WHERE id = ?", id);
    mem.leases.delete(id);
    bump(mem.held, lease.batchId, -1);
    if (lease.at === null) bump(mem.waiting, lease.batchId, -1);
    return { at: lease.at, from: lease.from };
  }

  leases(): LeaseRow[] {
    return this.sql.exec<LeaseRow>("SELECT id, batch_id, started_at, expires_at, from_number FROM leases ORDER BY id").toArray();
  }

  /** The memory, read from the tables once per object lifetime. */
  private load(): Memory {
    if (this.mem) return this.mem;
    const mem: Memory = { leases: new Map(), held: new Map(), waiting: new Map(), demand: new Map(), purgeAfter: -Infinity };
    for (const row of this.sql.exec<LeaseRow>("SELECT id, batch_id, started_at, expires_at, from_number FROM leases")) {
      mem.leases.set(row.id, { batchId: row.batch_id, expiresAt: row.expires_at, at: row.started_at, from: row.from_number });
      bump(mem.held, row.batch_id, 1);
      if (row.started_at === null) bump(mem.waiting, row.batch_id, 1);
    }
    for (const row of this.sql.exec<{ batch_id: string; last_seen: number }>("SELECT batch_id, last_seen FROM demand"))
      mem.demand.set(row.batch_id, row.last_seen);
    this.mem = mem;
    return mem;
  }
}

/** Moves a per-batch count, dropping it at zero. */
function bump(counts: Map<string, number>, batchId: string, by: number): void {
  const n = (counts.get(batchId) ?? 0) + by;
  if (n > 0) counts.set(batchId, n);
  else counts.delete(batchId);
}

import { carryOverLeases } from "./limiter-legacy";

/**
 * A workspace's capacity, in its WorkspaceLimiter's own SQLite: the leases
 * held by call attempts (one per attempt, each with an expiry) and which
 * batches asked recently. Both are kept in memory — every lease's batch,
 * expiry, start and caller ID; per batch how many it holds and how many
 * wait for their start; when each batch last asked — read from the tables
 * once when the object wakes, so counting, finding lapsed leases and
 * answering for a lease read no row.
 *
 * Leases are written by the group, not one row each (a row written is what
 * is billed): a reserve call's leases are one grant row (`leases`: their
 * ids, expiries, starts and caller IDs as JSON); a start rewrites its
 * grant's row (a consumer batch's starts: one write per grant, usually
 * one); a release call writes one row listing the leases it freed
 * (`lease_releases`), or deletes the grant row it empties. Waking replays
 * the rows in id order (a lease id freed and granted again is in a later
 * grant). Once COMPACT_ROWS release rows pile up, each grant still
 * listing a freed or lapsed lease is rewritten and the release rows go.
 * A lapsed lease needs no row: its expiry is in its grant's.
 *
 * Writes are made by `save`, at the end of each limiter call (its leases
 * then exactly as memory holds them, before its answer leaves); if a write
 * fails, memory is dropped and read again from the tables. Every method is
 * synchronous, so the object's check-and-record stays atomic.
 */
export type LeaseView = { id: string; batchId: string; startedAt: number | null; expiresAt: number };

/** One lease in its grant row: id, expiry, start (null: not yet), caller ID. */
type Entry = [id: string, expiresAt: number, at: number | null, from: string | null];

const GRANTS = "(id INTEGER PRIMARY KEY, batch_id TEXT NOT NULL, held TEXT NOT NULL)";
const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases ${GRANTS};
CREATE TABLE IF NOT EXISTS lease_releases (id INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS demand (batch_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);
`;
/** Release rows kept before the grants are compacted (bounds what waking reads). */
const COMPACT_ROWS = 256;
/** A batch's last ask is written at most this often (memory keeps it exact; waking counts it as this much later). */
const DEMAND_WRITE_MS = 1_000;

type Lease = { batchId: string; expiresAt: number; at: number | null; from: string | null; grant: number };
/** A grant row: its batch, the leases of it still held, and how many leases its stored row still lists that are not. */
type Grant = { batchId: string; live: Set<string>; stale: number };
type Memory = {
  leases: Map<string, Lease>;
  grants: Map<number, Grant>;
  /** Per batch: leases held, and of those not started yet. */
  held: Map<string, number>;
  waiting: Map<string, number>;
  /** When each batch that asked recently last asked, and when that was last written. */
  demand: Map<string, number>;
  demandWritten: Map<string, number>;
  /** No lease expires before this (a lower bound: looking for lapsed leases before it would find none). */
  purgeAfter: number;
  /** The next grant or release row's id (one sequence: waking replays both in order). */
  nextId: number;
  releaseRows: number;
};

export class LimiterStore {
  private mem: Memory | null = null;
  /** Grants to write (or delete, when empty) at the next save. */
  private readonly dirty = new Set<number>();
  /** Leases freed since the last save, with their grants; the row's id is taken at the first, before any grant made after it. */
  private freed: { id: number; leases: { lease: string; grant: number }[] } | null = null;

  constructor(private readonly sql: SqlStorage) {
    carryOverLeases(sql, "held TEXT", SCHEMA);
    sql.exec(SCHEMA);
  }

  /** Forgets lapsed leases: looked for in memory once the earliest expiry has passed (their grant rows still hold their expiry). */
  purgeLeases(now: number): void {
    const mem = this.load();
    if (now < mem.purgeAfter) return;
    let next = Infinity;
    for (const [id, lease] of mem.leases) {
      if (lease.expiresAt > now) next = Math.min(next, lease.expiresAt);
      else this.detach(mem, id);
    }
    mem.purgeAfter = next;
  }

  /** Forgets batches that stopped asking. */
  purgeDemand(now: number, demandMs: number): void {
    const { demand, demandWritten } = this.load();
    for (const [batchId, seen] of demand) {
      if (seen > now - demandMs) continue;
      this.sql.exec("DELETE FROM demand WHERE batch_id = ?", batchId);
      demand.delete(batchId);
      demandWritten.delete(batchId);
    }
  }

  noteDemand(batchId: string, now: number): void {
    const { demand, demandWritten } = this.load();
    demand.set(batchId, now);
    if (now - (demandWritten.get(batchId) ?? -Infinity) < DEMAND_WRITE_MS) return;
    this.sql.exec("INSERT INTO demand (batch_id, last_seen) VALUES (?, ?) ON CONFLICT (batch_id) DO UPDATE SET last_seen = excluded.last_seen", batchId, now);
    demandWritten.set(batchId, now);
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

  /** Grants the batch leases on `ids` (one grant row), each lasting until `expiresAt`; an id held already, or twice, is granted once. Returns those granted. */
  grant(ids: string[], batchId: string, expiresAt: number): string[] {
    const mem = this.load();
    const fresh = [...new Set(ids)].filter((id) => !mem.leases.has(id));
    if (fresh.length === 0) return [];
    const grant = mem.nextId++;
    mem.grants.set(grant, { batchId, live: new Set(fresh), stale: 0 });
    for (const id of fresh) mem.leases.set(id, { batchId, expiresAt, at: null, from: null, grant });
    bump(mem.held, batchId, fresh.length);
    bump(mem.waiting, batchId, fresh.length);
    mem.purgeAfter = Math.min(mem.purgeAfter, expiresAt);
    this.dirty.add(grant);
    return fresh;
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
    Object.assign(lease, { at, expiresAt, from });
    bump(mem.waiting, lease.batchId, -1);
    mem.purgeAfter = Math.min(mem.purgeAfter, expiresAt);
    this.dirty.add(lease.grant);
  }

  /** Frees a lease; what it was (its start and caller ID), or undefined if it was not held (then nothing is written). */
  release(id: string): { at: number | null; from: string | null } | undefined {
    const mem = this.load();
    const lease = mem.leases.get(id);
    if (!lease) return undefined;
    this.freed ??= { id: mem.nextId++, leases: [] };
    this.freed.leases.push({ lease: id, grant: lease.grant });
    this.detach(mem, id);
    return { at: lease.at, from: lease.from };
  }

  /** Current leases, by id. */
  leases(): LeaseView[] {
    return [...this.load().leases]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, l]) => ({ id, batchId: l.batchId, startedAt: l.at, expiresAt: l.expiresAt }));
  }

  /**
   * Writes what this call changed: the freed leases' row (those of grants
   * rewritten now left out), each grant made, started in or emptied, and —
   * once release rows pile up — the compaction.
   */
  save(): void {
    const mem = this.mem;
    const freed = this.freed;
    this.freed = null;
    if (!mem) return;
    try {
      const ids = (freed?.leases ?? []).filter((f) => !this.dirty.has(f.grant)).map((f) => f.lease);
      if (freed && ids.length > 0) {
        this.sql.exec("INSERT INTO lease_releases (id, ids) VALUES (?, ?)", freed.id, JSON.stringify(ids));
        mem.releaseRows += 1;
      }
      for (const grant of this.dirty) this.writeGrant(mem, grant);
      if (mem.releaseRows >= COMPACT_ROWS) {
        for (const [grant, g] of mem.grants) if (g.stale > 0) this.writeGrant(mem, grant);
        this.sql.exec("DELETE FROM lease_releases");
        mem.releaseRows = 0;
      }
    } catch (error) {
      this.mem = null;
      throw error;
    } finally {
      this.dirty.clear();
    }
  }

  /** A grant's row as memory holds it: its leases still held, or no row once it holds none. */
  private writeGrant(mem: Memory, grant: number): void {
    const g = mem.grants.get(grant);
    if (!g) return;
    if (g.live.size === 0) {
      this.sql.exec("DELETE FROM leases WHERE id = ?", grant);
      mem.grants.delete(grant);
      return;
    }
    const entries = [...g.live].map((id): Entry => {
      const l = mem.leases.get(id)!;
      return [id, l.expiresAt, l.at, l.from];
    });
    this.sql.exec(
      "INSERT INTO leases (id, batch_id, held) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET held = ?3",
      grant,
      g.batchId,
      JSON.stringify(entries),
    );
    g.stale = 0;
  }

  /** Takes a lease out of memory; its grant's row still lists it (stale) until rewritten, or goes once the grant is empty. */
  private detach(mem: Memory, id: string): void {
    const lease = mem.leases.get(id);
    if (!lease) return;
    mem.leases.delete(id);
    bump(mem.held, lease.batchId, -1);
    if (lease.at === null) bump(mem.waiting, lease.batchId, -1);
    const g = mem.grants.get(lease.grant);
    if (!g) return;
    g.live.delete(id);
    g.stale += 1;
    if (g.live.size === 0) this.dirty.add(lease.grant);
  }

  /** The memory, read from the tables once per object lifetime: grants and release rows replayed in id order. */
  private load(): Memory {
    if (this.mem) return this.mem;
    const [leases, grants, held, waiting, demand, demandWritten] = [new Map(), new Map(), new Map(), new Map(), new Map(), new Map()];
    const mem: Memory = { leases, grants, held, waiting, demand, demandWritten, purgeAfter: -Infinity, nextId: 1, releaseRows: 0 };
    const rows = this.sql.exec<{ id: number; batch_id: string; held: string }>("SELECT id, batch_id, held FROM leases ORDER BY id").toArray();
    const releases = this.sql.exec<{ id: number; ids: string }>("SELECT id, ids FROM lease_releases ORDER BY id").toArray();
    mem.releaseRows = releases.length;
    let r = 0;
    const replay = (upTo: number) => {
      for (; r < releases.length && releases[r]!.id < upTo; r++) for (const id of JSON.parse(releases[r]!.ids) as string[]) this.detach(mem, id);
    };
    for (const row of rows) {
      replay(row.id);
      const live = new Set<string>();
      mem.grants.set(row.id, { batchId: row.batch_id, live, stale: 0 });
      for (const [id, expiresAt, at, from] of JSON.parse(row.held) as Entry[]) {
        this.detach(mem, id); // granted again: the earlier grant's row now lists it as freed
        live.add(id);
        mem.leases.set(id, { batchId: row.batch_id, expiresAt, at, from, grant: row.id });
        bump(mem.held, row.batch_id, 1);
        if (at === null) bump(mem.waiting, row.batch_id, 1);
      }
      mem.nextId = row.id + 1;
    }
    replay(Infinity);
    mem.nextId = Math.max(mem.nextId, (releases[releases.length - 1]?.id ?? 0) + 1);
    for (const row of this.sql.exec<{ batch_id: string; last_seen: number }>("SELECT batch_id, last_seen FROM demand")) {
      mem.demand.set(row.batch_id, row.last_seen + DEMAND_WRITE_MS);
      mem.demandWritten.set(row.batch_id, row.last_seen);
    }
    // Grants the replay emptied are dirty: the next save deletes their rows.
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

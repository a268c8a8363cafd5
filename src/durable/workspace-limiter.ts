import { DurableObject } from "cloudflare:workers";
import { instrumentEnv } from "../lib/metrics";

export type Limits = { callsPerSecond: number; maxConcurrentCalls: number };

export type ReserveInput = {
  batchId: string;
  /** One per call attempt the batch wants to dispatch, in the order it prefers. */
  leaseIds: string[];
  /** The batch's own maxConcurrentCalls, or null. */
  batchCap: number | null;
  limits: Limits;
  /** How long a reservation may wait for its start before it lapses. */
  reserveTtlMs: number;
  /** Leases the batch freed since its last call, returned before anything is granted. */
  release?: string[];
};
export type ReserveResult = { granted: string[]; retryAfterMs: number };

/** `at`: the start time recorded in the window, which the call keeps as its startTime. */
export type StartResult = { ok: true; at: number } | { ok: false; waitMs: number } | { ok: false; noLease: true };

/** A batch counts as competing for capacity while it asked within this long. */
const DEMAND_MS = 5_000;
/** Reservations a batch may hold ahead of its starts: this many seconds of its rate share. */
const LOOKAHEAD_SECONDS = 2;

/**
 * The single authority for one workspace's limits, shared by all its
 * batches. Concurrency is a set of leases (one per call attempt), each
 * with an expiry so a call whose end is never reported cannot hold its
 * slot forever. The rate is a sliding one-second window of recorded
 * starts: `start` admits a dial only if fewer than callsPerSecond starts
 * happened in the last second. Both live in this object's SQLite storage,
 * so a restart forgets nothing. Every method runs without awaiting, so
 * each check-and-record is atomic.
 */
export class WorkspaceLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, expires_at INTEGER NOT NULL, started_at INTEGER);
      CREATE INDEX IF NOT EXISTS leases_batch ON leases(batch_id);
      CREATE INDEX IF NOT EXISTS leases_expiry ON leases(expires_at);
      CREATE TABLE IF NOT EXISTS starts (at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS starts_at ON starts(at);
      CREATE TABLE IF NOT EXISTS demand (batch_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);
    `);
  }

  private purge(now: number): void {
    this.sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM starts WHERE at <= ?", now - 1000);
    this.sql.exec("DELETE FROM demand WHERE last_seen <= ?", now - DEMAND_MS);
  }

  private count(query: string, ...params: (string | number)[]): number {
    return Number(this.sql.exec<{ n: number }>(query, ...params).one().n);
  }

  /** Grants leases for as many of `leaseIds` as the limits and a fair share allow. Re-reserving a held id is a no-op grant. */
  reserve(input: ReserveInput): ReserveResult {
    const now = Date.now();
    if (input.release?.length) this.release(input.release);
    this.purge(now);
    const { batchId, limits } = input;
    if (input.leaseIds.length > 0) {
      this.sql.exec("INSERT INTO demand (batch_id, last_seen) VALUES (?, ?) ON CONFLICT (batch_id) DO UPDATE SET last_seen = excluded.last_seen", batchId, now);
    }
    const held = new Set(this.sql.exec<{ id: string }>("SELECT id FROM leases WHERE batch_id = ?", batchId).toArray().map((r) => r.id));
    const wanted = input.leaseIds.filter((id) => !held.has(id));
    const already = input.leaseIds.filter((id) => held.has(id));

    const competing = Math.max(1, this.count("SELECT count(*) AS n FROM demand"));
    const total = this.count("SELECT count(*) AS n FROM leases");
    const mine = held.size;
    const pendingMine = this.count("SELECT count(*) AS n FROM leases WHERE batch_id = ? AND started_at IS NULL", batchId);
    const concurrencyShare = competing === 1 ? limits.maxConcurrentCalls : Math.max(1, Math.floor(limits.maxConcurrentCalls / competing));
    const rateShare = Math.ceil(limits.callsPerSecond / competing);
    const room = Math.max(
      0,
      Math.min(
        limits.maxConcurrentCalls - total,
        Math.min(concurrencyShare, input.batchCap ?? Infinity) - mine,
        rateShare * LOOKAHEAD_SECONDS - pendingMine,
      ),
    );
    const fresh = wanted.slice(0, room);
    for (const id of fresh) {
      this.sql.exec("INSERT INTO leases (id, batch_id, expires_at) VALUES (?, ?, ?)", id, batchId, now + input.reserveTtlMs);
    }
    const granted = [...already, ...fresh];
    let retryAfterMs = 0;
    if (granted.length < input.leaseIds.length) {
      const next = this.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM leases").one().t;
      retryAfterMs = Math.max(50, Math.min(1000, next === null ? 1000 : next - now));
    }
    return { granted, retryAfterMs };
  }

  /** Admits one dial under the per-second rate, recording it; the lease then lasts `callLeaseMs` from now. */
  start(input: { leaseId: string; callsPerSecond: number; callLeaseMs: number }): StartResult {
    const now = Date.now();
    this.purge(now);
    return this.admit(input, now);
  }

  private admit(input: { leaseId: string; callsPerSecond: number; callLeaseMs: number }, now: number): StartResult {
    const lease = this.sql.exec<{ id: string }>("SELECT id FROM leases WHERE id = ?", input.leaseId).toArray()[0];
    if (!lease) return { ok: false, noLease: true };
    const window = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(at) AS oldest FROM starts WHERE at > ?", now - 1000).one();
    if (Number(window.n) >= input.callsPerSecond) {
      return { ok: false, waitMs: Math.max(1, Number(window.oldest) + 1000 - now + 1) };
    }
    this.sql.exec("INSERT INTO starts (at) VALUES (?)", now);
    this.sql.exec("UPDATE leases SET started_at = ?, expires_at = ? WHERE id = ?", now, now + input.callLeaseMs, input.leaseId);
    return { ok: true, at: now };
  }

  /**
   * `start` for several leases at once (one queue batch): each is admitted
   * while the window has room, in order. A lease already started answers
   * with its recorded start and records nothing (a redelivered job).
   */
  startMany(input: { leaseIds: string[]; callsPerSecond: number; callLeaseMs: number }): StartResult[] {
    const now = Date.now();
    this.purge(now);
    return input.leaseIds.map((id) => {
      const lease = this.sql.exec<{ started_at: number | null }>("SELECT started_at FROM leases WHERE id = ?", id).toArray()[0];
      if (!lease) return { ok: false, noLease: true } as const;
      if (lease.started_at !== null) return { ok: true, at: lease.started_at } as const;
      return this.admit({ leaseId: id, callsPerSecond: input.callsPerSecond, callLeaseMs: input.callLeaseMs }, now);
    });
  }

  /** Frees a slot; releasing twice, or a lapsed lease, is harmless. */
  release(leaseIds: string[]): void {
    for (const id of leaseIds) this.sql.exec("DELETE FROM leases WHERE id = ?", id);
  }

  /** Current holdings, for status and tests. */
  snapshot(): { leases: { id: string; batchId: string; startedAt: number | null; expiresAt: number }[]; startsLastSecond: number } {
    const now = Date.now();
    this.purge(now);
    return {
      leases: this.sql
        .exec<{ id: string; batch_id: string; started_at: number | null; expires_at: number }>("SELECT * FROM leases ORDER BY id")
        .toArray()
        .map((r) => ({ id: r.id, batchId: r.batch_id, startedAt: r.started_at, expiresAt: r.expires_at })),
      startsLastSecond: this.count("SELECT count(*) AS n FROM starts WHERE at > ?", now - 1000),
    };
  }
}

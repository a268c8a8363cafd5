import { DurableObject } from "cloudflare:workers";
import { LimiterStore } from "../db/limiter-store";
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

/** The limiter's one clock; tests replace it inside runInDurableObject. */
export type LimiterPorts = { now: () => number };

/** The rate's sliding window. */
const WINDOW_MS = 1000;
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
  private readonly store: LimiterStore;
  ports: LimiterPorts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.store = new LimiterStore(ctx.storage.sql);
    this.ports = { now: () => Date.now() };
  }

  private purge(now: number): void {
    this.store.purge(now, WINDOW_MS, DEMAND_MS);
  }

  /** Grants leases for as many of `leaseIds` as the limits and a fair share allow. Re-reserving a held id is a no-op grant. */
  reserve(input: ReserveInput): ReserveResult {
    const now = this.ports.now();
    if (input.release?.length) this.release(input.release);
    this.purge(now);
    const { batchId, limits } = input;
    if (input.leaseIds.length > 0) this.store.noteDemand(batchId, now);
    const held = this.store.heldBy(batchId);
    const wanted = input.leaseIds.filter((id) => !held.has(id));
    const already = input.leaseIds.filter((id) => held.has(id));

    const competing = Math.max(1, this.store.competingBatches());
    const total = this.store.leaseCount();
    const mine = held.size;
    const pendingMine = this.store.pendingCount(batchId);
    const concurrencyShare = competing === 1 ? limits.maxConcurrentCalls : Math.max(1, Math.floor(limits.maxConcurrentCalls / competing));
    const rateShare = Math.ceil(limits.callsPerSecond / competing);
    const room = Math.max(
      0,
      Math.min(limits.maxConcurrentCalls - total, Math.min(concurrencyShare, input.batchCap ?? Infinity) - mine, rateShare * LOOKAHEAD_SECONDS - pendingMine),
    );
    const fresh = wanted.slice(0, room);
    for (const id of fresh) this.store.addLease(id, batchId, now + input.reserveTtlMs);
    const granted = [...already, ...fresh];
    let retryAfterMs = 0;
    if (granted.length < input.leaseIds.length) {
      const next = this.store.earliestExpiry();
      retryAfterMs = Math.max(50, Math.min(1000, next === null ? 1000 : next - now));
    }
    return { granted, retryAfterMs };
  }

  /** Admits one dial under the per-second rate, recording it; the lease then lasts `callLeaseMs` from now. */
  start(input: { leaseId: string; callsPerSecond: number; callLeaseMs: number }): StartResult {
    const now = this.ports.now();
    this.purge(now);
    if (this.store.startOf(input.leaseId) === undefined) return { ok: false, noLease: true };
    return this.admit(input, now);
  }

  private admit(input: { leaseId: string; callsPerSecond: number; callLeaseMs: number }, now: number): StartResult {
    const window = this.store.startsSince(now - WINDOW_MS);
    if (window.n >= input.callsPerSecond) {
      return { ok: false, waitMs: Math.max(1, Number(window.oldest) + WINDOW_MS - now + 1) };
    }
    this.store.start(input.leaseId, now, now + input.callLeaseMs);
    return { ok: true, at: now };
  }

  /**
   * `start` for several leases at once (one queue batch): each is admitted
   * while the window has room, in order. A lease already started answers
   * with its recorded start and records nothing (a redelivered job).
   */
  startMany(input: { leaseIds: string[]; callsPerSecond: number; callLeaseMs: number }): StartResult[] {
    const now = this.ports.now();
    this.purge(now);
    return input.leaseIds.map((id) => {
      const startedAt = this.store.startOf(id);
      if (startedAt === undefined) return { ok: false, noLease: true } as const;
      if (startedAt !== null) return { ok: true, at: startedAt } as const;
      return this.admit({ leaseId: id, callsPerSecond: input.callsPerSecond, callLeaseMs: input.callLeaseMs }, now);
    });
  }

  /** Frees a slot; releasing twice, or a lapsed lease, is harmless. */
  release(leaseIds: string[]): void {
    for (const id of leaseIds) this.store.release(id);
  }

  /** Current holdings, for status and tests. */
  snapshot(): { leases: { id: string; batchId: string; startedAt: number | null; expiresAt: number }[]; startsLastSecond: number } {
    const now = this.ports.now();
    this.purge(now);
    return {
      leases: this.store.leases().map((r) => ({ id: r.id, batchId: r.batch_id, startedAt: r.started_at, expiresAt: r.expires_at })),
      startsLastSecond: this.store.startsSince(now - WINDOW_MS).n,
    };
  }
}

import { DurableObject } from "cloudflare:workers";
import { loadPool } from "../db/agent-numbers.repo";
import { ContactBook, NumberBook, type NumberStats, poolRate } from "../db/limiter-numbers";
import { type LeaseView, LimiterStore } from "../db/limiter-store";
import { StartWindow } from "../db/limiter-window";
import { meteredSql } from "../db/metered-sql";
import { chooseNumber, type Pool } from "../domain/caller-id";
import { allowedFrom, type ContactPolicy, isEmptyPolicy, policyHorizonMs } from "../domain/contact-policy";
import { countryOf } from "../domain/phone";
import { count, instrumentEnv } from "../lib/metrics";

export type { NumberStats } from "../db/limiter-numbers";

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
  /** Of those, the attempts that ended (and of these, were answered): counted in their caller ID's health. */
  ended?: string[];
  answered?: string[];
  /** The number each lease calls (parallel to leaseIds), checked against `contactPolicy` before a lease is granted. */
  phones?: string[];
  contactPolicy?: ContactPolicy | null;
  /** The agent whose pool will give the starts their caller IDs: no more is reserved than its numbers may start. */
  pool?: { workspaceId: string; agentId: string };
};
/** `held`: leases refused because the contact policy lets their number be called only from `until`. */
export type ReserveResult = { granted: string[]; retryAfterMs: number; held?: Hold[] };

/** Why a call waits past its time, as the call shows it. */
export type WaitReason = "contact_policy" | "no_enabled_number" | "number_daily_limit";
export type Hold = { leaseId: string; until: number; reason: WaitReason };

/**
 * `at`: the start time recorded in the window, which the call keeps as its
 * startTime; `from`: the caller ID the agent's pool gave it (absent: no
 * pool). `hold`: not before `until` (the contact policy, or no number of
 * the pool can call): the attempt goes back to its batch to wait.
 */
export type StartResult =
  | { ok: true; at: number; from?: string }
  | { ok: false; waitMs: number }
  | { ok: false; noLease: true }
  | { ok: false; hold: { until: number; reason: WaitReason } };

export type StartManyInput = {
  leaseIds: string[];
  callsPerSecond: number;
  callLeaseMs: number;
  /** The number each lease calls (parallel to leaseIds): for the contact policy and a local caller ID. */
  phones?: string[];
  /** The agent whose pool gives each start its caller ID (read from D1, kept a few seconds). */
  pool?: { workspaceId: string; agentId: string };
  contactPolicy?: ContactPolicy | null;
};

/** The limiter's one clock; tests replace it inside runInDurableObject. */
export type LimiterPorts = { now: () => number };

/** A batch counts as competing for capacity while it asked within this long. */
const DEMAND_MS = 5_000;
/** Reservations a batch may hold ahead of its starts: this many seconds of its rate share. */
const LOOKAHEAD_SECONDS = 2;
/** How long an agent's pool is used before it is read again (forgetPool drops it at once). */
const POOL_REFRESH_MS = 5_000;
/** How often the hourly counts and the contacts are swept. */
const SWEEP_MS = 60_000;
/** Contacts kept when no policy is in force: the longest a policy can look back. */
const MAX_CONTACT_HORIZON_MS = 720 * 3_600_000;

/**
 * The single authority for one workspace's limits, shared by all its
 * batches. Concurrency is a set of leases (one per call attempt), each
 * with an expiry so a call whose end is never reported cannot hold its
 * slot forever. The rate is a sliding one-second window of recorded
 * starts: `start` admits a dial only if fewer than callsPerSecond starts
 * happened in the last second (StartWindow: one lookup, not a scan). Leases
 * and window are also held in memory, loaded when the object wakes, so a
 * decision reads no row, at any rate; each call writes what it changed at
 * its end, by the group (LimiterStore: a row per grant, start batch or
 * release call, not per lease). The same gate gives each start its
 * caller ID from the agent's pool (under each number's own limits) and
 * keeps the workspace's contact policy, per recipient number, across all
 * batches. All of it lives in this object's SQLite storage, so a restart
 * forgets nothing. Each check-and-record runs without awaiting (a pool is
 * read from D1 before the check starts), so it is atomic.
 */
export class WorkspaceLimiter extends DurableObject<Env> {
  private readonly store: LimiterStore;
  private readonly numbers: NumberBook;
  private readonly contacts: ContactBook;
  private readonly window: StartWindow;
  /** Counts each method's SQL rows read and written (METRICS=on). */
  private readonly flushMeter: () => void;
  private readonly pools = new Map<string, { pool: Pool | null; at: number }>();
  private sweptAt = 0;
  ports: LimiterPorts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    const { sql, flush } = meteredSql(ctx.storage.sql, "do.WorkspaceLimiter", env.METRICS === "on");
    this.flushMeter = flush;
    this.store = new LimiterStore(sql);
    this.window = new StartWindow(sql);
    this.numbers = new NumberBook(sql);
    this.contacts = new ContactBook(sql);
    this.ports = { now: () => Date.now() };
  }

  /** Ends a call: what it changed is written (its grants, releases and starts: a row each, not one a lease), even if it threw; its rows counted with METRICS=on. */
  private finish<T>(result: () => T): T {
    try {
      return result();
    } finally {
      try {
        this.store.save();
      } finally {
        this.window.save(); // even if the leases' write failed: the window then counts starts the leases may not show
        this.flushMeter();
      }
    }
  }

  private purge(now: number, policy?: ContactPolicy | null): void {
    this.store.purgeLeases(now);
    if (now - this.sweptAt < SWEEP_MS) return;
    this.sweptAt = now;
    this.numbers.purge(now);
    this.contacts.purge(now - (policy && !isEmptyPolicy(policy) ? policyHorizonMs(policy) : MAX_CONTACT_HORIZON_MS));
  }

  /**
   * Grants leases for as many of `leaseIds` as the limits and a fair share
   * allow, and no more than the agent's pool may start in the lookahead (so
   * a 100-number pool at one call a second is not sent 2,000 jobs to wait
   * at the gate). Re-reserving a held id is a no-op grant.
   */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const pool = input.pool ? await this.pool(input.pool.workspaceId, input.pool.agentId) : null;
    return this.finish(() => this.reserveNow(input, pool));
  }

  private reserveNow(input: ReserveInput, pool: Pool | null): ReserveResult {
    const now = this.ports.now();
    if (input.release?.length) this.releaseNow(input.release, { ended: input.ended, answered: input.answered });
    this.purge(now, input.contactPolicy);
    this.store.purgeDemand(now, DEMAND_MS);
    const { batchId, limits } = input;
    if (input.leaseIds.length > 0) this.store.noteDemand(batchId, now);
    const held = this.store.heldAmong(batchId, input.leaseIds);
    const holds = this.policyHolds(input, held, now);
    const onHold = new Set(holds.map((h) => h.leaseId));
    const wanted = input.leaseIds.filter((id) => !held.has(id) && !onHold.has(id));
    const already = input.leaseIds.filter((id) => held.has(id));

    const competing = Math.max(1, this.store.competingBatches());
    const total = this.store.leaseCount();
    const mine = this.store.heldCount(batchId);
    const pendingMine = this.store.pendingCount(batchId);
    const concurrencyShare = competing === 1 ? limits.maxConcurrentCalls : Math.max(1, Math.floor(limits.maxConcurrentCalls / competing));
    const rateShare = Math.min(Math.ceil(limits.callsPerSecond / competing), poolRate(pool));
    const room = Math.max(
      0,
      Math.min(limits.maxConcurrentCalls - total, Math.min(concurrencyShare, input.batchCap ?? Infinity) - mine, rateShare * LOOKAHEAD_SECONDS - pendingMine),
    );
    const granted = [...already, ...this.store.grant(wanted.slice(0, room), batchId, now + input.reserveTtlMs)];
    let retryAfterMs = 0;
    if (granted.length + holds.length < input.leaseIds.length) {
      const next = this.store.earliestExpiry();
      retryAfterMs = Math.max(50, Math.min(1000, next === null ? 1000 : next - now));
    }
    return holds.length > 0 ? { granted, retryAfterMs, held: holds } : { granted, retryAfterMs };
  }

  /** The contact policy's verdict on the leases not held yet: those whose number may not be called now. */
  private policyHolds(input: ReserveInput, held: Set<string>, now: number): Hold[] {
    const policy = input.contactPolicy;
    if (!policy || isEmptyPolicy(policy) || !input.phones) return [];
    const holds: Hold[] = [];
    input.leaseIds.forEach((id, i) => {
      const phone = input.phones![i];
      if (held.has(id) || !phone) return;
      const until = allowedFrom(policy, this.contacts.startsOf(phone, now - policyHorizonMs(policy), id), now);
      if (until > now) holds.push({ leaseId: id, until, reason: "contact_policy" });
    });
    return holds;
  }

  /** Admits one dial under the per-second rate, recording it; the lease then lasts `callLeaseMs` from now. */
  start(input: { leaseId: string; callsPerSecond: number; callLeaseMs: number }): StartResult {
    const now = this.ports.now();
    return this.finish(() => {
      this.purge(now);
      return this.store.startOf(input.leaseId) === undefined ? { ok: false, noLease: true } : this.admit(input.leaseId, input, null, undefined, now);
    });
  }

  /**
   * Admits `leaseId` if the workspace's second has room, its number may be
   * called under the contact policy, and the pool has a number that may
   * start; records all three in one synchronous step.
   */
  private admit(leaseId: string, input: Omit<StartManyInput, "leaseIds">, pool: Pool | null, phone: string | undefined, now: number): StartResult {
    const waitMs = this.window.waitMs(now, input.callsPerSecond);
    if (waitMs > 0) return { ok: false, waitMs };
    const policy = input.contactPolicy && !isEmptyPolicy(input.contactPolicy) && phone ? input.contactPolicy : null;
    if (policy) {
      const until = allowedFrom(policy, this.contacts.startsOf(phone!, now - policyHorizonMs(policy), leaseId), now);
      if (until > now) return { ok: false, hold: { until, reason: "contact_policy" } };
    }
    let from: string | null = null;
    if (pool && pool.numbers.length > 0) {
      const choice = chooseNumber(pool, phone ?? "", (e164) => this.numbers.load(e164, now), now, countryOf);
      if (choice.kind === "wait") return { ok: false, waitMs: choice.waitMs };
      if (choice.kind === "hold") return { ok: false, hold: { until: choice.until, reason: choice.reason } };
      from = choice.e164;
      this.numbers.noteStart(from, now, pool.callerId?.perNumber.callsPerSecond ?? 1);
    }
    if (policy) this.contacts.add(phone!, leaseId, now);
    this.store.start(leaseId, now, now + input.callLeaseMs, from);
    this.window.record(now);
    count("limiter.starts");
    return from === null ? { ok: true, at: now } : { ok: true, at: now, from };
  }

  /**
   * `start` for several leases at once (one queue batch): each is admitted
   * while the window has room, in order. A lease already started answers
   * with its recorded start and caller ID and records nothing (a
   * redelivered job): an attempt is never counted twice.
   */
  async startMany(input: StartManyInput): Promise<StartResult[]> {
    const pool = input.pool ? await this.pool(input.pool.workspaceId, input.pool.agentId) : null;
    const now = this.ports.now();
    return this.finish(() => {
      this.purge(now, input.contactPolicy);
      return input.leaseIds.map((id, i): StartResult => {
        const started = this.store.startOf(id);
        if (started === undefined) return { ok: false, noLease: true } as const;
        if (started.at !== null) return started.from === null ? { ok: true, at: started.at } : { ok: true, at: started.at, from: started.from };
        return this.admit(id, input, pool, input.phones?.[i], now);
      });
    });
  }

  /** The agent's pool, read from D1 at most every POOL_REFRESH_MS. */
  private async pool(workspaceId: string, agentId: string): Promise<Pool | null> {
    const hit = this.pools.get(agentId);
    if (hit && Date.now() - hit.at < POOL_REFRESH_MS) return hit.pool;
    const pool = await loadPool(this.env.DB, workspaceId, agentId);
    this.pools.set(agentId, { pool, at: Date.now() });
    return pool;
  }

  /** An agent's numbers, rules or enabled flags changed: the next start reads them again. */
  forgetPool(agentId: string): void {
    this.pools.delete(agentId);
  }

  /** Each number's starts and answered calls over 24 hours and 7 days, and its last start. */
  numberStats(e164s: string[]): NumberStats[] {
    return this.finish(() => this.numbers.stats(e164s, this.ports.now()));
  }

  /**
   * Frees slots. The `ended` ones were attempts that happened (`answered`:
   * and connected): they count in their caller ID's health, once, since a
   * lease is released once. Releasing twice, or a lapsed lease, is harmless.
   */
  release(leaseIds: string[], outcome: { ended?: string[]; answered?: string[] } = {}): void {
    this.finish(() => this.releaseNow(leaseIds, outcome));
  }

  private releaseNow(leaseIds: string[], outcome: { ended?: string[]; answered?: string[] }): void {
    const ended = new Set(outcome.ended);
    const answered = new Set(outcome.answered);
    for (const id of leaseIds) {
      const started = this.store.release(id);
      if ((ended.has(id) || answered.has(id)) && started?.from && started.at !== null) this.numbers.noteEnded(started.from, started.at, answered.has(id));
    }
  }

  /** Current holdings, for status and tests. */
  snapshot(): { leases: LeaseView[]; startsLastSecond: number } {
    const now = this.ports.now();
    return this.finish(() => {
      this.purge(now);
      return { leases: this.store.leases(), startsLastSecond: this.window.count(now) };
    });
  }
}

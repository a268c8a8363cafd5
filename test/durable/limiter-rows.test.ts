import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StartResult, WorkspaceLimiter } from "../../src/durable/workspace-limiter";

/*
 * The limiter's SQL rows written per call, counted the way Cloudflare bills
 * them (each cursor's rowsWritten, index rows included), over the sequence
 * the batch object and the queue consumer drive: reserve slices of up to 100
 * (the batch's `want`), the freed leases folded into the next reserve,
 * startMany of up to 10 (one consumer batch), answered calls lasting 2–20 s.
 * A count, not a timing: the figures are deterministic for a given seed.
 */
const T0 = 1_700_000_000_000;
const BATCH = "bat_0123456789abcdef";
const RESERVE_TTL_MS = 300_000;
const CALL_LEASE_MS = 3_600_000;

/** A small deterministic PRNG (mulberry32), so a run replays. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Counted = { written: number; read: number; byStatement: Map<string, number> };

/**
 * Counts the object's SQL: its storage's `exec` is wrapped (the object holds
 * the same SqlStorage), every cursor kept and summed once read; `restore` unwraps.
 */
function counting(state: DurableObjectState): { total: () => Counted; restore: () => void } {
  const sql = state.storage.sql;
  const exec = sql.exec;
  const cursors: { query: string; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> }[] = [];
  sql.exec = ((query: string, ...params: SqlStorageValue[]) => {
    const cursor = exec.call(sql, query, ...params);
    cursors.push({ query, cursor });
    return cursor;
  }) as typeof sql.exec;
  const total = () => {
    const byStatement = new Map<string, number>();
    let written = 0;
    let read = 0;
    for (const { query, cursor } of cursors) {
      written += cursor.rowsWritten;
      read += cursor.rowsRead;
      if (cursor.rowsWritten === 0) continue;
      const key = query.replace(/\s+/g, " ").trim().slice(0, 60);
      byStatement.set(key, (byStatement.get(key) ?? 0) + cursor.rowsWritten);
    }
    return { written, read, byStatement };
  };
  return { total, restore: () => delete (sql as { exec?: unknown }).exec };
}

/**
 * Drives `calls` answered calls through a fresh limiter at `perSecond`, as
 * the batch (reserve every 100 ms, or after retryAfterMs) and the consumer
 * (startMany of up to 10, a refused job retried after its waitMs) do; the
 * calls that ended since the last reserve are released with it.
 */
async function drive(perSecond: number, calls: number): Promise<Counted & { perCall: number }> {
  const stub = env.WORKSPACE_LIMITER.getByName(`ws_rows_${crypto.randomUUID()}`);
  return runInDurableObject(stub, async (limiter: WorkspaceLimiter, state: DurableObjectState) => {
    limiter.snapshot(); // woken: its tables made and loaded
    const { total, restore } = counting(state);
    const clock = { at: T0 };
    limiter.ports = { now: () => clock.at };
    const next = random(perSecond);
    const limits = { callsPerSecond: perSecond, maxConcurrentCalls: 10_000 };
    const want = Math.min(100, perSecond * 2);
    let seq = 0;
    let queue: string[] = [];
    let ended: string[] = [];
    const live: { id: string; endsAt: number }[] = [];
    let reserveAt = T0;
    let startAt = T0;
    let answered = 0;
    for (let step = 0; answered < calls || live.length > 0 || ended.length > 0; step++) {
      clock.at = T0 + step * 10;
      for (let i = live.length - 1; i >= 0; i--) {
        if (live[i]!.endsAt > clock.at) continue;
        ended.push(live[i]!.id);
        live.splice(i, 1);
      }
      if (clock.at >= reserveAt && (seq < calls || ended.length > 0)) {
        const leaseIds = Array.from({ length: Math.min(want, calls - seq) }, (_, i) => `${BATCH}:${seq + i}:1`);
        const grant = await limiter.reserve({
          batchId: BATCH,
          leaseIds,
          batchCap: null,
          limits,
          reserveTtlMs: RESERVE_TTL_MS,
          release: ended,
          ended,
          answered: ended,
        });
        ended = [];
        seq += grant.granted.length;
        queue.push(...grant.granted);
        reserveAt = clock.at + (grant.granted.length < leaseIds.length ? grant.retryAfterMs : 100);
      }
      while (queue.length > 0 && clock.at >= startAt) {
        const leaseIds = queue.slice(0, 10);
        const results: StartResult[] = await limiter.startMany({ leaseIds, callsPerSecond: perSecond, callLeaseMs: CALL_LEASE_MS });
        const waits = results.flatMap((r) => (!r.ok && "waitMs" in r ? [r.waitMs] : []));
        results.forEach((r, i) => {
          if (r.ok) live.push({ id: leaseIds[i]!, endsAt: clock.at + 2_000 + Math.floor(next() * 18_000) });
        });
        answered += results.filter((r) => r.ok).length;
        queue = [...leaseIds.filter((_, i) => !results[i]!.ok), ...queue.slice(10)];
        if (waits.length > 0) startAt = clock.at + Math.min(...waits);
      }
    }
    expect(answered).toBe(calls);
    expect(limiter.snapshot().leases).toEqual([]);
    const counted = total();
    restore();
    return { ...counted, perCall: counted.written / calls };
  });
}

/** Rows written a call, at most (measured: 0.26, 0.35, 0.68; before grant rows, a row per lease: 3.11, 3.12, 3.20). */
const BOUND: Record<number, number> = { 1000: 0.3, 100: 0.4, 10: 0.75 };

describe("the limiter's rows written per call", () => {
  for (const perSecond of [1000, 100, 10]) {
    // Twenty seconds of calls (at least 1,000): the steady state, not just the batch's tail of releases.
    const calls = Math.max(1000, perSecond * 20);
    it(`at ${perSecond}/s: reserve, start and release of ${calls} answered calls write at most ${BOUND[perSecond]} rows a call`, async () => {
      const r = await drive(perSecond, calls);
      console.warn(
        `limiter rows at ${perSecond}/s: ${r.perCall.toFixed(3)} written/call, ${(r.read / calls).toFixed(2)} read/call`,
        Object.fromEntries([...r.byStatement].map(([k, v]) => [k, +(v / calls).toFixed(3)])),
      );
      expect(r.perCall).toBeLessThanOrEqual(BOUND[perSecond]!);
    });
  }
});

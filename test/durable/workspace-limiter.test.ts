import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WorkspaceLimiter } from "../../src/durable/workspace-limiter";

const limiter = () => env.WORKSPACE_LIMITER.getByName(`ws_limiter_${crypto.randomUUID()}`);

/** A fresh limiter reading its time from `clock.at`: a test moves time by setting it, never by waiting. */
async function limiterOn(clock: { at: number }) {
  const l = limiter();
  await runInDurableObject(l, (obj: WorkspaceLimiter) => {
    obj.ports = { now: () => clock.at };
  });
  return l;
}

const T0 = 1_700_000_000_000;
const ids = (batch: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${batch}:${from + i}:1`);

describe("WorkspaceLimiter", () => {
  it("never grants more concurrent leases than the workspace allows, across batches", async () => {
    const l = limiter();
    const limits = { callsPerSecond: 100, maxConcurrentCalls: 5 };
    const a = await l.reserve({ batchId: "A", leaseIds: ids("A", 10), batchCap: null, limits, reserveTtlMs: 60_000 });
    const b = await l.reserve({ batchId: "B", leaseIds: ids("B", 10), batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(a.granted.length + b.granted.length).toBe(5);
    expect(b.retryAfterMs).toBeGreaterThan(0);
    // A slot freed goes to the batch below its fair share
    await l.release([a.granted[0]!]);
    const b2 = await l.reserve({ batchId: "B", leaseIds: ids("B", 10), batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(b2.granted.length).toBe(1);
    expect((await l.snapshot()).leases).toHaveLength(5);
  });

  it("shares capacity fairly between competing batches", async () => {
    const l = limiter();
    const limits = { callsPerSecond: 100, maxConcurrentCalls: 10 };
    // both batches are competing before either takes capacity
    await l.reserve({ batchId: "A", leaseIds: [], batchCap: null, limits, reserveTtlMs: 60_000 });
    await l.reserve({ batchId: "B", leaseIds: ["B:warm:1"], batchCap: null, limits, reserveTtlMs: 60_000 });
    const a = await l.reserve({ batchId: "A", leaseIds: ids("A", 20), batchCap: null, limits, reserveTtlMs: 60_000 });
    const b = await l.reserve({ batchId: "B", leaseIds: ids("B", 20), batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(a.granted).toHaveLength(5);
    expect(b.granted).toHaveLength(4); // its fair 5, one of which it already held
  });

  it("honours a batch's own maxConcurrentCalls and re-grants leases it already holds", async () => {
    const l = limiter();
    const limits = { callsPerSecond: 100, maxConcurrentCalls: 10 };
    const first = await l.reserve({ batchId: "A", leaseIds: ids("A", 5), batchCap: 2, limits, reserveTtlMs: 60_000 });
    expect(first.granted).toEqual(ids("A", 2));
    const again = await l.reserve({ batchId: "A", leaseIds: ids("A", 5), batchCap: 2, limits, reserveTtlMs: 60_000 });
    expect(again.granted).toEqual(ids("A", 2));
  });

  it("admits at most callsPerSecond starts in any one-second window", async () => {
    const l = limiter();
    const limits = { callsPerSecond: 3, maxConcurrentCalls: 50 };
    const { granted } = await l.reserve({ batchId: "A", leaseIds: ids("A", 6), batchCap: null, limits, reserveTtlMs: 60_000 });
    const results = [];
    for (const id of granted) results.push(await l.start({ leaseId: id, callsPerSecond: 3, callLeaseMs: 60_000 }));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    const refused = results.find((r) => !r.ok) as { ok: false; waitMs: number };
    expect(refused.waitMs).toBeGreaterThan(0);
    expect(refused.waitMs).toBeLessThanOrEqual(1001);
    expect((await l.snapshot()).startsLastSecond).toBe(3);
  });

  it("refuses a start for a lease it does not hold, and lets expired leases go", async () => {
    const clock = { at: T0 };
    const l = await limiterOn(clock);
    const limits = { callsPerSecond: 10, maxConcurrentCalls: 1 };
    expect(await l.start({ leaseId: "A:0:1", callsPerSecond: 10, callLeaseMs: 1000 })).toEqual({ ok: false, noLease: true });
    await l.reserve({ batchId: "A", leaseIds: ["A:0:1"], batchCap: null, limits, reserveTtlMs: 1 });
    clock.at += 1;
    const b = await l.reserve({ batchId: "B", leaseIds: ["B:0:1"], batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(b.granted).toEqual(["B:0:1"]);
    await l.release(["B:0:1"]);
    await l.release(["B:0:1"]);
    expect((await l.snapshot()).leases).toEqual([]);
  });

  it("slides the rate window on its clock: a start is admitted a second after the oldest in the window, not a millisecond sooner", async () => {
    const clock = { at: T0 };
    const l = await limiterOn(clock);
    const limits = { callsPerSecond: 2, maxConcurrentCalls: 50 };
    const { granted } = await l.reserve({ batchId: "A", leaseIds: ids("A", 4), batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(granted).toEqual(ids("A", 4));
    const start = { callsPerSecond: 2, callLeaseMs: 60_000 };
    expect(await l.startMany({ leaseIds: granted.slice(0, 3), ...start })).toEqual([
      { ok: true, at: T0 },
      { ok: true, at: T0 },
      { ok: false, waitMs: 1001 },
    ]);
    clock.at = T0 + 999;
    expect(await l.startMany({ leaseIds: [granted[2]!], ...start })).toEqual([{ ok: false, waitMs: 2 }]);
    clock.at = T0 + 1000;
    // A lease already started answers with its recorded start (a redelivered job) and uses no room.
    expect(await l.startMany({ leaseIds: granted.slice(1), ...start })).toEqual([
      { ok: true, at: T0 },
      { ok: true, at: T0 + 1000 },
      { ok: true, at: T0 + 1000 },
    ]);
    const snap = await l.snapshot();
    expect(snap.startsLastSecond).toBe(2);
    expect(snap.leases.map((x) => [x.startedAt, x.expiresAt])).toEqual([
      [T0, T0 + 60_000],
      [T0, T0 + 60_000],
      [T0 + 1000, T0 + 61_000],
      [T0 + 1000, T0 + 61_000],
    ]);
  });

  it("lets a started call's lease go when its callLeaseMs has passed on the clock, and a reservation when its reserveTtlMs has", async () => {
    const clock = { at: T0 };
    const l = await limiterOn(clock);
    const limits = { callsPerSecond: 10, maxConcurrentCalls: 10 };
    const { granted } = await l.reserve({ batchId: "A", leaseIds: ids("A", 2), batchCap: null, limits, reserveTtlMs: 5_000 });
    expect(await l.start({ leaseId: granted[0]!, callsPerSecond: 10, callLeaseMs: 60_000 })).toEqual({ ok: true, at: T0 });
    clock.at = T0 + 4_999;
    expect((await l.snapshot()).leases.map((x) => x.id)).toEqual(granted);
    clock.at = T0 + 5_000;
    expect((await l.snapshot()).leases.map((x) => x.id)).toEqual([granted[0]]);
    expect(await l.start({ leaseId: granted[1]!, callsPerSecond: 10, callLeaseMs: 60_000 })).toEqual({ ok: false, noLease: true });
    clock.at = T0 + 60_000;
    expect((await l.snapshot()).leases).toEqual([]);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const limiter = () => env.WORKSPACE_LIMITER.getByName(`ws_limiter_${crypto.randomUUID()}`);
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
    const l = limiter();
    const limits = { callsPerSecond: 10, maxConcurrentCalls: 1 };
    expect(await l.start({ leaseId: "A:0:1", callsPerSecond: 10, callLeaseMs: 1000 })).toEqual({ ok: false, noLease: true });
    await l.reserve({ batchId: "A", leaseIds: ["A:0:1"], batchCap: null, limits, reserveTtlMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const b = await l.reserve({ batchId: "B", leaseIds: ["B:0:1"], batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(b.granted).toEqual(["B:0:1"]);
    await l.release(["B:0:1"]);
    await l.release(["B:0:1"]);
    expect((await l.snapshot()).leases).toEqual([]);
  });
});

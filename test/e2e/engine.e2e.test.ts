import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerQuery } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace, upload, type TestWorkspace, waitFor } from "../helpers";

/*
 * The whole loop as it runs in production: scheduler alarm → queue →
 * consumer → simulated carrier → status events → scheduler, with
 * SIM_CALL_SECONDS = 0. These wait on real time (a few seconds each).
 */

async function statusOf(ws: TestWorkspace, batchId: string) {
  return json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
}

async function untilComplete(ws: TestWorkspace, batchId: string) {
  return waitFor(`batch ${batchId} to complete`, async () => {
    const s = await statusOf(ws, batchId);
    return s.isComplete ? s : undefined;
  });
}

function csvOf(numbers: string[]) {
  return ["phone_number,first_name", ...numbers.map((n, i) => `${n},P${i}`)].join("\n");
}

describe("end to end with the simulated provider", () => {
  it("runs a batch from queued to completed with the contract's outcome per last digit", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const numbers = Array.from({ length: 10 }, (_, d) => `+121255510${d}${d}`);
    const res = await upload(ws, csvOf(numbers), { scheduledAt: "" });
    expect(res.status).toBe(201);
    const { batchId } = await json(res);
    const accepted = Date.now();
    const done = await untilComplete(ws, batchId);
    expect(done).toMatchObject({ status: "completed", total: 10, completed: 6, failed: 4, waiting: 0, active: 0, cancelled: 0 });
    expect(done.startTime).toBeGreaterThanOrEqual(accepted - 1000);
    expect(done.completedTime).toBeGreaterThanOrEqual(done.lastCompletedTime);
    expect(done.recent_calls).toHaveLength(10);

    const { calls } = await json(await call(`/v1/api/batch-calls/${batchId}/calls?limit=100`, { headers: authHeaders(ws) }));
    expect(calls.map((c: any) => [c.phone_number.at(-1), c.status, c.outcome, c.attempts])).toEqual([
      ["0", "completed", "answered", 1],
      ["1", "completed", "answered", 1],
      ["2", "completed", "answered", 1],
      ["3", "completed", "answered", 1],
      ["4", "completed", "answered", 1],
      ["5", "completed", "voicemail", 1],
      ["6", "failed", "no_answer", 1],
      ["7", "failed", "no_answer", 1],
      ["8", "failed", "busy", 1],
      ["9", "failed", "failed", 1],
    ]);
    for (const c of calls) expect(c.startTime).toBeLessThanOrEqual(c.endTime);
  });

  it("two batches in one workspace never exceed its limits together, and both make progress", async () => {
    const limits = { callsPerSecond: 4, maxConcurrentCalls: 2 };
    const ws = await newWorkspace({ rateLimits: limits });
    const a = Array.from({ length: 8 }, (_, i) => `+1212555200${i}`);
    const b = Array.from({ length: 8 }, (_, i) => `+1212555300${i}`);
    const [ra, rb] = await Promise.all([upload(ws, csvOf(a), { scheduledAt: "" }), upload(ws, csvOf(b), { scheduledAt: "" })]);
    const [{ batchId: A }, { batchId: B }] = [await json(ra), await json(rb)];

    // Watch the workspace's authority while the batches run.
    const limiter = env.WORKSPACE_LIMITER.getByName(ws.workspaceId);
    let maxLeases = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const snap = await limiter.snapshot();
        maxLeases = Math.max(maxLeases, snap.leases.length);
        expect(snap.startsLastSecond).toBeLessThanOrEqual(limits.callsPerSecond);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await Promise.all([untilComplete(ws, A), untilComplete(ws, B)]);
    watching = false;
    await watcher;
    expect(maxLeases).toBeLessThanOrEqual(limits.maxConcurrentCalls);

    const rows = { results: [] as { batch_id: string; start_time: number }[] };
    for (const id of [A, B]) {
      for (const r of await ledgerQuery<{ start_time: number }>(id, "SELECT start_time FROM calls"))
        rows.results.push({ batch_id: id, start_time: r.start_time });
    }
    rows.results.sort((x, y) => x.start_time - y.start_time);
    const starts = rows.results.map((r) => r.start_time);
    expect(starts).toHaveLength(16);
    for (let i = 0; i < starts.length; i++) {
      const inWindow = starts.filter((t) => t >= starts[i]! && t < starts[i]! + 1000).length;
      expect(inWindow, `starts in the second after ${starts[i]}`).toBeLessThanOrEqual(limits.callsPerSecond);
    }
    // interleaved: neither batch waited for the other to finish
    const firstB = rows.results.find((r) => r.batch_id === B)!.start_time;
    const lastA = rows.results.filter((r) => r.batch_id === A).at(-1)!.start_time;
    const firstA = rows.results.find((r) => r.batch_id === A)!.start_time;
    const lastB = rows.results.filter((r) => r.batch_id === B).at(-1)!.start_time;
    expect(firstB).toBeLessThan(lastA);
    expect(firstA).toBeLessThan(lastB);
  }, 20_000); // 16 calls at 4/s take 4 s at best: room for a loaded machine
});

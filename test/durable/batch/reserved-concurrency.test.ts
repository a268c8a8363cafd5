import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, callRow, claimAt, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { ADMIN, call, newWorkspace, type TestWorkspace } from "../../helpers";

/** The leases the workspace's limiter holds right now, over all its batches. */
async function leasesHeld(ws: TestWorkspace): Promise<number> {
  return (await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases.length;
}

/** The call ends as the consumer and the status webhook would end it: claimed, started, answered. */
async function finish(batchId: string, seq: number, at: number) {
  const a = (await callRow(batchId, seq))!.dispatched_attempt as number;
  await claimAt(batchId, seq, a, at);
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: a, outcome: "answered", at, durationSec: 3 })).toBe("applied");
}

/** A workspace allowed 5 calls at once, with `reserved` of them kept for inbound calls, set through the admin API after creation. */
async function workspaceReserving(reserved: number): Promise<TestWorkspace> {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 100, maxConcurrentCalls: 5 } });
  const res = await call(`/v1/admin/workspaces/${ws.workspaceId}`, {
    method: "PATCH",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ rateLimits: { reservedConcurrency: reserved } }),
  });
  expect(res.status).toBe(200);
  return ws;
}

describe("rateLimits.reservedConcurrency: inbound headroom", () => {
  it("a batch never holds more than maxConcurrentCalls − reservedConcurrency leases, from the first slice to the last call", async () => {
    const ws = await workspaceReserving(2);
    const { batchId, due } = await uploaded(ws, phoneList(10));
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1, 2]);
    expect(await leasesHeld(ws)).toBe(3);
    // Ticking again with every slot taken sends nothing more.
    await tick(batchId, q, due + 100);
    expect(q.sent).toHaveLength(3);
    expect(await leasesHeld(ws)).toBe(3);

    // Each call that ends frees one slot for the next, never one of the reserved two.
    let at = due + 200;
    for (let done = 0; done < 10; done++) {
      await finish(batchId, q.sent[done]!.seq, at);
      await tick(batchId, q, at + 50);
      expect(await leasesHeld(ws), `after ${done + 1} calls ended`).toBeLessThanOrEqual(3);
      expect(q.sent.length - (done + 1), `in flight after ${done + 1} calls ended`).toBe(Math.min(3, 10 - (done + 1)));
      at += 200;
    }
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await tick(batchId, q, at);
    expect((await batchRow(batchId))?.status).toBe("completed");
    expect(await leasesHeld(ws)).toBe(0);
  });

  it("holds across the workspace's batches together, and without a reservation the same workspace uses all 5", async () => {
    const ws = await workspaceReserving(2);
    const a = await uploaded(ws, phoneList(6, 1));
    const b = await uploaded(ws, phoneList(6, 2));
    const qa = recordingQueue();
    const qb = recordingQueue();
    for (const t of [0, 100, 200]) {
      await tick(a.batchId, qa, a.due + t);
      await tick(b.batchId, qb, b.due + t);
      expect(await leasesHeld(ws), `at +${t} ms`).toBeLessThanOrEqual(3);
    }
    expect(qa.sent.length + qb.sent.length).toBeLessThanOrEqual(3);

    // The control: nothing reserved, the same limits, all five slots in use.
    const open = await workspaceReserving(0);
    const c = await uploaded(open, phoneList(10, 3));
    const qc = recordingQueue();
    await tick(c.batchId, qc, c.due);
    expect(qc.sent).toHaveLength(5);
    expect(await leasesHeld(open)).toBe(5);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../src/services/call-events";
import { batchRow, callRow, claimAt, completedWithRetryable, dispatched, phoneList, recordingQueue, tick } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace } from "../helpers";

const post = (ws: { workspaceId: string; apiKey: string }, path: string) => call(path, { method: "POST", headers: authHeaders(ws) });

describe("batch control", () => {
  it("cancel answers in the contract's shape, cancels waiting calls, lets active ones finish, and is harmless twice", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId, due, jobs } = await dispatched(ws, phoneList(4));
    expect(jobs).toHaveLength(2);
    await claimAt(batchId, 0, 1, due + 10);
    const res = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      batchId,
      status: "cancelled",
      message: expect.any(String),
      details: { completedCalls: 0, failedCalls: 0, cancelledCalls: 3, totalCalls: 4 },
    });
    const again = await json(await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) }));
    expect(again).toEqual(body);
    // the active call finishes and is counted
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 5000, durationSec: 4 });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed" });
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ status: "cancelled", isComplete: true, completed: 1, cancelled: 3, waiting: 0, active: 0 });
    // nothing more is handed out
    const q = recordingQueue();
    expect(await tick(batchId, q, due + 10_000)).toBeNull();
    expect(q.sent).toEqual([]);
  });

  it("pause stops dispatch; resume carries on; nonsense transitions are 409", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId, due } = await dispatched(ws, phoneList(4));
    expect(await json(await post(ws, `/v1/api/batch-calls/${batchId}/pause`))).toMatchObject({ status: "paused" });
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    const q = recordingQueue();
    expect(await tick(batchId, q, due + 5000)).toBeNull();
    expect(q.sent).toEqual([]);
    expect(await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }))).toMatchObject({ status: "paused", paused: true });

    expect(await json(await post(ws, `/v1/api/batch-calls/${batchId}/resume`))).toMatchObject({ status: "queued" });
    await tick(batchId, q, due + 5000);
    expect((await batchRow(batchId))?.status).toBe("processing");

    await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    for (const action of ["resume", "pause", "retry"]) {
      const res = await post(ws, `/v1/api/batch-calls/${batchId}/${action}`);
      expect(res.status, action).toBe(409);
      expect(await json(res)).toMatchObject({ code: "invalid_transition" });
    }
    expect((await post(ws, "/v1/api/batch-calls/batch_nope/pause")).status).toBe(404);
  });

  it("retry re-queues calls that ended no_answer, busy or failed for a new pass", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const { batchId, due } = await completedWithRetryable(ws);
    const res = await json(await post(ws, `/v1/api/batch-calls/${batchId}/retry`));
    expect(res).toMatchObject({ batchId, status: "processing", requeued: 2 });
    // a repeated retry finds the batch running again: 409, nothing re-queued twice
    const again = await post(ws, `/v1/api/batch-calls/${batchId}/retry`);
    expect(again.status).toBe(409);
    expect((await batchRow(batchId))?.pass).toBe(2);
    const second = recordingQueue();
    await tick(batchId, second, due + 300);
    expect(second.sent).toEqual([
      { batchId, seq: 1, attempt: 2 },
      { batchId, seq: 2, attempt: 2 },
    ]);
    expect(await callRow(batchId, 1)).toMatchObject({ status: "waiting", attempts: 1, pass_base: 1 });
  });
});

import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { engineConfig } from "../../../src/engine-config";
import { armInput, batchRow, callRow, claimAt, claimJobsAt, phoneList, recordingQueue, tick } from "../../engine-helpers";
import { authHeaders, call, json, newWorkspace, upload } from "../../helpers";

const numbers = phoneList;

async function setup(csv: string, limits = { callsPerSecond: 5, maxConcurrentCalls: 10 }, fields: Record<string, string> = {}) {
  const ws = await newWorkspace({ rateLimits: limits });
  const res = await upload(ws, csv, fields);
  expect(res.status).toBe(201);
  const { batchId } = await json(res);
  const due = (await env.BATCH_SCHEDULER.getByName(batchId).state())!.dueAt;
  return { ws, batchId, due };
}

describe("BatchScheduler", () => {
  it("does nothing before scheduledAt, then starts the batch and hands out a paced slice", async () => {
    const { batchId, due } = await setup(numbers(30));
    const q = recordingQueue();
    expect(await tick(batchId, q, due - 1000)).toBe(due);
    expect(q.sent).toEqual([]);
    expect((await batchRow(batchId))?.status).toBe("queued");

    const next = await tick(batchId, q, due);
    expect((await batchRow(batchId))?.status).toBe("processing");
    // 5 calls/s with two seconds of lookahead: 10 jobs, attempt 1, in file order
    expect(q.sent).toEqual(Array.from({ length: 10 }, (_, seq) => ({ batchId, seq, attempt: 1 })));
    expect(next).toBeGreaterThan(due);
    expect(next! - due).toBeLessThanOrEqual(1000);
    // A second tick at the same moment sends nothing new: the reservations are all held.
    await tick(batchId, q, due);
    expect(q.sent).toHaveLength(10);
  });

  it("an alarm that throws half-way and runs again sends each job exactly once", async () => {
    const { batchId, due } = await setup(numbers(300), { callsPerSecond: 100, maxConcurrentCalls: 500 });
    // Dies after the calls were marked dispatched, before the queue took them.
    const failing = recordingQueue(1);
    await expect(tick(batchId, failing, due)).rejects.toThrow("injected queue failure");
    expect(failing.sent).toEqual([]);
    const again = recordingQueue();
    await tick(batchId, again, due);
    // The retry sends the interrupted slice first; once those are claimed (a batch keeps only what is
    // claimed soon on the queue: domain/admission), the next one; nothing twice, nothing skipped.
    expect(again.sent.map((j) => j.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await claimJobsAt(batchId, again.sent, due);
    await tick(batchId, again, due);
    expect(again.sent.map((j) => j.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // Later ticks hand out only calls never sent.
    const third = recordingQueue();
    await tick(batchId, third, due);
    expect(third.sent.every((j) => j.seq >= 200)).toBe(true);
  });

  it("a scheduler restarted mid-batch resumes from storage without gaps or duplicates", async () => {
    const { batchId, due } = await setup(numbers(12), { callsPerSecond: 2, maxConcurrentCalls: 10 });
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1, 2, 3]);
    await abortAllDurableObjects();
    // the four jobs ran (half a second apart: 2 calls/s) and ended; the limiter frees their slots
    for (const j of q.sent) await finishAsConsumerWould(batchId, j.seq, "answered", due + 10 + j.seq * 500);
    await tick(batchId, q, due + 2000);
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("completes the batch when no call can change any more", async () => {
    const { ws, batchId, due } = await setup(numbers(2));
    const q = recordingQueue();
    await tick(batchId, q, due);
    for (const j of q.sent) await finishAsConsumerWould(batchId, j.seq, "answered");
    expect(await tick(batchId, q, due + 100)).toBeNull();
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ status: "completed", isComplete: true, completed: 2, waiting: 0, active: 0, completedTime: due + 100 });
    expect(status.recent_calls).toHaveLength(2);
  });

  it("resolves a call whose final status never arrives once its lease expires, and frees its slot", async () => {
    const { ws, batchId, due } = await setup(numbers(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 50);
    const limiter = env.WORKSPACE_LIMITER.getByName(ws.workspaceId);
    expect((await limiter.snapshot()).leases).toHaveLength(1);
    // The call was dialled but nothing ever came back: a tick a moment before its lease runs out leaves it be, the next resolves it.
    const expiry = due + 50 + engineConfig(env).callLeaseMs;
    await tick(batchId, q, expiry - 1);
    expect((await callRow(batchId, 0))?.status).toBe("active");
    await tick(batchId, q, expiry + 1);
    const calls = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(calls.calls[0]).toMatchObject({ status: "failed", outcome: "failed", attempts: 1, error: expect.stringContaining("lease expired") });
    expect((await limiter.snapshot()).leases).toEqual([]);
    expect((await batchRow(batchId))?.status).toBe("completed");
  });

  it("arms once; arming again keeps the first record", async () => {
    const stub = env.BATCH_SCHEDULER.getByName("batch_test_arm");
    const dueAt = Date.now() + 60_000;
    const first = await stub.arm(armInput({ batchId: "batch_test_arm", dueAt }));
    const second = await stub.arm(armInput({ batchId: "batch_test_arm", dueAt: dueAt + 5_000, workspaceId: "ws_y" }));
    expect(second).toEqual(first);
    expect(await stub.state()).toMatchObject({ dueAt, workspaceId: "ws_x" });
  });

  it("discard forgets the batch and its alarm", async () => {
    const stub = env.BATCH_SCHEDULER.getByName("batch_test_discard");
    await stub.arm(armInput({ batchId: "batch_test_discard", dueAt: Date.now() + 60_000 }));
    await stub.discard();
    expect(await stub.state()).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});

/** Claims the dispatched attempt at `at` (through the rate gate) and ends it with `outcome`. */
async function finishAsConsumerWould(batchId: string, seq: number, outcome: "answered" | "no_answer", at = Date.now()) {
  const a = (await callRow(batchId, seq))!.dispatched_attempt as number;
  await claimAt(batchId, seq, a, at);
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: a, outcome, at, durationSec: 3 })).toBe("applied");
}

describe("handing attempts back", () => {
  it("an attempt whose reservation lapsed is dispatched again, behind the first-attempt cursor", async () => {
    const { consume } = await import("../../engine-helpers");
    const { ws, batchId, due } = await setup(numbers(3), { callsPerSecond: 5, maxConcurrentCalls: 10 });
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1, 2]);
    // seq 0's slot lapsed before its job ran
    await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).release([`${batchId}:0:1`]);
    const result = await consume([q.sent[0]!]);
    expect(result.explicitAcks).toHaveLength(1);
    const again = recordingQueue();
    await tick(batchId, again, due + 10);
    expect(again.sent).toEqual([{ batchId, seq: 0, attempt: 1 }]);
  });
});

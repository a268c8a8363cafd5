import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, captureEvents, claimJobsAt, hookedWorkspace, ledgerQuery, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, upload, type TestWorkspace } from "../../helpers";

/** Claims call `seq`'s first attempt at `at` and ends it with `outcome`. */
async function finish(batchId: string, seq: number, outcome: "answered" | "failed" | "voicemail", at: number) {
  const [claimed] = await claimJobsAt(batchId, [{ seq, attempt: 1 }], at - 5);
  expect(claimed?.kind).toBe("claimed");
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: 1, outcome, at, durationSec: outcome === "failed" ? null : 5 })).toBe("applied");
}

const status = async (ws: TestWorkspace, batchId: string) => json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));

describe("stop rules", () => {
  it("refuse a bad rule at upload with a sentence, creating nothing", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    for (const [rules, words] of [
      ['{"window":50}', "needs maxFailureRate or maxVoicemailRate"],
      ['{"maxFailureRate":1.5}', "at most 1"],
      ['{"maxFailureRate":0}', "above 0"],
      ['{"maxVoicemailRate":0.5,"window":5}', "at least 10"],
      ['{"maxFailureRate":0.3,"windw":50}', "windw"],
      ["{nope", "not valid JSON"],
    ] as const) {
      const res = await upload(ws, phoneList(2), { stopRules: rules });
      expect(res.status, rules).toBe(400);
      expect(await json(res), rules).toMatchObject({ code: "validation_failed", error: expect.stringContaining(words) });
    }
    const list = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(list.batches).toHaveLength(0);
  });

  it("pause the batch once its last `window` finished attempts break one, say why, and announce it once", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const rules = { maxFailureRate: 0.5, window: 10 };
    const { batchId, due } = await uploaded(ws, phoneList(14), { stopRules: JSON.stringify(rules) });
    const events = await captureEvents(batchId);
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent).toHaveLength(14);
    // 9 attempts, 5 failed: the window is not full yet, nothing is judged.
    const outcomes = ["failed", "answered", "failed", "answered", "failed", "answered", "failed", "answered", "failed"] as const;
    for (const [seq, outcome] of outcomes.entries()) await finish(batchId, seq, outcome, due + 100 + seq);
    expect((await batchRow(batchId))?.status).toBe("processing");
    // Call 10 is in flight when the 10th attempt ends: 6 of the last 10 failed, above 50%.
    expect((await claimJobsAt(batchId, [{ seq: 10, attempt: 1 }], due + 150))[0]?.kind).toBe("claimed");
    await finish(batchId, 9, "failed", due + 200);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "failure_rate", auto_pauses: 1, pauses_announced: 1 });
    expect(await status(ws, batchId)).toMatchObject({ status: "paused", paused: true, pausedReason: "failure_rate" });
    const paused = events.filter((e) => e.type === "batch.paused");
    expect(paused).toHaveLength(1);
    expect(paused[0]!.data).toMatchObject({ batchId, pausedReason: "failure_rate", window: 10, failed: 6, voicemail: 0, totalCalls: 14 });
    // Paused: the calls still queued are not dialled.
    const [held] = await claimJobsAt(batchId, [{ seq: 12, attempt: 1 }], due + 300);
    expect(held).toMatchObject({ kind: "not_claimable", batchStatus: "paused" });
    // The call in flight still finishes, and a paused batch is not paused again.
    expect(await applyCallEvent(env, { kind: "final", batchId, seq: 10, attempt: 1, outcome: "failed", at: due + 400 })).toBe("applied");
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", auto_pauses: 1 });
    expect(events.filter((e) => e.type === "batch.paused")).toHaveLength(1);

    // Resume: running again, the reason cleared, and the rules judge a fresh window.
    const resumed = await call(`/v1/api/batch-calls/${batchId}/resume`, { method: "POST", headers: authHeaders(ws) });
    expect(resumed.status).toBe(200);
    expect(await status(ws, batchId)).toMatchObject({ status: "processing", paused: false, pausedReason: null });
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM stop_window")).toEqual([{ n: 0 }]);
  });

  it("a manual pause says manual and sends no batch.paused", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const { batchId } = await uploaded(ws, phoneList(2), { stopRules: JSON.stringify({ maxVoicemailRate: 0.5 }) });
    const events = await captureEvents(batchId);
    expect((await call(`/v1/api/batch-calls/${batchId}/pause`, { method: "POST", headers: authHeaders(ws) })).status).toBe(200);
    expect(await status(ws, batchId)).toMatchObject({ status: "paused", pausedReason: "manual" });
    const batch = await json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
    expect(batch.stopRules).toEqual({ maxVoicemailRate: 0.5, window: 50 });
    expect(events.filter((e) => e.type === "batch.paused")).toHaveLength(0);
  });

  it("after a crash between the pause and its announcement, the next tick announces it with the same event id: paused once, one event", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const { batchId, due } = await uploaded(ws, phoneList(12), { stopRules: JSON.stringify({ maxVoicemailRate: 0.5, window: 10 }) });
    const events = await captureEvents(batchId);
    const q = recordingQueue();
    await tick(batchId, q, due);
    for (let seq = 0; seq < 10; seq++) await finish(batchId, seq, seq < 6 ? "voicemail" : "answered", due + 100 + seq);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "voicemail_rate", auto_pauses: 1 });
    const first = events.filter((e) => e.type === "batch.paused");
    expect(first).toHaveLength(1);
    // As if the process died after the pause committed and before the event was handed over.
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
      (obj as unknown as { ctx: DurableObjectState }).ctx.storage.sql.exec("UPDATE batch SET pauses_announced = 0");
    });
    await tick(batchId, q, due + 1000);
    await tick(batchId, q, due + 2000);
    const all = events.filter((e) => e.type === "batch.paused");
    expect(all).toHaveLength(2);
    expect(all[1]!.id).toBe(all[0]!.id);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", auto_pauses: 1, pauses_announced: 1 });
  });
});

import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { batchRow, completedWithRetryable, dispatched, ledgerQuery, phoneList, recordingQueue, tick } from "../../engine-helpers";
import { ADMIN, authHeaders, call, json, newWorkspace, type TestWorkspace } from "../../helpers";

const post = (ws: TestWorkspace, path: string) => call(path, { method: "POST", headers: authHeaders(ws) });

/** A D1 that is gone: the process died before its next statement. */
const deadDb = new Proxy({} as D1Database, {
  get: () => () => {
    throw new Error("the process died");
  },
});

/**
 * Runs one control method of the batch's object as a process that dies at
 * its first D1 write would: everything the object committed before it
 * stays, nothing after it happens.
 */
async function diesAtSummary(batchId: string, step: (o: BatchScheduler) => Promise<unknown>, at?: number) {
  await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    const live = (obj as unknown as { env: Env }).env;
    const ports = obj.ports;
    (obj as unknown as { env: Env }).env = { ...live, DB: deadDb };
    // `at`: the step runs on the test's clock, so the alarm it arms is the test's to fire.
    if (at !== undefined) obj.ports = { ...ports, now: () => at };
    try {
      await expect(step(obj)).rejects.toThrow("the process died");
    } finally {
      (obj as unknown as { env: Env }).env = live;
      obj.ports = ports;
    }
  });
}

const alarmOf = (batchId: string) => runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.getAlarm());
const dropAlarm = (batchId: string) => runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.deleteAlarm());
const summaryStatus = async (batchId: string) =>
  (await env.DB.prepare("SELECT status FROM batches WHERE id = ?1").bind(batchId).first<{ status: string }>())?.status;

async function cron() {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const engine = async (batchId: string) => json(await call(`/v1/admin/batches/${batchId}/engine`, { headers: ADMIN }));

describe("a control request whose Worker dies half-way", () => {
  it("retry: the alarm is committed before the summary, so the batch moves, and the cron repairs D1", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const { batchId, due } = await completedWithRetryable(ws);
    expect(await summaryStatus(batchId)).toBe("completed");
    // The control route marks the batch first; then the object's step, then the death.
    await call(`/v1/api/batch-calls/${batchId}/pause`, { method: "POST", headers: authHeaders(ws) }); // 409, but marked
    await diesAtSummary(batchId, (o) => o.retry(), due + 300);

    expect((await batchRow(batchId))?.status).toBe("processing");
    expect(await summaryStatus(batchId)).toBe("completed");
    expect(await alarmOf(batchId)).not.toBeNull();
    expect(await engine(batchId)).toMatchObject({ agree: false, stranded: false, object: { status: "processing", waiting: 2 } });

    // Even had the alarm been lost as well, the cron's visit (the batch is marked) repairs D1 and restores it.
    await dropAlarm(batchId);
    expect(await engine(batchId)).toMatchObject({ stranded: true });
    await cron();
    expect(await summaryStatus(batchId)).toBe("processing");
    // The restored alarm may be firing right now (getAlarm reads null while its handler runs): wait for it to settle.
    await expect.poll(() => engine(batchId)).toMatchObject({ agree: true, stranded: false, summary: { controlPendingSince: null } });
    // Its clock runs: the re-queued calls are handed out (by the alarm, or by this tick if it has not fired).
    await tick(batchId, recordingQueue(), due + 1_000);
    const sent = await ledgerQuery(batchId, "SELECT seq, dispatched_attempt FROM calls WHERE seq IN (1, 2) ORDER BY seq");
    expect(sent).toEqual([
      { seq: 1, dispatched_attempt: 2 },
      { seq: 2, dispatched_attempt: 2 },
    ]);
  });

  it("retry: a re-sent retry finds the batch running, re-arms it and writes D1 before its 409", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const { batchId } = await completedWithRetryable(ws);
    await diesAtSummary(batchId, (o) => o.retry());
    await dropAlarm(batchId);
    const again = await post(ws, `/v1/api/batch-calls/${batchId}/retry`);
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ code: "invalid_transition", error: expect.stringContaining("processing") });
    expect(await summaryStatus(batchId)).toBe("processing");
    expect(await alarmOf(batchId)).not.toBeNull();
    expect((await batchRow(batchId))?.pass).toBe(2);
  });

  it("resume: the object is live again, D1 says paused; a re-sent resume re-arms and repairs D1", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId } = await dispatched(ws, phoneList(4));
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    await diesAtSummary(batchId, (o) => o.resume());
    // Paused before its first call started, so it goes back to waiting for its start time.
    expect((await batchRow(batchId))?.status).toBe("queued");
    expect(await summaryStatus(batchId)).toBe("paused");
    expect(await alarmOf(batchId)).not.toBeNull();

    await dropAlarm(batchId);
    const again = await post(ws, `/v1/api/batch-calls/${batchId}/resume`);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ status: "queued" });
    expect(await summaryStatus(batchId)).toBe("queued");
    expect(await alarmOf(batchId)).not.toBeNull();
  });

  it("resume: without any new request, the cron's visit of the marked batch repairs D1", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId } = await dispatched(ws, phoneList(4));
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    await diesAtSummary(batchId, (o) => o.resume());
    await cron();
    expect(await summaryStatus(batchId)).toBe("queued");
    // The mark is cleared by the visit: later crons do not visit a batch nobody touched.
    const marked = await env.DB.prepare("SELECT control_at FROM batches WHERE id = ?1").bind(batchId).first<{ control_at: number | null }>();
    expect(marked?.control_at).toBeNull();
  });

  it("pause: a death before the summary is repaired by the next tick", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId, due } = await dispatched(ws, phoneList(4));
    await diesAtSummary(batchId, (o) => o.pause());
    expect(await summaryStatus(batchId)).toBe("processing");
    const q = recordingQueue();
    await tick(batchId, q, due + 5_000);
    expect(q.sent).toEqual([]);
    expect(await summaryStatus(batchId)).toBe("paused");
  });

  it("cancel: a death before the summary and webhook; a re-sent cancel writes D1 and announces the cancellation once", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId } = await dispatched(ws, phoneList(4));
    await diesAtSummary(batchId, (o) => o.cancel());
    expect((await batchRow(batchId))?.status).toBe("cancelled");
    expect(await summaryStatus(batchId)).toBe("processing");
    expect((await env.BATCH_SCHEDULER.getByName(batchId).state())?.cancelAnnounced).toBeFalsy();

    const again = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(again.status).toBe(200);
    expect(await summaryStatus(batchId)).toBe("cancelled");
    expect((await env.BATCH_SCHEDULER.getByName(batchId).state())?.cancelAnnounced).toBe(true);
  });

  it("the engine view is the operator's: 401 without the token, 404 for an unknown batch", async () => {
    expect((await call("/v1/admin/batches/batch_nope/engine")).status).toBe(401);
    const res = await call("/v1/admin/batches/batch_nope/engine", { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found", error: "Batch batch_nope does not exist." });
  });
});

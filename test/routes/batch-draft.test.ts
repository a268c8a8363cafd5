import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { BatchScheduler } from "../../src/durable/batch/scheduler";
import type { WebhookEvent } from "../../src/queue/webhook-event";
import { batchRow, ledgerQuery, recordingQueue, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const CSV = "phone_number\n+12125550101\n+12125550102\n+12125550101\n+12125550103\n";
const DRAFT_SENTENCE = "a draft can be started (POST";

const post = (ws: TestWorkspace, path: string) => call(path, { method: "POST", headers: authHeaders(ws) });
const startOf = (ws: TestWorkspace, batchId: string) => post(ws, `/v1/api/batch-calls/${batchId}/start`);
const d1Status = async (batchId: string) =>
  (await env.DB.prepare("SELECT status FROM batches WHERE id = ?1").bind(batchId).first<{ status: string }>())?.status;
const alarmOf = (batchId: string) => runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.getAlarm());
const dropAlarm = (batchId: string) => runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.deleteAlarm());

/** The batch-level webhooks this workspace's batches hand to the webhook queue (objects of other tests share the binding). */
function captureEmitted(workspaceId: string): WebhookEvent[] {
  const emitted: WebhookEvent[] = [];
  vi.spyOn(env.WEBHOOK_QUEUE, "send").mockImplementation(async (body: unknown) => {
    if ((body as WebhookEvent).workspaceId === workspaceId) emitted.push(body as WebhookEvent);
    return undefined as never;
  });
  return emitted;
}

async function cron() {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** A workspace with a webhook URL, so batch.started and batch.cancelled are emitted. */
const hookedWorkspace = () => newWorkspace({ webhookUrl: "https://hooks.example.test/calls", rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });

describe("drafts: upload with start=false, then POST …/start", () => {
  it("a draft is validated, stored and counted, shown everywhere as draft, and dials nothing however often its clock ticks", async () => {
    const ws = await hookedWorkspace();
    const emitted = captureEmitted(ws.workspaceId);
    const dnc = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550103"] }),
    });
    expect(dnc.status).toBeLessThan(300);
    const res = await upload(ws, CSV, { start: "false" });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ status: "draft", totalCalls: 2, duplicatesRemoved: 1, suppressed: 1, invalidRows: 0 });
    expect(body.message).toContain(`/v1/api/batch-calls/${body.batchId}/start`);
    const { batchId } = body;

    const due = (await env.BATCH_SCHEDULER.getByName(batchId).state())!.dueAt;
    const q = recordingQueue();
    // Before its scheduledAt the clock sleeps until then; at and after it, a draft gives it nothing to wake for.
    expect(await tick(batchId, q, Date.now())).toBe(due);
    expect(await tick(batchId, q, due)).toBeNull();
    expect(await tick(batchId, q, due + 3_600_000)).toBeNull();
    expect(q.sent).toEqual([]);
    expect(await batchRow(batchId)).toMatchObject({ status: "draft", total_calls: 2, waiting_count: 2, start_time: null });
    expect(await d1Status(batchId)).toBe("draft");

    const read = await json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
    expect(read).toMatchObject({ status: "draft", isComplete: false, totalCalls: 2, progress: { status: "draft", waiting: 2, paused: false } });
    const list = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(list.batches.map((b: { id: string; status: string }) => [b.id, b.status])).toEqual([[batchId, "draft"]]);
    const calls = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(calls.calls.map((c: { phone_number: string; status: string }) => [c.phone_number, c.status])).toEqual([
      ["+12125550101", "waiting"],
      ["+12125550102", "waiting"],
    ]);
    // Nothing started, so nothing was announced.
    expect(emitted).toEqual([]);
  });

  it("a number joining the do-not-call list is cancelled in a draft too (a draft may still be started)", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550102"] }),
    });
    expect(await batchRow(batchId)).toMatchObject({ status: "draft", waiting_count: 2, cancelled_count: 1 });
  });

  it("start now: the draft goes straight to processing, says so, announces batch.started and its calls are dispatched", async () => {
    const ws = await hookedWorkspace();
    const emitted = captureEmitted(ws.workspaceId);
    const { batchId } = await uploaded(ws, CSV, { start: "false", scheduledAt: "" });
    const at = Date.now();
    const q = recordingQueue();
    expect(await tick(batchId, q, at)).toBeNull();
    expect(q.sent).toEqual([]);

    const res = await startOf(ws, batchId);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ batchId, status: "processing", message: expect.stringContaining("now") });
    expect(await d1Status(batchId)).toBe("processing");
    expect(emitted.map((e) => [e.type, e.data])).toEqual([["batch.started", { batchId, totalCalls: 3 }]]);

    // The armed alarm may already have dispatched them (to the same recording queue): either way each call goes out once.
    await tick(batchId, q, at + 1_000);
    expect(q.sent.map((j) => j.seq).sort()).toEqual([0, 1, 2]);
    expect(emitted.filter((e) => e.type === "batch.started")).toHaveLength(1);
  });

  it("start with scheduledAt ahead: queued until then, dispatched at its time with batch.started", async () => {
    const ws = await hookedWorkspace();
    const emitted = captureEmitted(ws.workspaceId);
    const { batchId, due } = await uploaded(ws, CSV, { start: "false" });
    const q = recordingQueue();
    await tick(batchId, q, Date.now());

    const res = await startOf(ws, batchId);
    expect(await json(res)).toEqual({ batchId, status: "queued", message: expect.stringContaining("scheduledAt") });
    expect(await d1Status(batchId)).toBe("queued");
    expect(emitted).toEqual([]);

    expect(await tick(batchId, q, due - 60_000)).toBe(due);
    expect(q.sent).toEqual([]);
    await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq).sort()).toEqual([0, 1, 2]);
    expect((await batchRow(batchId))?.status).toBe("processing");
    expect(emitted.map((e) => e.type)).toEqual(["batch.started"]);
  });

  it("only a draft starts: a second start, or a start of an ordinary batch, is a 409 naming its status", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false", scheduledAt: "" });
    await tick(batchId, recordingQueue(), Date.now());
    expect((await startOf(ws, batchId)).status).toBe(200);
    // What a client sees when it re-sends a start whose answer it lost: the batch did start.
    const again = await startOf(ws, batchId);
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ code: "invalid_transition", error: `Batch ${batchId} is processing; only a draft can be started.` });
    expect((await batchRow(batchId))?.pass).toBe(1);

    const ordinary = await json(await upload(ws, CSV));
    const res = await startOf(ws, ordinary.batchId);
    expect(res.status).toBe(409);
    expect((await json(res)).error).toBe(`Batch ${ordinary.batchId} is queued; only a draft can be started.`);
  });

  it("pause, resume and retry of a draft are 409s saying a draft can be started or cancelled; nothing changes", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    for (const action of ["pause", "resume", "retry"]) {
      const res = await post(ws, `/v1/api/batch-calls/${batchId}/${action}`);
      expect(res.status, action).toBe(409);
      const body = await json(res);
      expect(body.code, action).toBe("invalid_transition");
      expect(body.error, action).toContain(DRAFT_SENTENCE);
      expect(body.error, action).toContain("or cancelled (DELETE");
    }
    expect((await batchRow(batchId))?.status).toBe("draft");
    expect(await d1Status(batchId)).toBe("draft");
  });

  it("cancelling a draft cancels every call with nothing dialled; it cannot be started afterwards", async () => {
    const ws = await hookedWorkspace();
    const emitted = captureEmitted(ws.workspaceId);
    const { batchId, due } = await uploaded(ws, CSV, { start: "false" });
    const res = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ batchId, status: "cancelled", details: { cancelledCalls: 3, completedCalls: 0, failedCalls: 0, totalCalls: 3 } });
    expect(await d1Status(batchId)).toBe("cancelled");
    expect(emitted.map((e) => e.type)).toEqual(["batch.cancelled"]);

    const q = recordingQueue();
    expect(await tick(batchId, q, due)).toBeNull();
    expect(q.sent).toEqual([]);
    const start = await startOf(ws, batchId);
    expect(start.status).toBe(409);
    expect((await json(start)).error).toBe(`Batch ${batchId} is cancelled; only a draft can be started.`);
  });

  it("another workspace's draft, or no such batch, is a 404 and starts nothing", async () => {
    const owner = await newWorkspace();
    const other = await newWorkspace();
    const { batchId } = await uploaded(owner, CSV, { start: "false" });
    const res = await startOf(other, batchId);
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "batch_not_found" });
    expect((await startOf(owner, "batch_0000000000000000")).status).toBe(404);
    expect((await batchRow(batchId))?.status).toBe("draft");
  });

  it("start must be true or false (a 400, nothing created); a dry run with start=false is only a dry run", async () => {
    const ws = await newWorkspace();
    const bad = await upload(ws, CSV, { start: "later" });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ code: "validation_failed", error: 'start must be "true" or "false"' });
    const dry = await upload(ws, CSV, { start: "false", dryRun: "true" });
    expect(dry.status).toBe(200);
    expect(await json(dry)).toMatchObject({ batchId: null, status: "dry_run", totalCalls: 3 });
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM batches WHERE workspace_id = ?1").bind(ws.workspaceId).first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it("the cron leaves a draft without a clock: it restores no alarm and dispatches nothing", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false", scheduledAt: "" });
    await tick(batchId, recordingQueue(), Date.now());
    await dropAlarm(batchId);
    // A refused control request marks the batch, so the cron visits it.
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(409);
    await cron();
    expect(await alarmOf(batchId)).toBeNull();
    expect(await batchRow(batchId)).toMatchObject({ status: "draft", waiting_count: 3 });
    expect(await ledgerQuery(batchId, "SELECT seq FROM calls WHERE dispatched_attempt > attempts")).toEqual([]);
  });

  it("a start whose Worker dies before D1's summary: the batch runs, and the cron's visit writes D1", async () => {
    const ws = await newWorkspace();
    const { batchId, due } = await uploaded(ws, CSV, { start: "false" });
    // The draft's first ticks (real alarms, from its upload) settle on an alarm at its scheduledAt: taken away, none can race
    // the death below, and the alarm left after it is the one the start armed.
    await expect.poll(() => alarmOf(batchId)).toBe(due);
    await dropAlarm(batchId);
    // The object stands on the test's clock past its scheduledAt (so it starts now, and its alarm is the test's, a day ahead).
    await tick(batchId, recordingQueue(), due + 1_000);
    // The start route marks the batch before it tells the object; a refused request marks it the same way.
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(409);
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
      const live = (obj as unknown as { env: Env }).env;
      const dead = new Proxy({} as D1Database, {
        get: () => () => {
          throw new Error("the process died");
        },
      });
      (obj as unknown as { env: Env }).env = { ...live, DB: dead };
      try {
        await expect(obj.start()).rejects.toThrow("the process died");
      } finally {
        (obj as unknown as { env: Env }).env = live;
      }
    });
    expect((await batchRow(batchId))?.status).toBe("processing");
    expect(await d1Status(batchId)).toBe("draft");
    expect(await alarmOf(batchId)).toBeGreaterThan(due);
    await cron();
    expect(await d1Status(batchId)).toBe("processing");
  });

  it("the OpenAPI document has POST …/start with its 200, 404 and 409, and draft among the batch statuses", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const op = doc.paths["/v1/api/batch-calls/{batchId}/start"]?.post;
    expect(op).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "404", "409"]));
    expect(op.description).toContain("start=false");
    expect(JSON.stringify(doc.components.schemas)).toContain('"draft"');
  });
});

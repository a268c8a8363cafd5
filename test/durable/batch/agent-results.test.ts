import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import type { WebhookEvent } from "../../../src/queue/webhook-event";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, callRow, claimAt, ledgerQuery, recordingQueue, reportAt, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, failingDb, json, newWorkspace, type TestWorkspace } from "../../helpers";

const HOUR = 3_600_000;

/** Attempt `n` of call `seq` dialled at `at - 10` and ended with `outcome` at `at`. */
async function ended(batchId: string, seq: number, n: number, outcome: "answered" | "no_answer" | "voicemail", at: number) {
  await claimAt(batchId, seq, n, at - 10);
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: n, outcome, at, durationSec: outcome === "no_answer" ? null : 30 })).toBe("applied");
}

async function oneCallBatch(ws: TestWorkspace, phone = "+12125551001", fields: Record<string, string> = {}) {
  const { batchId, due } = await uploaded(ws, `phone_number,first_name\n${phone},Ada\n`, fields);
  const q = recordingQueue();
  await tick(batchId, q, due);
  expect(q.sent).toEqual([{ batchId, seq: 0, attempt: 1 }]);
  return { batchId, due, q };
}

const dncRows = (ws: TestWorkspace) =>
  env.DB.prepare("SELECT phone_number, source FROM dnc WHERE workspace_id = ?").bind(ws.workspaceId).all<{ phone_number: string; source: string | null }>();

describe("an agent's result in the batch's object", () => {
  it("a callbackAt after the call ended schedules the next attempt then, once, and reopens the finished batch", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, q } = await oneCallBatch(ws);
    await ended(batchId, 0, 1, "answered", due + 1000);
    await tick(batchId, q, due + 2000);
    expect((await batchRow(batchId))?.status).toBe("completed");

    const callbackAt = due + 5 * HOUR;
    const first = await reportAt(batchId, 0, { attempt: 1, disposition: "callback", callbackAt }, due + 3000);
    expect(first).toEqual({ kind: "recorded", changed: true, callback: "scheduled", nextAttemptAt: new Date(callbackAt).toISOString() });
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "waiting",
      outcome: "callback_requested",
      due_at: callbackAt,
      requested_callbacks: 1,
      pass_base: 1,
    });
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", completed_time: null, outcome_callback_requested: 1, outcome_answered: 0 });

    // The same report again, and once more after a restart of the object: nothing changes, no second callback.
    expect(await reportAt(batchId, 0, { attempt: 1, disposition: "callback", callbackAt }, due + 4000)).toMatchObject({
      changed: false,
      callback: "scheduled",
    });
    expect(await callRow(batchId, 0)).toMatchObject({ requested_callbacks: 1, due_at: callbackAt });

    expect(await tick(batchId, q, due + 6000)).toBe(callbackAt);
    await tick(batchId, q, callbackAt);
    expect(q.sent.at(-1)).toEqual({ batchId, seq: 0, attempt: 2 });
    await ended(batchId, 0, 2, "answered", callbackAt + 60_000);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", attempts: 2 });
    await tick(batchId, q, callbackAt + 61_000);
    expect(await batchRow(batchId)).toMatchObject({ status: "completed", pass: 2 });

    const history = await ledgerQuery(batchId, "SELECT attempt, outcome, start_time, end_time FROM attempt_log WHERE seq = 0 ORDER BY attempt");
    expect(history).toEqual([
      { attempt: 1, outcome: "answered", start_time: due + 990, end_time: due + 1000 },
      { attempt: 2, outcome: "answered", start_time: callbackAt + 59_990, end_time: callbackAt + 60_000 },
    ]);
  });

  it("a process that dies right after recording a callback request still calls back once, and a resent report adds nothing", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, q } = await oneCallBatch(ws);
    await ended(batchId, 0, 1, "answered", due + 1000);
    await tick(batchId, q, due + 2000);
    const callbackAt = due + HOUR;
    // Its first D1 write (the reopened batch's summary) is where the process dies.
    const dead = new Proxy({} as D1Database, {
      get: () => () => {
        throw new Error("the process died");
      },
    });
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
      const live = (obj as unknown as { env: Env }).env;
      (obj as unknown as { env: Env }).env = { ...live, DB: dead };
      obj.ports = { ...obj.ports, now: () => due + 3000 };
      await expect(obj.recordResult(0, { attempt: 1, callbackAt, source: "agent" })).rejects.toThrow("the process died");
      (obj as unknown as { env: Env }).env = live;
    });
    // What the step committed stands, with the alarm armed before it.
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", outcome: "callback_requested", due_at: callbackAt, requested_callbacks: 1 });
    expect(await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.getAlarm())).not.toBeNull();
    // The agent got no answer and sends the report again: already known.
    expect(await reportAt(batchId, 0, { attempt: 1, callbackAt }, due + 4000)).toMatchObject({ changed: false, callback: "scheduled" });
    expect(await tick(batchId, q, due + 5000)).toBe(callbackAt);
    expect((await batchRow(batchId))?.status).toBe("processing");
    await tick(batchId, q, callbackAt);
    expect(q.sent.filter((j) => j.seq === 0)).toEqual([
      { batchId, seq: 0, attempt: 1 },
      { batchId, seq: 0, attempt: 2 },
    ]);
  });

  it("tells the workspace's webhook: call.result with what the agent said, and call.retry_scheduled for the requested callback", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 }, webhookUrl: "https://hooks.example.test/calls" });
    const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n");
    // Every event the object sends is captured, from the start (nothing reaches the real queue and its delivery).
    const seen: WebhookEvent[] = [];
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
      const own = (obj as unknown as { env: Env }).env;
      (obj as unknown as { env: Env }).env = { ...own, WEBHOOK_QUEUE: { send: async (e: WebhookEvent) => void seen.push(e) } as unknown as Queue };
    });
    await tick(batchId, recordingQueue(), due);
    await ended(batchId, 0, 1, "answered", due + 1000);
    seen.length = 0;
    const report = { attempt: 1, disposition: "callback", summary: "Call me at five", data: { best_time: "17:00" }, callbackAt: due + 5 * HOUR };
    await reportAt(batchId, 0, report, due + 2000);
    await reportAt(batchId, 0, report, due + 2500); // a replay sends nothing
    const id = `call_${batchId.slice(6)}_0`;
    expect(seen.map((e) => e.type)).toEqual(["call.result", "call.retry_scheduled"]);
    expect(seen[0]!.data).toEqual({
      batchId,
      callId: id,
      attempt: 1,
      disposition: "callback",
      summary: "Call me at five",
      sentiment: null,
      data: { best_time: "17:00" },
      recordingUrl: null,
      transcriptUrl: null,
      callbackAt: new Date(due + 5 * HOUR).toISOString(),
      optOut: false,
    });
    expect(seen[1]!.data).toMatchObject({
      callId: id,
      attempt: 1,
      outcome: "callback_requested",
      reason: "callback_requested",
      nextAttemptAt: new Date(due + 5 * HOUR).toISOString(),
    });
  });

  it("a result that comes before the attempt's end waits for it, then decides the callback", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await oneCallBatch(ws);
    await claimAt(batchId, 0, 1, due + 10);
    const callbackAt = due + 2 * HOUR;
    expect(await reportAt(batchId, 0, { attempt: 1, callbackAt, summary: "Call me at five" }, due + 500)).toMatchObject({ callback: "pending" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 1000, durationSec: 40 });
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "waiting",
      outcome: "callback_requested",
      due_at: callbackAt,
      requested_callbacks: 1,
      error: null,
    });
    expect(await ledgerQuery(batchId, "SELECT callback_state FROM results")).toEqual([{ callback_state: "scheduled" }]);
  });

  it("requested callbacks stop at maxRequestedCallbacks and the answer says why", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const smart = JSON.stringify({ enabled: false, maxRequestedCallbacks: 1 });
    const { batchId, due, q } = await oneCallBatch(ws, "+12125551001", { smartCallbackConfig: smart });
    await ended(batchId, 0, 1, "answered", due + 1000);
    expect(await reportAt(batchId, 0, { attempt: 1, callbackAt: due + HOUR }, due + 2000)).toMatchObject({ callback: "scheduled" });
    await tick(batchId, q, due + HOUR);
    await ended(batchId, 0, 2, "answered", due + HOUR + 1000);
    const again = await reportAt(batchId, 0, { attempt: 2, callbackAt: due + 3 * HOUR }, due + HOUR + 2000);
    expect(again).toMatchObject({ kind: "recorded", changed: true, callback: "ignored" });
    expect(again.kind === "recorded" && again.callbackNote).toContain("maxRequestedCallbacks");
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", requested_callbacks: 1 });
  });

  it("a requested callback is moved into the calling window, in the recipient's zone", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const window = JSON.stringify({ start: "09:00", end: "17:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], timezone: "recipient" });
    const { batchId, due } = await uploaded(ws, "phone_number,timezone\n+12125551001,Asia/Tokyo\n", { callingWindow: window });
    const q = recordingQueue();
    // The batch starts when Tokyo's window is open: 10:00 Tokyo is 01:00 UTC.
    const day = Math.ceil(due / (24 * HOUR)) * 24 * HOUR;
    await tick(batchId, q, day + HOUR);
    expect(q.sent).toHaveLength(1);
    await ended(batchId, 0, 1, "answered", day + HOUR + 1000);
    // 20:00 Tokyo (11:00 UTC) is after hours: the callback moves to 09:00 Tokyo the next day (00:00 UTC).
    const answer = await reportAt(batchId, 0, { attempt: 1, callbackAt: day + 11 * HOUR }, day + HOUR + 2000);
    expect(answer).toMatchObject({ callback: "scheduled", nextAttemptAt: new Date(day + 24 * HOUR).toISOString() });
  });

  it("an opt-out puts the number on the do-not-call list once, with its source, and cancels it in every live batch", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, q } = await oneCallBatch(ws);
    const other = await uploaded(ws, "phone_number\n+12125551001\n+12125551011\n");
    await ended(batchId, 0, 1, "answered", due + 1000);
    expect(await reportAt(batchId, 0, { attempt: 1, optOut: true, disposition: "do_not_call" }, due + 2000)).toMatchObject({ changed: true });
    // Cancelled here at once; the list and the other batches hear of it with the next tick.
    expect(await ledgerQuery(batchId, "SELECT phone FROM optouts")).toEqual([{ phone: "+12125551001" }]);
    await tick(batchId, q, due + 2100);
    const { results } = await dncRows(ws);
    expect(results).toHaveLength(1);
    expect(results[0]!.phone_number).toBe("+12125551001");
    expect(JSON.parse(results[0]!.source!)).toEqual({ batchId, callId: `call_${batchId.slice(6)}_0`, at: new Date(due + 2000).toISOString() });
    expect(await callRow(other.batchId, 0)).toMatchObject({ status: "cancelled" });
    expect(await callRow(other.batchId, 1)).toMatchObject({ status: "waiting" });
    expect(await ledgerQuery(batchId, "SELECT * FROM optouts")).toEqual([]);

    // Again, and with a callbackAt: one record, the first source, and no callback for someone who opted out.
    const again = await reportAt(batchId, 0, { attempt: 1, optOut: true, callbackAt: due + HOUR }, due + 3000);
    expect(again).toMatchObject({ callback: "ignored" });
    expect((await dncRows(ws)).results).toHaveLength(1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", opted_out: 1 });
    await tick(batchId, q, due + 4000);
    expect((await batchRow(batchId))?.status).toBe("completed");
  });

  it("an opt-out whose do-not-call write fails is kept and carried by the next tick", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, q } = await oneCallBatch(ws);
    await ended(batchId, 0, 1, "answered", due + 1000);
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    // The object's D1 refuses the write: the result and the pending opt-out commit, the list does not change yet.
    await runInDurableObject(stub, async (obj: BatchScheduler) => {
      const real = (obj as unknown as { env: Env }).env;
      (obj as unknown as { env: Env }).env = { ...real, DB: failingDb(real.DB, (sql) => sql.includes("INSERT INTO dnc")) };
      obj.ports = { ...obj.ports, now: () => due + 2000 };
      expect(await obj.recordResult(0, { attempt: 1, optOut: true, source: "agent" })).toMatchObject({ kind: "recorded", changed: true });
      (obj as unknown as { env: Env }).env = real;
    });
    expect(await ledgerQuery(batchId, "SELECT phone FROM optouts")).toEqual([{ phone: "+12125551001" }]);
    // The tick that follows still meets the failing list: the opt-out stays, and the clock comes back for it.
    await runInDurableObject(stub, async (obj: BatchScheduler) => {
      const real = (obj as unknown as { env: Env }).env;
      (obj as unknown as { env: Env }).env = { ...real, DB: failingDb(real.DB, (sql) => sql.includes("INSERT INTO dnc")) };
      obj.ports = { ...obj.ports, now: () => due + 3000 };
      expect(await obj.tick()).toBe(due + 3000 + 5000);
      (obj as unknown as { env: Env }).env = real;
    });
    expect((await dncRows(ws)).results).toHaveLength(0);
    expect(await ledgerQuery(batchId, "SELECT phone FROM optouts")).toEqual([{ phone: "+12125551001" }]);
    await tick(batchId, q, due + 10_000);
    expect((await dncRows(ws)).results.map((r) => r.phone_number)).toEqual(["+12125551001"]);
    expect(await ledgerQuery(batchId, "SELECT * FROM optouts")).toEqual([]);
  });

  it("a result for a cancelled batch is kept but schedules nothing; unknown calls and undialled attempts are refused", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await oneCallBatch(ws);
    await ended(batchId, 0, 1, "answered", due + 1000);
    expect(await reportAt(batchId, 0, { attempt: 2, disposition: "x" }, due + 1500)).toEqual({ kind: "not_dialled", attempts: 1 });
    expect(await reportAt(batchId, 7, { attempt: 1, disposition: "x" }, due + 1500)).toEqual({ kind: "unknown_call" });
    expect((await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    const answer = await reportAt(batchId, 0, { attempt: 1, disposition: "interested", callbackAt: due + HOUR }, due + 2000);
    expect(answer).toMatchObject({ kind: "recorded", changed: true, callback: "ignored" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", disposition: "interested" });
  });

  it("a result is checked against the results the agent declared when the batch started", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const patch = (resultSchema: unknown) =>
      call(`/v1/api/agents/${ws.agentId}`, {
        method: "PATCH",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ resultSchema }),
      });
    expect((await patch({ dispositions: ["booked", "not_interested"] })).status).toBe(200);
    const { batchId, due } = await oneCallBatch(ws);
    // Changed after the batch started: the batch keeps its own copy (and its export columns).
    expect((await patch({ dispositions: ["interested"] })).status).toBe(200);
    await ended(batchId, 0, 1, "answered", due + 1000);
    const refused = await reportAt(batchId, 0, { attempt: 1, disposition: "interested" }, due + 2000);
    expect(refused).toMatchObject({ kind: "invalid" });
    expect(refused.kind === "invalid" && refused.problem).toContain("booked, not_interested");
    expect(await ledgerQuery(batchId, "SELECT * FROM results")).toEqual([]);
    expect(await reportAt(batchId, 0, { attempt: 1, disposition: "booked" }, due + 2000)).toMatchObject({ kind: "recorded", changed: true });
  });

  it("outcome and disposition counters follow every transition, without a scan", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n+12125551011\n+12125551021\n");
    const q = recordingQueue();
    await tick(batchId, q, due);
    await ended(batchId, 0, 1, "answered", due + 1000);
    await ended(batchId, 1, 1, "answered", due + 1000);
    await ended(batchId, 2, 1, "no_answer", due + 1000);
    await reportAt(batchId, 0, { attempt: 1, disposition: "booked", data: { slot: "Tue 10:00" } }, due + 2000);
    await reportAt(batchId, 1, { attempt: 1, disposition: "booked" }, due + 2000);
    await reportAt(batchId, 1, { attempt: 1, disposition: "not_interested", data: { reason: "price" } }, due + 3000);
    // Replays change no counter.
    await reportAt(batchId, 1, { attempt: 1, disposition: "not_interested", data: { reason: "price" } }, due + 3500);
    await reportAt(batchId, 0, { attempt: 1, disposition: "booked" }, due + 3500);
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status.outcomes).toMatchObject({ answered: 2, no_answer: 1, voicemail: 0, callback_requested: 0 });
    expect(status.dispositions).toEqual({ booked: 1, not_interested: 1 });
    const fields = await env.BATCH_SCHEDULER.getByName(batchId).resultFields();
    expect(fields).toEqual(["slot", "reason"]);
    const merged = await ledgerQuery(batchId, "SELECT data, revision FROM results WHERE seq = 1");
    expect(merged).toEqual([{ data: JSON.stringify({ reason: "price" }), revision: 2 }]);
  });
});

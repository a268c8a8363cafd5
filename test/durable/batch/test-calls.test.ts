import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_SEQ_BASE } from "../../../src/domain/test-call";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { engineConfig } from "../../../src/engine-config";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, captureEvents, ledgerQuery, recordingQueue, reportAt, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, newWorkspace } from "../../helpers";

const CSV = "phone_number,first_name\n+12125550101,Ada\n+12125550102,Bob\n";
const SEQ = TEST_SEQ_BASE + 1;

/** A draft (or, with `fields`, another batch) and test call 1 recorded by its object (the Worker's dial left out), with the batch's events captured. */
async function withTestCall(to = "+14155550100", fields: Record<string, string> = { start: "false" }) {
  const ws = await newWorkspace({ webhookUrl: "https://hooks.example.test/calls", rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
  const { batchId, due } = await uploaded(ws, CSV, fields);
  const events = await captureEvents(batchId);
  const created = await env.BATCH_SCHEDULER.getByName(batchId).testCall({ to, row: 1 });
  expect(created.ok).toBe(true);
  return { ws, batchId, due, events };
}

const testRow = async (batchId: string, seq = SEQ) => (await ledgerQuery(batchId, "SELECT * FROM test_calls WHERE seq = ?", seq))[0];
const final = (batchId: string, outcome: "answered" | "failed", at: number, seq = SEQ) =>
  applyCallEvent(env, { kind: "final", batchId, seq, attempt: 1, outcome, at, durationSec: outcome === "answered" ? 42 : null, providerCallId: "p1" });

describe("a test call in its batch's object", () => {
  it("a replayed or late status report changes nothing, and the batch's row never moves", async () => {
    const { batchId, events } = await withTestCall();
    const batchBefore = await batchRow(batchId);
    const at = Date.now();
    expect(await final(batchId, "answered", at)).toBe("applied");
    const ended = await testRow(batchId);
    expect(ended).toMatchObject({ status: "completed", outcome: "answered", end_time: at, duration: 42, error: null });
    expect(await final(batchId, "answered", at)).toBe("ignored");
    expect(await final(batchId, "failed", at + 5_000)).toBe("ignored");
    expect(await testRow(batchId)).toEqual(ended);
    expect(await batchRow(batchId)).toEqual(batchBefore);
    expect(events.map((e) => [e.type, e.data.test, e.data.status])).toEqual([["call.completed", true, "completed"]]);
    // A test seq the batch never had is unknown, as any call would be.
    expect(await final(batchId, "answered", at, SEQ + 1)).toBe("unknown_call");
  });

  it("never passes through the stop rules: ten failing test calls do not pause a running batch with maxFailureRate", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const rules = JSON.stringify({ maxFailureRate: 0.5, window: 10 });
    const { batchId, due } = await uploaded(ws, CSV, { start: "false", stopRules: rules });
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    for (let i = 0; i < 10; i++) expect((await stub.testCall({ to: "+14155550109", row: 1 })).ok).toBe(true);
    expect((await call(`/v1/api/batch-calls/${batchId}/start`, { method: "POST", headers: authHeaders(ws) })).status).toBe(200);
    // Running on the test's clock: its calls handed to a recording queue, none dialled.
    await tick(batchId, recordingQueue(), due);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", active_count: 0, failed_count: 0 });
    // The test calls end while the batch runs: a full window of failures, were they counted.
    for (let i = 1; i <= 10; i++) expect(await final(batchId, "failed", due + 1_000, TEST_SEQ_BASE + i)).toBe("applied");
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", paused_reason: null, window_n: 0, failed_count: 0, auto_pauses: 0 });
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM stop_window")).toEqual([{ n: 0 }]);
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM test_calls WHERE status = 'failed'")).toEqual([{ n: 10 }]);
  });

  it("the provider's answer: placed confirms it (call.started even after a quick final), a refusal or rate limit fails it at once, a lost answer leaves it active", async () => {
    const { batchId, events } = await withTestCall();
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    const at = Date.now();
    // The carrier's final can arrive before the consumer's report: the call rang all the same.
    await final(batchId, "answered", at);
    await stub.placed([{ seq: SEQ, attempt: 1, kind: "placed", providerCallId: "sim_1" }]);
    expect(await testRow(batchId)).toMatchObject({ status: "completed" });
    expect(events.map((e) => [e.type, e.data.test])).toEqual([
      ["call.completed", true],
      ["call.started", true],
    ]);
    expect(events[1]!.data).toMatchObject({ callId: `call_${batchId.slice(6)}_${SEQ}`, phone_number: "+14155550100", attempt: 1 });

    for (let i = 0; i < 3; i++) expect((await stub.testCall({ to: "+14155550100", row: 2 })).ok).toBe(true);
    await stub.placed([
      { seq: SEQ + 1, attempt: 1, kind: "rejected", error: "Invalid 'To' number", at },
      { seq: SEQ + 2, attempt: 1, kind: "rate_limited" },
      { seq: SEQ + 3, attempt: 1, kind: "unknown", error: "The provider timed out" },
    ]);
    expect(await testRow(batchId, SEQ + 1)).toMatchObject({ status: "failed", outcome: "failed", error: expect.stringContaining("Invalid 'To' number") });
    expect(await testRow(batchId, SEQ + 2)).toMatchObject({ status: "failed", error: expect.stringContaining("rate limited") });
    expect(await testRow(batchId, SEQ + 3)).toMatchObject({ status: "active", error: "The provider timed out", end_time: null });
    expect(events.filter((e) => e.type === "call.failed").map((e) => e.data.callId)).toEqual([SEQ + 1, SEQ + 2].map((s) => `call_${batchId.slice(6)}_${s}`));
    expect((await batchRow(batchId))?.failed_count).toBe(0);
  });

  it("a call whose final report never comes is shown as failed once the call lease has passed", async () => {
    const { batchId, events } = await withTestCall();
    const lease = engineConfig(env).callLeaseMs;
    const list = (at: number) =>
      runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
        obj.ports = { ...obj.ports, now: () => at };
        return obj.testCalls();
      });
    const start = (await testRow(batchId))!.start_time as number;
    expect((await list(start + lease - 1))?.[0]).toMatchObject({ status: "active" });
    const [late] = (await list(start + lease + 1))!;
    expect(late).toMatchObject({ status: "failed", outcome: "failed", error: expect.stringContaining("No final report came from the provider") });
    expect(events.map((e) => [e.type, e.data.test])).toEqual([["call.failed", true]]);
  });

  it("an agent's result is merged and announced with test: true, but acted on never: no callback, no do-not-call entry, no call cancelled", async () => {
    const { ws, batchId, events } = await withTestCall("+12125550101");
    const at = Date.now();
    const report = { attempt: 1, disposition: "do_not_call", optOut: true as const, callbackAt: at + 3_600_000 };
    expect(await reportAt(batchId, SEQ, report, at)).toEqual({
      kind: "recorded",
      changed: true,
      callback: "ignored",
      callbackNote: "A test call schedules no callback.",
    });
    expect(await reportAt(batchId, SEQ, report, at + 1)).toMatchObject({ kind: "recorded", changed: false });
    expect(await reportAt(batchId, SEQ, { attempt: 2, summary: "x" }, at)).toEqual({ kind: "not_dialled", attempts: 1 });
    // The operator called the batch's own first recipient's number: still not a recipient.
    expect(await batchRow(batchId)).toMatchObject({ waiting_count: 2, cancelled_count: 0 });
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM optouts")).toEqual([{ n: 0 }]);
    // The tick carries a recipient's opt-out to the workspace's list: it has none to carry.
    await tick(batchId, recordingQueue(), at + 1_000);
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).phoneNumbers).toEqual([]);
    expect(events.map((e) => [e.type, e.data.disposition, e.data.optOut, e.data.test])).toEqual([["call.result", "do_not_call", true, true]]);
    const [shown] = (await env.BATCH_SCHEDULER.getByName(batchId).testCalls())!;
    expect(shown!.result).toMatchObject({ attempt: 1, disposition: "do_not_call", optOut: true });
  });

  it("a result outside the agent's declared results is refused for a test call too; the API-key route records one that fits", async () => {
    const ws = await newWorkspace();
    const declared = await call(`/v1/api/agents/${ws.agentId}`, {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ resultSchema: { dispositions: ["booked", "not_interested"] } }),
    });
    expect(declared.status).toBe(200);
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    expect((await env.BATCH_SCHEDULER.getByName(batchId).testCall({ to: "+14155550100", row: 1 })).ok).toBe(true);
    const id = `call_${batchId.slice(6)}_${SEQ}`;
    const post = (body: unknown) =>
      call(`/v1/api/batch-calls/${batchId}/calls/${id}/result`, {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await post({ attempt: 1, disposition: "interested" });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toContain("booked, not_interested");
    const attempt2 = await post({ attempt: 2, disposition: "booked" });
    expect(attempt2.status).toBe(409);
    expect((await json(attempt2)).error).toBe(`Attempt 2 of ${id} has not been dialled; it has made 1 attempt.`);
    const ok = await post({ attempt: 1, disposition: "booked", data: { slot: "Tue 10:00" } });
    expect(ok.status).toBe(200);
    expect(await json(ok)).toEqual({ callId: id, attempt: 1, recorded: true, changed: true, callback: "none" });
    const [shown] = (await env.BATCH_SCHEDULER.getByName(batchId).testCalls())!;
    expect(shown!.result).toMatchObject({ disposition: "booked", data: { slot: "Tue 10:00" } });
    // The batch's own results and disposition counters never saw it.
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM results")).toEqual([{ n: 0 }]);
    expect((await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }))).dispositions).toEqual({});
  });
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchConfig, SchedulerState } from "../../src/durable/batch/contract";
import { applyCallEvent } from "../../src/services/call-events";
import { batchRow, callRow, claimJobsAt, ledgerQuery, completedWithRetryable, recordingQueue, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, callWithEnv, failingDb, json, LATER, newWorkspace, type TestWorkspace } from "../helpers";

const CSV = "phone_number\n+12125550101\n+12125550102\n";
const PRE_DIAL_URL = "https://predial.example.test/check";
const ALLOWED = "a batch can be edited while draft, queued or paused";
const HOUR = 3_600_000;

const limited = () => newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
const patch = (ws: TestWorkspace, batchId: string, body: unknown) =>
  call(`/v1/api/batch-calls/${batchId}`, {
    method: "PATCH",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const post = (ws: TestWorkspace, path: string) => call(path, { method: "POST", headers: authHeaders(ws) });
const read = async (ws: TestWorkspace, batchId: string) => json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The batch's object's own records: the config its attempts read and its state (dueAt). */
const objectRecords = (batchId: string) =>
  runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => ({
    config: (await state.storage.get<BatchConfig>("config"))!,
    state: (await state.storage.get<SchedulerState>("state"))!,
  }));

async function secondAgent(ws: TestWorkspace): Promise<string> {
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Second", provider: "simulated" }),
  });
  expect(res.status).toBe(201);
  return (await json(res)).agentId;
}

/** The fields of a batch an edit may change, as GET shows them (progress and timestamp move on their own). */
const settings = (b: Record<string, unknown>) => {
  const { progress: _p, timestamp: _t, ...rest } = b;
  return rest;
};

describe("PATCH /v1/api/batch-calls/{batchId}", () => {
  it("edits every field of a draft: GET, D1 and the object's config agree; null clears the optional ones", async () => {
    const ws = await limited();
    const agentB = await secondAgent(ws);
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const later = Date.parse(LATER) + 2 * HOUR;
    const body = {
      name: "  Spring campaign  ",
      agentId: agentB,
      scheduledAt: iso(later),
      callingWindow: { start: "09:00", end: "18:00", timezone: "UTC" },
      maxConcurrentCalls: 3,
      smartCallbackConfig: { enabled: true, maxAttempts: 2, gaps: [{ hours: 1 }] },
      stopRules: { maxFailureRate: 0.4 },
      preDialUrl: PRE_DIAL_URL,
      preDialOnError: "dial",
    };
    const res = await patch(ws, batchId, body);
    expect(res.status).toBe(200);
    const edited = await json(res);
    const expected = {
      id: batchId,
      status: "draft",
      name: "Spring campaign",
      agentId: agentB,
      scheduledAt: iso(later),
      callingWindow: { start: "09:00", end: "18:00", timezone: "UTC", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
      smartCallbackConfig: { enabled: true, maxAttempts: 2, gaps: [{ days: 0, hours: 1, minutes: 0 }] },
      stopRules: { maxFailureRate: 0.4, window: 50 },
      preDial: { url: PRE_DIAL_URL, onError: "dial" },
    };
    expect(edited).toMatchObject(expected);
    expect(await read(ws, batchId)).toMatchObject(expected);
    const d1 = await env.DB.prepare("SELECT max_concurrent_calls FROM batches WHERE id = ?1").bind(batchId).first<{ max_concurrent_calls: number }>();
    expect(d1?.max_concurrent_calls).toBe(3);
    const { config, state } = await objectRecords(batchId);
    expect(config).toMatchObject({
      agent: { id: agentB, provider: "simulated" },
      callingWindow: expected.callingWindow,
      maxConcurrentCalls: 3,
      smartCallbackConfig: expected.smartCallbackConfig,
      stopRules: expected.stopRules,
      preDial: expected.preDial,
      totalCalls: 2,
    });
    expect(state.dueAt).toBe(later);

    // preDialOnError alone changes the current check's policy.
    expect(await json(await patch(ws, batchId, { preDialOnError: "skip" }))).toMatchObject({ preDial: { url: PRE_DIAL_URL, onError: "skip" } });

    const cleared = await patch(ws, batchId, {
      name: null,
      callingWindow: null,
      maxConcurrentCalls: null,
      smartCallbackConfig: null,
      stopRules: null,
      preDialUrl: null,
    });
    expect(cleared.status).toBe(200);
    const none = { name: null, callingWindow: null, smartCallbackConfig: null, stopRules: null, preDial: null, agentId: agentB, scheduledAt: iso(later) };
    expect(await json(cleared)).toMatchObject(none);
    expect(await read(ws, batchId)).toMatchObject(none);
    expect((await objectRecords(batchId)).config).toMatchObject({
      callingWindow: null,
      maxConcurrentCalls: null,
      smartCallbackConfig: null,
      stopRules: null,
      preDial: null,
    });
    expect((await batchRow(batchId))?.status).toBe("draft");
  });

  it("a queued batch's new scheduledAt moves its start: nothing dispatched before it, everything at it", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, CSV);
    const q = recordingQueue();
    expect(await tick(batchId, q, due - 60_000)).toBe(due);
    const moved = due + 2 * HOUR;
    const res = await patch(ws, batchId, { scheduledAt: iso(moved) });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "queued", scheduledAt: iso(moved) });
    expect((await objectRecords(batchId)).state.dueAt).toBe(moved);

    expect(await tick(batchId, q, due)).toBe(moved);
    expect(await tick(batchId, q, moved - 1)).toBe(moved);
    expect(q.sent).toEqual([]);
    expect((await batchRow(batchId))?.status).toBe("queued");
    await tick(batchId, q, moved);
    expect(q.sent.map((j) => j.seq).sort()).toEqual([0, 1]);
    expect((await batchRow(batchId))?.status).toBe("processing");

    // Earlier works too, and the alarm follows: a second batch moved an hour sooner starts then.
    const other = await uploaded(ws, CSV);
    const sooner = other.due - HOUR;
    expect((await patch(ws, other.batchId, { scheduledAt: iso(sooner) })).status).toBe(200);
    const alarm = await runInDurableObject(env.BATCH_SCHEDULER.getByName(other.batchId), (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(sooner);
    const q2 = recordingQueue();
    await tick(other.batchId, q2, sooner);
    expect(q2.sent).toHaveLength(2);
  });

  it("a paused batch: the next attempts after resume use the new smartCallbackConfig and callingWindow; scheduledAt is refused", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, CSV);
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq).sort()).toEqual([0, 1]);
    // Under the upload's settings (no smart callbacks) a no-answer is final.
    expect((await claimJobsAt(batchId, [{ seq: 0, attempt: 1 }], due + 10))[0]?.kind).toBe("claimed");
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "no_answer", at: due + 100, durationSec: 0 });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", outcome: "no_answer" });

    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    const noLater = await patch(ws, batchId, { scheduledAt: iso(due + HOUR) });
    expect(noLater.status).toBe(400);
    expect((await json(noLater)).error).toContain("already started");

    // The retry of seq 1 comes 5 minutes after its end; the window opens two hours after that (UTC), for an hour.
    const retryAt = due + 200 + 5 * 60_000;
    const opensAt = Math.ceil((retryAt + 2 * HOUR) / HOUR) * HOUR;
    const hh = (ms: number) => `${String(new Date(ms).getUTCHours()).padStart(2, "0")}:00`;
    const res = await patch(ws, batchId, {
      smartCallbackConfig: { enabled: true, maxAttempts: 2, gaps: [{ minutes: 5 }] },
      callingWindow: { start: hh(opensAt), end: hh(opensAt + HOUR), timezone: "UTC" },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "paused", smartCallbackConfig: { maxAttempts: 2 } });
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/resume`)).status).toBe(200);

    expect((await claimJobsAt(batchId, [{ seq: 1, attempt: 1 }], due + 150))[0]?.kind).toBe("claimed");
    await applyCallEvent(env, { kind: "final", batchId, seq: 1, attempt: 1, outcome: "no_answer", at: due + 200, durationSec: 0 });
    // The new smartCallbackConfig earns it a second attempt …
    expect(await callRow(batchId, 1)).toMatchObject({ status: "waiting", attempts: 1 });
    // … which the new calling window holds until it opens.
    const q2 = recordingQueue();
    await tick(batchId, q2, retryAt);
    expect(q2.sent).toEqual([]);
    expect((await callRow(batchId, 1))?.due_at).toBe(opensAt);
    await tick(batchId, q2, opensAt);
    expect(q2.sent.map((j) => [j.seq, j.attempt])).toEqual([[1, 2]]);
  });

  it("new stopRules start a fresh window; the same rules sent again, or another field, keep it", async () => {
    const ws = await limited();
    const rules = { maxFailureRate: 0.9, window: 10 };
    const { batchId, due } = await uploaded(ws, CSV, { stopRules: JSON.stringify(rules) });
    await tick(batchId, recordingQueue(), due);
    expect((await claimJobsAt(batchId, [{ seq: 0, attempt: 1 }], due + 10))[0]?.kind).toBe("claimed");
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "failed", at: due + 100, durationSec: 0, error: "carrier" });
    const windowRows = async () => (await ledgerQuery<{ n: number }>(batchId, "SELECT count(*) AS n FROM stop_window"))[0]?.n;
    expect(await windowRows()).toBe(1);
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    expect((await patch(ws, batchId, { name: "renamed" })).status).toBe(200);
    expect((await patch(ws, batchId, { stopRules: rules })).status).toBe(200);
    expect(await windowRows()).toBe(1);
    expect((await patch(ws, batchId, { stopRules: { maxFailureRate: 0.5, window: 10 } })).status).toBe(200);
    expect(await windowRows()).toBe(0);
    expect((await batchRow(batchId))?.window_n).toBe(0);
  });

  it("a D1 copy that fails after the object changed: the same edit sent again converges (object and GET agree)", async () => {
    const ws = await limited();
    const agentB = await secondAgent(ws);
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const body = { agentId: agentB, maxConcurrentCalls: 4, callingWindow: { start: "08:00", end: "12:00" } };
    const broken = { ...env, DB: failingDb(env.DB, (sql) => sql.includes("UPDATE batches SET agent_id")) };
    const failed = await callWithEnv(broken, `/v1/api/batch-calls/${batchId}`, {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(failed.status).toBe(500);
    // The object took the edit; D1's copy (what GET shows) did not.
    expect((await objectRecords(batchId)).config.agent.id).toBe(agentB);
    expect((await read(ws, batchId)).agentId).toBe(ws.agentId);

    const again = await patch(ws, batchId, body);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ agentId: agentB, callingWindow: { start: "08:00", end: "12:00" } });
    expect(await read(ws, batchId)).toMatchObject({ agentId: agentB, callingWindow: { start: "08:00", end: "12:00" } });
    expect((await objectRecords(batchId)).config).toMatchObject({ agent: { id: agentB }, maxConcurrentCalls: 4 });
  });

  it("processing, completed and cancelled batches are 409s naming the states that allow an edit", async () => {
    const ws = await limited();
    const running = await uploaded(ws, CSV);
    await tick(running.batchId, recordingQueue(), running.due);
    const res = await patch(ws, running.batchId, { name: "x" });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({
      code: "invalid_transition",
      error: expect.stringContaining(`${ALLOWED}; this batch is processing — pause it first`),
    });

    const { batchId: completed } = await completedWithRetryable(ws);
    const done = await patch(ws, completed, { name: "x" });
    expect(done.status).toBe(409);
    expect((await json(done)).error).toContain(`${ALLOWED}; this batch is completed.`);

    const { batchId: cancelled } = await uploaded(ws, CSV);
    expect((await call(`/v1/api/batch-calls/${cancelled}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    const gone = await patch(ws, cancelled, { name: "x" });
    expect(gone.status).toBe(409);
    expect((await json(gone)).error).toContain(`${ALLOWED}; this batch is cancelled.`);
    expect((await read(ws, cancelled)).name).toBeNull();
  });

  it("every bad value is a 400 saying what to fix, and changes nothing (not even the good fields sent with it)", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false", name: "Original", stopRules: JSON.stringify({ maxVoicemailRate: 0.5 }) });
    const before = settings(await read(ws, batchId));
    const objectBefore = await objectRecords(batchId);
    const far = Date.now() + 400 * 86_400_000;
    const bad: [unknown, string][] = [
      [{}, "at least one"],
      [{ name: "ok", callingWindow: { start: "25:00", end: "10:00" } }, "callingWindow.start"],
      [{ callingWindow: '{"start":"09:00","end":"17:00"}' }, "callingWindow"],
      [{ smartCallbackConfig: { enabled: true, maxAttempts: 3 } }, "gaps"],
      [{ stopRules: { window: 50 } }, "maxFailureRate or maxVoicemailRate"],
      [{ stopRules: { maxFailureRate: 1.5 } }, "at most 1"],
      [{ maxConcurrentCalls: 0 }, "at least 1"],
      [{ maxConcurrentCalls: 2.5 }, "maxConcurrentCalls"],
      [{ maxConcurrentCalls: 11 }, "above this workspace's limit of 10"],
      [{ scheduledAt: "2020-01-01T00:00:00Z" }, "in the past"],
      [{ scheduledAt: iso(far) }, "more than 365 days ahead"],
      [{ scheduledAt: "2027-02-30T10:00:00Z" }, "does not exist"],
      [{ scheduledAt: "tomorrow" }, "ISO 8601"],
      [{ scheduledAt: null }, "scheduledAt"],
      [{ name: "x".repeat(201) }, "name"],
      [{ agentId: "" }, "agentId"],
      [{ agentId: "agent_nope" }, "Agent agent_nope does not exist in this workspace"],
      [{ preDialUrl: "not a url" }, "preDialUrl is not a valid URL"],
      [{ preDialUrl: "http://127.0.0.1/check" }, "preDialUrl"],
      [{ preDialOnError: "dial" }, "preDialOnError needs preDialUrl"],
      [{ preDialOnError: "maybe" }, "preDialOnError"],
      [{ preDialUrl: null, preDialOnError: "dial" }, "preDialOnError needs preDialUrl"],
      ["not json", ""],
      [[], ""],
    ];
    for (const [body, says] of bad) {
      const res = await patch(ws, batchId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json(res)).error, JSON.stringify(body)).toContain(says);
    }
    expect(settings(await read(ws, batchId))).toEqual(before);
    expect(await objectRecords(batchId)).toEqual(objectBefore);
  });

  it("an unknown field is a 400 naming it; nothing changes", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const res = await patch(ws, batchId, { name: "New", colour: "red" });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toContain("colour");
    expect((await read(ws, batchId)).name).toBeNull();
  });

  it("another workspace's batch, or no such batch, is a 404; another workspace's agent is a 400", async () => {
    const owner = await limited();
    const other = await limited();
    const { batchId } = await uploaded(owner, CSV, { start: "false" });
    const res = await patch(other, batchId, { name: "mine" });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "batch_not_found" });
    expect((await patch(owner, "batch_0000000000000000", { name: "x" })).status).toBe(404);

    const foreign = await patch(owner, batchId, { agentId: other.agentId });
    expect(foreign.status).toBe(400);
    expect((await json(foreign)).error).toContain(`Agent ${other.agentId} does not exist in this workspace`);
    expect(await read(owner, batchId)).toMatchObject({ name: null, agentId: owner.agentId });
    expect((await objectRecords(batchId)).config.agent.id).toBe(owner.agentId);
  });

  it("an edit between two claims: each dial has all the old settings or all the new ones, never a mix", async () => {
    const ws = await limited();
    const agentB = await secondAgent(ws);
    const { batchId, due } = await uploaded(ws, "phone_number,first_name\n+12125550101,Ann\n+12125550102,Bob\n+12125550103,Cy\n");
    await tick(batchId, recordingQueue(), due);
    const dialOf = async (seq: number, at: number) => {
      const [r] = await claimJobsAt(batchId, [{ seq, attempt: 1 }], at);
      expect(r?.kind).toBe("claimed");
      return r!.kind === "claimed" ? r!.dial : null!;
    };
    const first = await dialOf(0, due + 10);
    expect([first.agent.id, first.preDial, first.variables]).toEqual([ws.agentId, null, { first_name: "Ann" }]);

    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    expect((await patch(ws, batchId, { agentId: agentB, preDialUrl: PRE_DIAL_URL })).status).toBe(200);
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/resume`)).status).toBe(200);
    const second = await dialOf(1, due + 20);
    expect([second.agent.id, second.preDial, second.variables]).toEqual([agentB, { url: PRE_DIAL_URL, onError: "skip" }, { first_name: "Bob" }]);

    // Raced: a pause, then an edit back racing a resume and a claim. Either the edit landed while paused (200: the claim sees
    // all of it) or after the resume (409: the claim sees none of it).
    expect((await post(ws, `/v1/api/batch-calls/${batchId}/pause`)).status).toBe(200);
    const [edit, third] = await Promise.all([
      patch(ws, batchId, { agentId: ws.agentId, preDialUrl: null }),
      post(ws, `/v1/api/batch-calls/${batchId}/resume`).then(() => dialOf(2, due + 30)),
    ]);
    expect([200, 409]).toContain(edit.status);
    const pair = [third.agent.id, third.preDial];
    expect(pair).toEqual(edit.status === 200 ? [ws.agentId, null] : [agentB, { url: PRE_DIAL_URL, onError: "skip" }]);
  });
});

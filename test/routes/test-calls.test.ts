import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_TEST_CALLS, TEST_SEQ_BASE } from "../../src/domain/test-call";
import { batchRow, captureEvents, completedWithRetryable, hookedWorkspace, ledgerQuery, recordingQueue, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, callWithEnv, freshFromNumber, json, newWorkspace, type TestWorkspace, waitFor } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const CSV = "phone_number,first_name,plan\n+12125550101,Ada,gold\n+12125550102,Bob,silver\n";
/** The simulated carrier answers a number ending in 0 (its agent reports `interested`) and fails one ending in 9. */
const OPERATOR = "+14155550100";

const testCall = (ws: TestWorkspace, batchId: string, body: unknown, headers: Record<string, string> = {}, via = env) =>
  callWithEnv(via, `/v1/api/batch-calls/${batchId}/test-call`, {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const listOf = async (ws: TestWorkspace, batchId: string) => {
  const res = await call(`/v1/api/batch-calls/${batchId}/test-calls`, { headers: authHeaders(ws) });
  expect(res.status).toBe(200);
  return (await json(res)).testCalls as Record<string, any>[];
};
const read = async (ws: TestWorkspace, path: string) => json(await call(path, { headers: authHeaders(ws) }));

/** What a batch shows of itself: none of it may move for a test call. */
async function batchShown(ws: TestWorkspace, batchId: string) {
  const batch = await read(ws, `/v1/api/batch-calls/${batchId}`);
  const status = await read(ws, `/v1/api/batch-calls/${batchId}/status`);
  const calls = await read(ws, `/v1/api/batch-calls/${batchId}/calls`);
  const csv = await (await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) })).text();
  const { version: _v, ...ledger } = (await batchRow(batchId))!;
  // `timestamp` is the time of the read.
  return { batch: { ...batch, timestamp: undefined }, status: { ...status, timestamp: undefined }, calls, csv, ledger, version: _v };
}

async function expectError(res: Response, status: number, code: string, sentence: string) {
  expect(res.status).toBe(status);
  const body = await json(res);
  expect(body.code).toBe(code);
  expect(body.error).toContain(sentence);
}

describe("POST /v1/api/batch-calls/{batchId}/test-call", () => {
  it("a draft's test call rings the operator with row 2's variables, completes with the simulated agent's result, and the batch does not move", async () => {
    const ws = await hookedWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const before = await batchShown(ws, batchId);
    const events = await captureEvents(batchId);

    // npm start's default: the simulated provider, posting its agent's result.
    const res = await testCall(ws, batchId, { to: "(415) 555-0100", row: 2 }, {}, { ...env, SIM_RESULTS: "on" });
    expect(res.status).toBe(201);
    const created = await json(res);
    const callId = `call_${batchId.slice(6)}_${TEST_SEQ_BASE + 1}`;
    expect(created).toMatchObject({ callId, batchId, test: true, row: 2, to: OPERATOR, from: null, variables: { first_name: "Bob", plan: "silver" } });
    expect(["active", "completed"]).toContain(created.status);

    const done = await waitFor("the test call's result", async () => {
      const [t] = await listOf(ws, batchId);
      return t?.status === "completed" && t.result ? t : undefined;
    });
    expect(done).toMatchObject({ callId, status: "completed", outcome: "answered", error: null, endTime: expect.any(Number), duration: 0 });
    expect(done.result).toMatchObject({ attempt: 1, disposition: "interested", sentiment: "positive", data: { budget: expect.any(Number) } });
    // The transcript greets row 2's first_name, and is read like any call's.
    const transcript = await read(ws, done.result.transcriptUrl);
    expect(JSON.stringify(transcript)).toContain("Hi Bob");
    const detail = await read(ws, `/v1/api/batch-calls/${batchId}/calls/${callId}`);
    expect(detail).toMatchObject({ status: "completed", phone_number: OPERATOR, outcome: "answered" });

    // Counters, progress, calls, results.csv and the ledger's batch row: all as they were; the summary version too.
    const after = await batchShown(ws, batchId);
    expect(after).toEqual(before);
    expect(after.batch).toMatchObject({ status: "draft", totalCalls: 2 });

    const types = events.map((e) => [e.type, e.data.callId, e.data.test]);
    expect(types).toEqual(
      expect.arrayContaining([
        ["call.started", callId, true],
        ["call.completed", callId, true],
        ["call.result", callId, true],
      ]),
    );
    expect(events.every((e) => e.data.test === true)).toBe(true);
  });

  it("a paused batch takes a test call; the caller ID is the first enabled number of the agent's pool", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const pool = [freshFromNumber(), freshFromNumber()];
    const agent = await json(
      await call("/v1/api/agents", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ name: "Pool", provider: "simulated", fromNumbers: pool }),
      }),
    );
    const rested = await call(`/v1/api/agents/${agent.agentId}/numbers/${encodeURIComponent(pool[0]!)}`, {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ enabled: false }),
    });
    expect(rested.status).toBe(200);
    const { batchId, due } = await uploaded({ ...ws, agentId: agent.agentId }, CSV);
    await tick(batchId, recordingQueue(), due);
    expect((await call(`/v1/api/batch-calls/${batchId}/pause`, { method: "POST", headers: authHeaders(ws) })).status).toBe(200);
    const res = await testCall(ws, batchId, { to: "4155550106" });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ row: 1, to: "+14155550106", from: pool[1], variables: { first_name: "Ada", plan: "gold" } });
    const done = await waitFor("the test call to end", async () => {
      const [t] = await listOf(ws, batchId);
      return t?.status === "active" ? undefined : t;
    });
    expect(done).toMatchObject({ status: "failed", outcome: "no_answer", error: "No answer.", result: null });
    expect((await batchRow(batchId))?.status).toBe("paused");
  });

  it("400 for a bad to, a number on the do-not-call list, a row past the batch's rows, and a body that is not {to, row?}; nothing is placed", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    await expectError(await testCall(ws, batchId, { to: "12" }), 400, "validation_failed", 'to: "12" is not a phone number');
    await expectError(await testCall(ws, batchId, { to: "not a number" }), 400, "validation_failed", "defaultCountry (US)");
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: [OPERATOR] }),
    });
    await expectError(await testCall(ws, batchId, { to: "415 555 0100" }), 400, "validation_failed", `to: ${OPERATOR} is on this workspace's do-not-call list`);
    await expectError(
      await testCall(ws, batchId, { to: "+14155550101", row: 3 }),
      400,
      "validation_failed",
      "row: the batch has 2 rows; row 3 is past its last",
    );
    for (const body of [{}, { to: "+14155550101", row: 0 }, { to: "+14155550101", row: 1.5 }, { to: 4155550101 }, { to: "+14155550101", extra: 1 }]) {
      expect((await testCall(ws, batchId, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(await listOf(ws, batchId)).toEqual([]);
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM test_calls")).toEqual([{ n: 0 }]);
  });

  it("409 naming draft and paused for a queued, processing or completed batch", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const queued = await uploaded(ws, CSV);
    await expectError(
      await testCall(ws, queued.batchId, { to: OPERATOR }),
      409,
      "invalid_transition",
      "is queued; a test call can be placed while a batch is draft or paused",
    );
    const running = await uploaded(ws, CSV);
    await tick(running.batchId, recordingQueue(), running.due);
    await expectError(
      await testCall(ws, running.batchId, { to: OPERATOR }),
      409,
      "invalid_transition",
      "is processing; a test call can be placed while a batch is draft or paused. Pause it first",
    );
    // Its own workspace: the running batch above holds this one's slots.
    const done = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const { batchId: completed } = await completedWithRetryable(done);
    await expectError(
      await testCall(done, completed, { to: OPERATOR }),
      409,
      "invalid_transition",
      "is completed; a test call can be placed while a batch is draft or paused",
    );
    for (const batchId of [queued.batchId, running.batchId]) expect(await listOf(ws, batchId)).toEqual([]);
    expect(await listOf(done, completed)).toEqual([]);
  });

  it(`at most ${MAX_TEST_CALLS} test calls per batch: the next is a 409 saying so`, async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    for (let i = 0; i < MAX_TEST_CALLS; i++) expect((await testCall(ws, batchId, { to: "+14155550106" })).status).toBe(201);
    await expectError(await testCall(ws, batchId, { to: "+14155550106" }), 409, "invalid_transition", `has had its ${MAX_TEST_CALLS} test calls`);
    const list = await listOf(ws, batchId);
    expect(list).toHaveLength(MAX_TEST_CALLS);
    // Newest first.
    expect(list.map((t) => Number(t.callId.split("_").at(-1)))).toEqual(Array.from({ length: MAX_TEST_CALLS }, (_, i) => TEST_SEQ_BASE + MAX_TEST_CALLS - i));
  });

  it("404 for another workspace's batch and for a batch that does not exist, on both routes", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    const { batchId } = await uploaded(a, CSV, { start: "false" });
    await expectError(await testCall(b, batchId, { to: OPERATOR }), 404, "batch_not_found", `Batch ${batchId} does not exist in this workspace`);
    expect((await call(`/v1/api/batch-calls/${batchId}/test-calls`, { headers: authHeaders(b) })).status).toBe(404);
    await expectError(await testCall(a, "batch_0000000000000000000000000000", { to: OPERATOR }), 404, "batch_not_found", "does not exist");
    expect(await listOf(a, batchId)).toEqual([]);
  });

  it("Idempotency-Key: the same request replays its 201 and dials nothing more; another body under the key is a 422", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const key = { "idempotency-key": `tc-${batchId}` };
    const first = await testCall(ws, batchId, { to: "+14155550106" }, key);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await testCall(ws, batchId, { to: "+14155550106", row: 1 }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(again)).callId).toBe((await json(first)).callId);
    expect((await testCall(ws, batchId, { to: "+14155550106", row: 2 }, key)).status).toBe(422);
    expect(await listOf(ws, batchId)).toHaveLength(1);
  });
});

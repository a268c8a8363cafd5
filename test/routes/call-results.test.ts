import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook } from "../../src/lib/signing";
import { RESULT_BODY_MAX_BYTES } from "../../src/services/agent-results";
import { claimAt, dispatched, ledgerQuery } from "../engine-helpers";
import { authHeaders, call, json, newWebhookWorkspace, newWorkspace, type TestWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const callIdOf = (batchId: string, seq: number) => `call_${batchId.slice(6)}_${seq}`;

/** A batch of two with call 0 on its first attempt. */
async function liveCall(ws: TestWorkspace) {
  const { batchId, due } = await dispatched(ws, "phone_number,first_name\n+12125551001,Ada\n+12125551011,Alan\n");
  await claimAt(batchId, 0, 1, due + 10);
  return { batchId, callId: callIdOf(batchId, 0) };
}

function relay(ws: Pick<TestWorkspace, "workspaceId" | "apiKey">, batchId: string, callId: string, body: unknown, headers: Record<string, string> = {}) {
  return call(`/v1/api/batch-calls/${batchId}/calls/${encodeURIComponent(callId)}/result`, {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const results = (batchId: string) => ledgerQuery(batchId, "SELECT * FROM results");

describe("POST /v1/api/batch-calls/{batchId}/calls/{callId}/result", () => {
  it("records a result relayed with the API key, the same as an agent's, and a replay changes nothing", async () => {
    const ws = await newWorkspace();
    const { batchId, callId } = await liveCall(ws);
    const report = { attempt: 1, disposition: "not_interested", sentiment: "negative", data: { reason: "price" } };
    const first = await relay(ws, batchId, callId, report);
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ callId, attempt: 1, recorded: true, changed: true, callback: "none" });
    const again = await relay(ws, batchId, callId, report);
    expect(await json(again)).toMatchObject({ recorded: true, changed: false });
    expect(await results(batchId)).toEqual([expect.objectContaining({ seq: 0, attempt: 1, disposition: "not_interested", sentiment: "negative" })]);
  });

  it("answers 404 for another workspace's batch, a call of another batch and an unknown call, and records nothing", async () => {
    // Two live batches in one workspace: a limit that lets both first calls start at once.
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const stranger = await newWorkspace();
    const { batchId, callId } = await liveCall(ws);
    const other = await liveCall(ws);
    const report = { attempt: 1, disposition: "booked" };
    const answers = [
      await relay(stranger, batchId, callId, report),
      await relay(ws, batchId, other.callId, report),
      await relay(ws, batchId, callIdOf(batchId, 99), report),
      await relay(ws, batchId, "not-a-call", report),
      await relay(ws, "batch_ffffffffffffffffffffffff", callId, report),
    ];
    for (const res of answers) expect(res.status).toBe(404);
    expect(await results(batchId)).toEqual([]);
    expect(await results(other.batchId)).toEqual([]);
  });

  it("wants the workspace's API key: none is a 401, an agent's signature is not a key", async () => {
    const ws = await newWebhookWorkspace();
    const { batchId, callId } = await liveCall(ws);
    const raw = JSON.stringify({ attempt: 1, disposition: "booked" });
    const signed = await signWebhook(ws.secret, "msg_1", raw);
    const res = await call(`/v1/api/batch-calls/${batchId}/calls/${callId}/result`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signed },
      body: raw,
    });
    expect(res.status).toBe(401);
    expect(await results(batchId)).toEqual([]);
  });

  it("answers 409 for an attempt not dialled, 400 naming the field for a bad result, 413 past the cap", async () => {
    const ws = await newWorkspace();
    const { batchId, callId } = await liveCall(ws);
    const notYet = await relay(ws, batchId, callIdOf(batchId, 1), { attempt: 1 });
    expect(notYet.status).toBe(409);
    expect((await json(notYet)).error).toBe(`Attempt 1 of ${callIdOf(batchId, 1)} has not been dialled; it has made no attempt yet.`);
    const bad = await relay(ws, batchId, callId, { attempt: 1, summary: "s".repeat(5000) });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatch(/summary.*4096 bytes/);
    const huge = await relay(ws, batchId, callId, "x".repeat(RESULT_BODY_MAX_BYTES + 1));
    expect(huge.status).toBe(413);
    expect(await results(batchId)).toEqual([]);
  });

  it("checks a result against the results the agent declared when the batch was created", async () => {
    const ws = await newWorkspace();
    const declare = (resultSchema: unknown) =>
      call(`/v1/api/agents/${ws.agentId}`, {
        method: "PATCH",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ resultSchema }),
      });
    expect((await declare({ dispositions: ["booked", "not_interested"], fields: [{ name: "seats", type: "number" }] })).status).toBe(200);
    const { batchId, callId } = await liveCall(ws);
    // A later change of the agent is for later batches: this one keeps its columns.
    expect((await declare(null)).status).toBe(200);
    const outside = await relay(ws, batchId, callId, { attempt: 1, disposition: "maybe" });
    expect(outside.status).toBe(400);
    expect((await json(outside)).error).toMatch(/disposition "maybe".*booked, not_interested/);
    const wrongType = await relay(ws, batchId, callId, { attempt: 1, data: { seats: "twelve" } });
    expect(wrongType.status).toBe(400);
    expect((await json(wrongType)).error).toMatch(/data\.seats must be a number/);
    expect(await results(batchId)).toEqual([]);
    const inside = await relay(ws, batchId, callId, { attempt: 1, disposition: "booked", data: { seats: 12 } });
    expect(inside.status).toBe(200);
  });
});

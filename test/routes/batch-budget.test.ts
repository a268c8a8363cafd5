import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, call, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

const patch = (ws: TestWorkspace, batchId: string, body: unknown) =>
  call(`/v1/api/batch-calls/${batchId}`, { method: "PATCH", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify(body) });
const get = async (ws: TestWorkspace, path: string) => json(await call(`/v1/api/batch-calls${path}`, { headers: authHeaders(ws) }));
const phones = (n: number) => ["phone_number", ...Array.from({ length: n }, (_, i) => `+1212555${String(1000 + i * 10 + 1)}`)].join("\n");
const CALLBACKS = JSON.stringify({ enabled: true, maxAttempts: 3, gaps: [{ days: 0, hours: 2 }] });

/** Gives the agent's batch a history in D1, as its object's summaries would have written it. */
async function history(batchId: string, attempts: number, billed: number, done: number) {
  await env.DB.prepare("UPDATE batches SET attempts_ended = ?2, billed_minutes = ?3, completed_count = ?4 WHERE id = ?1")
    .bind(batchId, attempts, billed, done)
    .run();
}

describe("maxMinutes", () => {
  it("is kept at upload and shown with the billed minutes on the batch, its status and the list", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, phones(3), { maxMinutes: "120" });
    expect(res.status).toBe(201);
    const { batchId } = await json(res);
    expect(await get(ws, `/${batchId}`)).toMatchObject({ maxMinutes: 120, billedMinutes: 0, estimate: null, progress: { maxMinutes: 120, billedMinutes: 0 } });
    expect(await get(ws, `/${batchId}/status`)).toMatchObject({ maxMinutes: 120, billedMinutes: 0 });
    expect((await get(ws, "")).batches[0]).toMatchObject({ id: batchId, maxMinutes: 120, billedMinutes: 0, progress: { maxMinutes: 120 } });
    const none = await json(await upload(ws, phones(1)));
    expect(await get(ws, `/${none.batchId}`)).toMatchObject({ maxMinutes: null, billedMinutes: 0 });
  });

  it("refuses a bad value at upload with a sentence, creating nothing", async () => {
    const ws = await newWorkspace();
    for (const bad of ["0", "-1", "1.5", "abc", "1000001", "1e3"]) {
      const res = await upload(ws, phones(2), { maxMinutes: bad });
      expect(res.status, bad).toBe(400);
      expect(await json(res), bad).toMatchObject({
        code: "validation_failed",
        error: expect.stringMatching(/^maxMinutes must be a whole number of minutes from 1 to 1,000,000 .*leave it out for no budget$/),
      });
    }
    expect((await get(ws, "")).batches).toHaveLength(0);
  });

  it("changes with PATCH, null clears it, and a bad value is a 400 that changes nothing", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, phones(2), { maxMinutes: "50" }));
    for (const bad of [0, -1, 1.5, "abc", 1_000_001, true]) {
      const res = await patch(ws, batchId, { maxMinutes: bad });
      expect(res.status, String(bad)).toBe(400);
      expect((await json(res)).error, String(bad)).toMatch(/^The request is invalid: maxMinutes: must be a whole number of minutes from 1 to 1,000,000/);
    }
    expect(await get(ws, `/${batchId}`)).toMatchObject({ maxMinutes: 50 });
    const raised = await patch(ws, batchId, { maxMinutes: 1_000_000 });
    expect(raised.status).toBe(200);
    expect(await json(raised)).toMatchObject({ maxMinutes: 1_000_000 });
    const cleared = await patch(ws, batchId, { maxMinutes: null });
    expect(await json(cleared)).toMatchObject({ maxMinutes: null });
    expect(await get(ws, `/${batchId}/status`)).toMatchObject({ maxMinutes: null });
    const config = await env.BATCH_SCHEDULER.getByName(batchId).edit({ changes: {} });
    expect(config.ok && config.config.maxMinutes).toBeNull();
  });
});

describe("the estimate", () => {
  it("on a dry run without history is the stated default, from the calls it would make and the smart callbacks", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, `${phones(4)}\n+12125551001`, { dryRun: "true", smartCallbackConfig: CALLBACKS });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ status: "dry_run", totalCalls: 4, duplicatesRemoved: 1 });
    expect(body.estimate).toEqual({
      calls: 4,
      attemptsPerCall: { low: 1, high: 3 },
      minutesPerAttempt: { low: 1, high: 3 },
      minutes: { low: 4, high: 36 },
      basis: "default",
      basedOnAttempts: 0,
      note: expect.stringMatching(/^A default: this agent has 0 finished attempts in its recent batches \(under 20\)/),
    });
  });

  it("on a dry run comes from the agent's recent batches once they have finished 20 attempts", async () => {
    const ws = await newWorkspace();
    const a = await json(await upload(ws, phones(2)));
    await history(a.batchId, 12, 6, 10);
    expect((await json(await upload(ws, phones(10), { dryRun: "true" }))).estimate).toMatchObject({ basis: "default", basedOnAttempts: 12 });
    const b = await json(await upload(ws, phones(2)));
    await history(b.batchId, 30, 60, 20);
    // Another agent's batches are not this agent's history.
    const other = await json(
      await call("/v1/api/agents", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ name: "Other", provider: "simulated" }),
      }),
    );
    const c = await json(await upload({ ...ws, agentId: other.agentId }, phones(2)));
    await history(c.batchId, 500, 5000, 100);

    const { estimate } = await json(await upload(ws, phones(10), { dryRun: "true", smartCallbackConfig: CALLBACKS }));
    // Pooled over 42 attempts: 66 minutes (1.57 a attempt), 30 calls done (1.4 attempts a call); batch a says 0.5 and 1.2, batch b 2 and 1.5.
    expect(estimate).toMatchObject({
      calls: 10,
      basis: "agent_history",
      basedOnAttempts: 42,
      minutesPerAttempt: { low: 0.5, high: 2 },
      attemptsPerCall: { low: 1.2, high: 1.5 },
      minutes: { low: 6, high: 30 },
    });
    expect(estimate.note).toMatch(/^From this agent's last 2 batches \(42 finished attempts\)/);
  });

  it("is on a draft's view (rates as of its upload, times the calls it has), and null once it is not a draft", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, phones(5), { start: "false", maxMinutes: "10" });
    expect(res.status).toBe(201);
    const { batchId, status } = await json(res);
    expect(status).toBe("draft");
    const draft = await get(ws, `/${batchId}`);
    expect(draft).toMatchObject({ status: "draft", maxMinutes: 10, billedMinutes: 0 });
    expect(draft.estimate).toMatchObject({ calls: 5, attemptsPerCall: { low: 1, high: 1 }, minutes: { low: 5, high: 15 }, basis: "default" });
    expect((await get(ws, "")).batches[0].estimate).toEqual(draft.estimate);
    // An edit of its callbacks refreshes the rates.
    const edited = await json(await patch(ws, batchId, { smartCallbackConfig: JSON.parse(CALLBACKS) }));
    expect(edited.estimate).toMatchObject({ calls: 5, attemptsPerCall: { low: 1, high: 3 }, minutes: { low: 5, high: 45 } });
    expect((await call(`/v1/api/batch-calls/${batchId}/start`, { method: "POST", headers: authHeaders(ws) })).status).toBe(200);
    expect(await get(ws, `/${batchId}`)).toMatchObject({ estimate: null });
  });
});

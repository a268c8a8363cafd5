import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { CallJob } from "../../src/queue/call-job";
import type { SimPlacement, SimulatedCarrier } from "../../src/telephony/simulated-carrier";
import { encryptSecret } from "../../src/lib/crypto";
import { verifyWebhook } from "../../src/lib/signing";
import { callRow, claimAt, dispatched } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

type Posted = { url: string; headers: Headers; body: string };

/**
 * The batch's carrier, standing at `at`, its posts to the Worker answered
 * by `answer` and recorded. The batch's object is the real one: finals
 * reach it as they would.
 */
async function carrierAt(batchId: string, at: number, answer: (n: number) => Response | Promise<Response>) {
  const posted: Posted[] = [];
  await runInDurableObject(env.SIM_CARRIER.getByName(batchId), async (c: SimulatedCarrier) => {
    c.ports = {
      now: () => at,
      worker: async (req) => {
        posted.push({ url: req.url, headers: req.headers, body: await req.text() });
        return answer(posted.length);
      },
    };
  });
  return posted;
}

async function alarmAt(batchId: string, at: number): Promise<void> {
  await runInDurableObject(env.SIM_CARRIER.getByName(batchId), async (c: SimulatedCarrier) => {
    c.ports = { ...c.ports, now: () => at };
    await c.alarm();
    // Results are posted alongside the alarm, not inside it: wait for them as the runtime would.
    await c.posting;
  });
}

/** The carrier's owed rows, as its storage has them. */
async function owed(batchId: string) {
  return runInDurableObject(env.SIM_CARRIER.getByName(batchId), async (_c, state) => ({
    events: state.storage.sql.exec("SELECT due FROM events").toArray().length,
    results: state.storage.sql.exec("SELECT seq, attempt, due, tries FROM results").toArray(),
  }));
}

const SECRET = "whsec_c2ltdWxhdGVkLWFnZW50LXNlY3JldC0zMi1ieXRlcyE=";

/**
 * A simulated batch with one call, claimed and placed as the consumer
 * would (the batch standing at `due`), and the placement its carrier gets
 * with results on. The batch's agent signs with SECRET (or has no secret).
 */
async function placedCall(lastDigit: number, opts: { secret?: string | null } = {}) {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
  const sealed = opts.secret === null ? null : await encryptSecret(opts.secret ?? SECRET, env.SECRETS_ENCRYPTION_KEY);
  await env.DB.prepare("UPDATE agents SET signing_secret_enc = ?1 WHERE id = ?2").bind(sealed, ws.agentId).run();
  const { batchId, due } = await dispatched(ws, `phone_number,first_name\n+1212555010${lastDigit},Ada\n`);
  await claimAt(batchId, 0, 1, due);
  const placement: SimPlacement = {
    batchId,
    seq: 0,
    attempt: 1,
    to: `+1212555010${lastDigit}`,
    callSeconds: 60,
    results: true,
    variables: { first_name: "Ada" },
  };
  return { batchId, due, end: due + 60_000, placement };
}

describe("the simulated carrier's results", () => {
  it("posts an answered call's result after its final, signed with the batch's agent's secret, to the agent's route", async () => {
    const { batchId, due, end, placement } = await placedCall(0);
    const posted = await carrierAt(batchId, due, () => new Response(null, { status: 200 }));
    await env.SIM_CARRIER.getByName(batchId).placeMany([placement]);

    // Before the call ends nothing goes, not even the result.
    await alarmAt(batchId, end - 1);
    expect(posted).toEqual([]);
    expect((await owed(batchId)).results).toEqual([{ seq: 0, attempt: 1, due: null, tries: 0 }]);

    await alarmAt(batchId, end);
    // The final reached the batch first; then one POST of the result.
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered" });
    expect(posted).toHaveLength(1);
    const callId = `call_${batchId.slice(6)}_0`;
    expect(posted[0]!.url).toBe(`https://calls.example.test/v1/agent/calls/${callId}/result`);
    expect(posted[0]!.headers.get("content-type")).toBe("application/json");
    expect(posted[0]!.headers.get("webhook-id")).toBe(`sim_${callId}_1`);
    expect(await verifyWebhook(SECRET, posted[0]!.headers, posted[0]!.body, Date.now())).toBe(true);
    const body = JSON.parse(posted[0]!.body);
    expect(body).toMatchObject({ attempt: 1, disposition: "interested", data: { budget: expect.any(Number) } });
    expect(body.transcript[0].text).toMatch(/^Hi Ada,/);
    expect(await owed(batchId)).toEqual({ events: 0, results: [] });
  });

  it("places an attempt once: a repeat in the same slice or a later one owes no second report or result", async () => {
    const { batchId, due, placement } = await placedCall(0);
    await carrierAt(batchId, due, () => new Response(null, { status: 204 }));
    const carrier = env.SIM_CARRIER.getByName(batchId);
    const ids = await carrier.placeMany([placement, placement]);
    expect(ids).toEqual([ids[0], ids[0]]);
    expect(await carrier.placeMany([placement])).toEqual([ids[0]]);
    expect(await owed(batchId)).toEqual({ events: 1, results: [{ seq: 0, attempt: 1, due: null, tries: 0 }] });
    expect(await carrier.placement(0, 1)).toBe(ids[0]);
  });

  it("posts nothing for voicemail, and nothing when results are off", async () => {
    const voicemail = await placedCall(5);
    const posted = await carrierAt(voicemail.batchId, voicemail.due, () => new Response(null, { status: 200 }));
    await env.SIM_CARRIER.getByName(voicemail.batchId).placeMany([voicemail.placement]);
    await alarmAt(voicemail.batchId, voicemail.end);
    expect(await callRow(voicemail.batchId, 0)).toMatchObject({ status: "completed", outcome: "voicemail" });

    const off = await placedCall(0);
    const postedOff = await carrierAt(off.batchId, off.due, () => new Response(null, { status: 200 }));
    await env.SIM_CARRIER.getByName(off.batchId).placeMany([{ ...off.placement, results: undefined }]);
    await alarmAt(off.batchId, off.end);
    expect(await callRow(off.batchId, 0)).toMatchObject({ status: "completed", outcome: "answered" });

    expect([...posted, ...postedOff]).toEqual([]);
    expect((await owed(voicemail.batchId)).results).toEqual([]);
    expect((await owed(off.batchId)).results).toEqual([]);
  });

  it("tries a failed post again through its alarm, with backoff, never holding the final back, until it is accepted", async () => {
    const { batchId, due, end, placement } = await placedCall(1);
    const posted = await carrierAt(batchId, due, (n) =>
      n === 1 ? new Response("busy", { status: 503 }) : n === 2 ? Promise.reject(new Error("boom")) : new Response(null, { status: 200 }),
    );
    await env.SIM_CARRIER.getByName(batchId).placeMany([placement]);
    await alarmAt(batchId, end);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered" });
    expect((await owed(batchId)).results).toEqual([{ seq: 0, attempt: 1, due: end + 1000, tries: 1 }]);

    await alarmAt(batchId, end + 999);
    expect(posted).toHaveLength(1);
    await alarmAt(batchId, end + 1000);
    expect(posted).toHaveLength(2);
    expect((await owed(batchId)).results).toEqual([{ seq: 0, attempt: 1, due: end + 3000, tries: 2 }]);

    await alarmAt(batchId, end + 3000);
    expect(posted).toHaveLength(3);
    expect((await owed(batchId)).results).toEqual([]);
    await alarmAt(batchId, end + 600_000);
    expect(posted).toHaveLength(3);
    // The same report every time, under the same webhook id: the route merges a repeat.
    expect(new Set(posted.map((p) => p.body)).size).toBe(1);
    expect(new Set(posted.map((p) => p.headers.get("webhook-id"))).size).toBe(1);
  });

  it("drops a result the route refuses for good (a 4xx), logging why", async () => {
    const { batchId, due, end, placement } = await placedCall(3);
    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const posted = await carrierAt(batchId, due, () => Response.json({ error: "callbackAt is in the past." }, { status: 400 }));
    await env.SIM_CARRIER.getByName(batchId).placeMany([placement]);
    await alarmAt(batchId, end);
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0]!.body)).toMatchObject({ disposition: "do_not_call", optOut: true });
    expect((await owed(batchId)).results).toEqual([]);
    const lines = warned.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ event: "sim.result_refused", batchId, seq: 0, attempt: 1, why: expect.stringContaining("400") }));
  });

  it("drops the result of a call its batch does not know, without posting it", async () => {
    const { batchId, due, end, placement } = await placedCall(0);
    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const posted = await carrierAt(batchId, due, () => new Response(null, { status: 200 }));
    await env.SIM_CARRIER.getByName(batchId).placeMany([{ ...placement, seq: 99 }]);
    await alarmAt(batchId, end);
    expect(posted).toEqual([]);
    expect(await owed(batchId)).toEqual({ events: 0, results: [] });
    expect(warned.mock.calls.map((c) => JSON.parse(String(c[0])).event)).toContain("sim.unknown_call");
  });

  it("keeps a result owed while the agent has no secret to sign it with, and posts it once it has one", async () => {
    const { batchId, due, end, placement } = await placedCall(4, { secret: null });
    const posted = await carrierAt(batchId, due, () => new Response(null, { status: 200 }));
    await env.SIM_CARRIER.getByName(batchId).placeMany([placement]);
    await alarmAt(batchId, end);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered" });
    expect(posted).toEqual([]);
    expect((await owed(batchId)).results).toEqual([{ seq: 0, attempt: 1, due: end + 1000, tries: 1 }]);

    const agentId = (await env.DB.prepare("SELECT agent_id FROM batches WHERE id = ?1").bind(batchId).first<{ agent_id: string }>())!.agent_id;
    await env.DB.prepare("UPDATE agents SET signing_secret_enc = ?1 WHERE id = ?2")
      .bind(await encryptSecret(SECRET, env.SECRETS_ENCRYPTION_KEY), agentId)
      .run();
    await alarmAt(batchId, end + 1000);
    expect(posted).toHaveLength(1);
    expect(await verifyWebhook(SECRET, posted[0]!.headers, posted[0]!.body, Date.now())).toBe(true);
    expect(JSON.parse(posted[0]!.body)).toMatchObject({ disposition: "booked", data: { slot: expect.any(String) } });
  });
});

/** Delivers call jobs to the Worker's queue handler with some vars changed (SIM_RESULTS, SIM_CALL_SECONDS), as a deployment with them would. */
async function consumeWith(vars: Partial<Env>, jobs: CallJob[]) {
  const batch = createMessageBatch<CallJob>(
    "call-jobs",
    jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...vars }, ctx);
  return getQueueResult(batch, ctx);
}

describe("a simulated batch with results on", () => {
  it("dials, ends the call, and the answered call ends up with its agent's result through the agent's route", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, jobs } = await dispatched(ws, "phone_number,first_name\n+12125550100,Ada\n+12125550105,Bob\n");
    await runInDurableObject(env.SIM_CARRIER.getByName(batchId), async (c: SimulatedCarrier) => {
      c.ports = { ...c.ports, now: () => due };
    });
    expect((await consumeWith({ SIM_RESULTS: "on", SIM_CALL_SECONDS: "600" }, jobs)).explicitAcks).toHaveLength(2);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1 });

    // The call ends: the carrier's alarm reports it, then posts the result to the Worker itself (ctx.exports).
    await alarmAt(batchId, due + 600_000);
    const callId = `call_${batchId.slice(6)}_0`;
    const detail = await json(await call(`/v1/api/batch-calls/${batchId}/calls/${callId}`, { headers: authHeaders(ws) }));
    expect(detail).toMatchObject({ status: "completed", outcome: "answered" });
    expect(detail.result).toMatchObject({
      attempt: 1,
      disposition: "interested",
      sentiment: "positive",
      summary: expect.stringContaining("Ada"),
      data: { budget: expect.any(Number) },
      transcriptUrl: expect.any(String),
    });
    expect(await owed(batchId)).toEqual({ events: 0, results: [] });

    // Voicemail: the call ends, and no result comes.
    const voicemail = await json(await call(`/v1/api/batch-calls/${batchId}/calls/call_${batchId.slice(6)}_1`, { headers: authHeaders(ws) }));
    expect(voicemail).toMatchObject({ status: "completed", outcome: "voicemail", result: null });
  });

  it("asks on a 2 to be called back and opts out on a 3, and the route takes both", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due, jobs } = await dispatched(ws, "phone_number,first_name\n+12125550102,Ada\n+12125550103,Bob\n");
    await runInDurableObject(env.SIM_CARRIER.getByName(batchId), async (c: SimulatedCarrier) => {
      c.ports = { ...c.ports, now: () => due };
    });
    await consumeWith({ SIM_RESULTS: "on", SIM_CALL_SECONDS: "600" }, jobs);
    const warned = vi.spyOn(console, "warn");
    await alarmAt(batchId, due + 600_000);
    expect(warned.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("sim.result"))).toEqual([]);
    const detail = async (seq: number) =>
      json(await call(`/v1/api/batch-calls/${batchId}/calls/call_${batchId.slice(6)}_${seq}`, { headers: authHeaders(ws) }));
    expect((await detail(0)).result).toMatchObject({
      disposition: "callback_requested",
      callbackAt: new Date(due + 600_000 + 2 * 3_600_000).toISOString(),
    });
    expect((await detail(1)).result).toMatchObject({ disposition: "do_not_call", optOut: true });
    expect(await owed(batchId)).toEqual({ events: 0, results: [] });
  });
});

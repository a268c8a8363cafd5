import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { verifyWebhook } from "../../src/lib/signing";
import type { CallJob } from "../../src/queue/call-job";
import { PRE_DIAL_MAX_ANSWER_BYTES } from "../../src/telephony/pre-dial";
import { batchRow, callRow, consume, dispatched, recordingQueue, tick } from "../engine-helpers";
import { ADMIN, authHeaders, bodyText, call, failingDb, json, newTwilioWorkspace, newWebhookWorkspace, type TestWorkspace } from "../helpers";

const PRE_DIAL_URL = "https://predial.example.test/check?token=t0k";
const TWILIO_CALLS = "https://twilio.example.test/2010-04-01/Accounts/ACtest/Calls.json";
const DIALER = "https://dialer.example.com/dial";
const PEOPLE = "phone_number,first_name,plan\n+12125551001,Ada,gold\n";

afterEach(() => vi.restoreAllMocks());

type Answer = (req: Request, signal: AbortSignal | null) => Response | Promise<Response>;

/**
 * Stubs outbound fetch: the pre-dial URL answers with `preDial`, Twilio and
 * the webhook dialer accept every call. Keeps every request, by where it went.
 */
function outbound(preDial: Answer) {
  const asked: Request[] = [];
  const dials: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (req.url.startsWith("https://predial.example.test/")) {
      asked.push(req.clone());
      return preDial(req, init?.signal ?? null);
    }
    dials.push(req);
    if (req.url === TWILIO_CALLS) return new Response(JSON.stringify({ sid: "CA1" }), { status: 201 });
    if (req.url === DIALER) return new Response(JSON.stringify({ id: "dial-1" }), { status: 200 });
    throw new Error(`unexpected fetch to ${req.url}`);
  });
  return { asked, dials };
}

const answer =
  (body: unknown, status = 200) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** A pre-dial endpoint that never answers: only the request's own 2 s deadline ends it. */
const hangs: Answer = (_req, signal) =>
  new Promise((_, reject) => {
    if (!signal) return reject(new Error("the pre-dial request was sent without a deadline"));
    signal.addEventListener("abort", () => reject(signal.reason));
  });

/** The workspace's current webhook secret (rotated here: the one every signature must use from now on). */
async function webhookSecret(ws: TestWorkspace): Promise<string> {
  const res = await call(`/v1/admin/workspaces/${ws.workspaceId}/webhook-secret`, { method: "POST", headers: ADMIN });
  expect(res.status).toBe(200);
  return (await json(res)).webhookSecret;
}

/** A Twilio workspace's one-call batch with a pre-dial check, dispatched: its job is on the (recording) queue. */
async function withCheck(onError?: "skip" | "dial", csv = PEOPLE) {
  const ws = await newTwilioWorkspace();
  const fields: Record<string, string> = { preDialUrl: PRE_DIAL_URL };
  if (onError) fields.preDialOnError = onError;
  return { ws, ...(await dispatched(ws, csv, fields)) };
}

const leases = async (ws: TestWorkspace) => (await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases;

describe("the pre-dial check", () => {
  it("asks with a request signed by the workspace's webhook secret, carrying the call, the attempt, the number and the variables", async () => {
    const ws = await newTwilioWorkspace();
    const secret = await webhookSecret(ws);
    const { batchId, jobs } = await dispatched(ws, PEOPLE, { preDialUrl: PRE_DIAL_URL });
    const { asked, dials } = outbound(answer({ dial: true }));
    await consume(jobs);
    expect(asked).toHaveLength(1);
    const req = asked[0]!;
    const raw = await bodyText(req);
    expect(req.method).toBe("POST");
    expect(req.url).toBe(PRE_DIAL_URL);
    expect(req.redirect).toBe("manual");
    expect(req.headers.get("content-type")).toBe("application/json");
    const callId = `call_${batchId.slice(6)}_0`;
    expect(req.headers.get("webhook-id")).toBe(`${callId}.1.pre-dial`);
    expect(Math.abs(Number(req.headers.get("webhook-timestamp")) - Date.now() / 1000)).toBeLessThan(60);
    expect(await verifyWebhook(secret, req.headers, raw, Date.now())).toBe(true);
    expect(await verifyWebhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", req.headers, raw, Date.now())).toBe(false);
    expect(JSON.parse(raw)).toEqual({ callId, attempt: 1, to: "+12125551001", variables: { first_name: "Ada", plan: "gold" } });
    expect(dials.map((d) => d.url)).toEqual([TWILIO_CALLS]);
  });

  it("dial: true places the call", async () => {
    const { batchId, jobs } = await withCheck();
    const { asked, dials } = outbound(answer({ dial: true, reason: "fine" }));
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(1);
    expect(asked).toHaveLength(1);
    expect(dials).toHaveLength(1);
    expect(new URLSearchParams(await bodyText(dials[0]!)).get("To")).toBe("+12125551001");
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1, provider_call_id: "CA1", error: null });
  });

  it("dial: false cancels the call with the reason, dials nothing and frees its slot; the batch then completes", async () => {
    const { ws, batchId, jobs, due } = await withCheck();
    const { dials } = outbound(answer({ dial: false, reason: "the customer paid yesterday" }));
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(dials).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "cancelled",
      outcome: null,
      attempts: 1,
      provider_call_id: null,
      lease_expires_at: null,
      start_time: null,
      error: "The pre-dial check said not to call: the customer paid yesterday",
    });
    expect(await leases(ws)).toEqual([]);
    await tick(batchId, recordingQueue(), due + 1000);
    expect(await batchRow(batchId)).toMatchObject({ status: "completed", cancelled_count: 1, active_count: 0, waiting_count: 0 });
    const detail = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(detail).toMatchObject({ cancelled: 1, active: 0, waiting: 0 });
    const one = await call(`/v1/api/batch-calls/${batchId}/calls/call_${batchId.slice(6)}_0`, { headers: authHeaders(ws) });
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ status: "cancelled", error: "The pre-dial check said not to call: the customer paid yesterday" });
  });

  it("dial: false without a reason says so in a sentence", async () => {
    const { batchId, jobs } = await withCheck();
    outbound(answer({ dial: false }));
    await consume(jobs);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "cancelled", error: "The pre-dial check said not to call." });
  });

  it("the answer's variables go over the row's in the dial", async () => {
    const ws = await newWebhookWorkspace();
    const { jobs } = await dispatched(ws, PEOPLE, { preDialUrl: PRE_DIAL_URL });
    const { dials } = outbound(answer({ dial: true, variables: { plan: "platinum", balance: "42.10" } }));
    await consume(jobs);
    expect(dials.map((d) => d.url)).toEqual([DIALER]);
    const sent = JSON.parse(await bodyText(dials[0]!));
    expect(sent.variables).toEqual({ first_name: "Ada", plan: "platinum", balance: "42.10" });
    expect(await verifyWebhook(ws.secret, dials[0]!.headers, JSON.stringify(sent), Date.now())).toBe(true);
  });

  const failures: [string, Answer, string][] = [
    ["hangs past 2 s", hangs, "timed out after 2 s"],
    [
      "redirects",
      () => new Response(null, { status: 307, headers: { location: "https://elsewhere.example.test/check?secret=1" } }),
      "answered 307 redirecting to https://elsewhere.example.test/check; redirects are not followed",
    ],
    ["answers 500", () => new Response("boom", { status: 500 }), "it answered 500"],
    ["answers 404", () => new Response("no such check", { status: 404 }), "it answered 404"],
    ["answers garbage", () => new Response("<html>ok</html>", { status: 200 }), "its answer is not JSON"],
    ["answers the wrong shape", answer({ dial: "yes" }), "its answer is not {dial: boolean, reason?, variables?}: dial:"],
    ["answers variables that are not strings", answer({ dial: true, variables: { plan: 3 } }), "variables.plan:"],
    ["answers a reason too long", answer({ dial: false, reason: "x".repeat(501) }), "reason:"],
    ["answers more than 64 KiB", () => new Response(`{"dial":true,"reason":"${"x".repeat(PRE_DIAL_MAX_ANSWER_BYTES)}"}`), "its answer is larger than 64 KiB"],
    ["cannot be reached", () => Promise.reject(new TypeError("Network connection lost.")), "could not connect: Network connection lost"],
  ];

  describe.each(failures)("a check that %s", (_what, preDial, why) => {
    it("under preDialOnError skip (the default): the call is cancelled, saying why, and nothing is dialled", async () => {
      const { ws, batchId, jobs } = await withCheck();
      const { asked, dials } = outbound(preDial);
      const result = await consume(jobs);
      expect(result.explicitAcks).toHaveLength(1);
      expect(asked).toHaveLength(1);
      expect(dials).toEqual([]);
      const row = await callRow(batchId, 0);
      expect(row).toMatchObject({ status: "cancelled", attempts: 1, provider_call_id: null });
      expect(row!.error).toMatch(/^The pre-dial check failed \(.+\), so the call was skipped \(preDialOnError skip\)$/);
      expect(row!.error).toContain(why);
      expect(row!.error).not.toContain("secret=1");
      expect(await leases(ws)).toEqual([]);
    });

    it("under preDialOnError dial: the call is placed all the same", async () => {
      const { batchId, jobs } = await withCheck("dial");
      const { asked, dials } = outbound(preDial);
      const result = await consume(jobs);
      expect(result.explicitAcks).toHaveLength(1);
      expect(asked).toHaveLength(1);
      expect(dials.map((d) => d.url)).toEqual([TWILIO_CALLS]);
      expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1, provider_call_id: "CA1" });
    });
  });

  it("the exact sentence of a check that timed out under skip", async () => {
    const { batchId, jobs } = await withCheck("skip");
    outbound(hangs);
    await consume(jobs);
    expect((await callRow(batchId, 0))!.error).toBe("The pre-dial check failed (timed out after 2 s), so the call was skipped (preDialOnError skip)");
  });

  it("an answer that comes after the dial deadline gives the claim back, never dials late, and the retry asks again", async () => {
    const { batchId, jobs, due } = await withCheck();
    let first = true;
    const { asked, dials } = outbound(() => {
      // The check took so long that the claim's deadline (20 s after it, on the batch's clock) has passed.
      if (first) vi.spyOn(Date, "now").mockReturnValue(due + 60_000);
      first = false;
      return answer({ dial: true })();
    });
    const result = await consume(jobs);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(dials).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, dispatched_attempt: 1, provider_call_id: null });
    vi.mocked(Date.now).mockRestore();
    await consume(jobs, 2);
    expect(asked).toHaveLength(2);
    expect(dials).toHaveLength(1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1 });
  });

  it("a redelivered job after a skip asks nothing, dials nothing and changes nothing", async () => {
    const { batchId, jobs } = await withCheck();
    const { asked, dials } = outbound(answer({ dial: false, reason: "opted out by phone" }));
    await consume(jobs);
    const before = await callRow(batchId, 0);
    const counters = await batchRow(batchId);
    const again = await consume(jobs, 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect(again.retryMessages).toEqual([]);
    expect(asked).toHaveLength(1);
    expect(dials).toEqual([]);
    expect(await callRow(batchId, 0)).toEqual(before);
    expect(await batchRow(batchId)).toMatchObject({ cancelled_count: counters!.cancelled_count, version: counters!.version });
  });

  it("a skip replayed to the batch's object changes nothing, and never cancels an attempt that was dialled", async () => {
    const { batchId, jobs } = await withCheck();
    outbound(answer({ dial: true }));
    await consume(jobs);
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    await stub.placed([{ seq: 0, attempt: 1, kind: "skipped", error: "late replay", at: Date.now() }]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", provider_call_id: "CA1", error: null });
  });

  it("a batch without a check dials without asking", async () => {
    const ws = await newTwilioWorkspace();
    const { jobs } = await dispatched(ws, PEOPLE);
    const { asked, dials } = outbound(answer({ dial: false }));
    await consume(jobs);
    expect(asked).toEqual([]);
    expect(dials).toHaveLength(1);
  });

  it("when the workspace's secret cannot be read nothing is asked: the attempt is given back and the queue tries it again", async () => {
    const { batchId, jobs } = await withCheck();
    const { asked, dials } = outbound(answer({ dial: true }));
    const batch = createMessageBatch<CallJob>(
      "call-jobs",
      jobs.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    const broken = { ...env, DB: failingDb(env.DB, (sql) => sql.includes("webhook_secret_enc")) };
    await worker.queue(batch, broken, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toHaveLength(1);
    expect(asked).toEqual([]);
    expect(dials).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, dispatched_attempt: 1 });
  });
});

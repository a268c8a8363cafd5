import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DIAL_CONFIRM_MS } from "../../src/engine-config";
import { signWebhook } from "../../src/lib/signing";
import { authHeaders, bodyText, call, json, newTwilioWorkspace, newWebhookWorkspace } from "../helpers";
import { batchRow, callRow, consume, dispatched, ledgerQuery, phoneList, tick } from "../engine-helpers";

const TWILIO_CALLS = "https://twilio.example.test/2010-04-01/Accounts/ACtest/Calls.json";

type Sent = { url: string; auth: string | null; form: URLSearchParams; redirect: string };

/** Stubs outbound fetch as Twilio would answer; records every create request. */
function twilio(answer: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    sent.push({ url: req.url, auth: req.headers.get("authorization"), form: new URLSearchParams(await bodyText(req)), redirect: req.redirect });
    return answer();
  });
  return sent;
}

const created = () => new Response(JSON.stringify({ sid: `CA${crypto.randomUUID().replace(/-/g, "")}` }), { status: 201 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("call-job consumer", () => {
  it("places the call once with the exact Twilio request, and marks it active", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    const sent = twilio(created);
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(1);
    expect(sent).toHaveLength(1);
    const req = sent[0]!;
    expect(req.url).toBe(TWILIO_CALLS);
    expect(req.redirect).toBe("manual");
    expect(req.auth).toBe(`Basic ${btoa("ACtest:twilio-test-token")}`);
    const callId = `call_${batchId.slice(6)}_0`;
    expect(Object.fromEntries(req.form)).toMatchObject({
      To: "+12125551001",
      From: ws.fromNumber,
      Url: `https://agent.example.test/voice?callId=${callId}&attempt=1`,
      StatusCallback: `https://calls.example.test/v1/webhooks/twilio/status?callId=${callId}&attempt=1`,
      StatusCallbackMethod: "POST",
      MachineDetection: "Enable",
    });
    expect(req.form.getAll("StatusCallbackEvent")).toEqual(["initiated", "ringing", "answered", "completed"]);
    const row = await callRow(batchId, 0);
    expect(row).toMatchObject({ status: "active", attempts: 1, provider_call_id: expect.stringMatching(/^CA/), start_time: expect.any(Number) });
    expect((await batchRow(batchId))?.start_time).toBe(row!.start_time);
  });

  it("logs a slice's dials in one line and its ended attempts in one more, each call listed (not a line per call)", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(3));
    twilio(created);
    const lines = logged("log");
    await consume(jobs);
    const dials = lines.filter((l) => l.event === "call.dialled" && l.batchId === batchId);
    expect(dials).toEqual([
      {
        level: "info",
        event: "call.dialled",
        time: expect.any(String),
        workspaceId: ws.workspaceId,
        batchId,
        provider: "twilio",
        calls: [0, 1, 2].map((seq) => ({ seq, attempt: 1, result: "placed" })),
      },
    ]);
    expect(lines.filter((l) => l.event === "call.dial")).toEqual([]);
    const at = Date.now();
    const final = (seq: number, outcome: "answered" | "busy") => ({ kind: "final" as const, batchId, seq, attempt: 1, outcome, at, durationSec: 5 });
    await env.BATCH_SCHEDULER.getByName(batchId).applyEvents([final(0, "answered"), final(2, "busy"), final(0, "answered")]);
    const ends = lines.filter((l) => l.event === "call.attempts_ended" && l.batchId === batchId);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.attempts).toEqual([
      { seq: 0, attempt: 1, outcome: "answered", next: "completed" },
      { seq: 2, attempt: 1, outcome: "busy", next: expect.stringMatching(/^(waiting|failed)$/) },
    ]);
  });

  it("a redelivered job after the provider accepted the call places no second call", async () => {
    const ws = await newTwilioWorkspace();
    const { jobs } = await dispatched(ws, phoneList(1));
    const sent = twilio(created);
    await consume(jobs);
    const again = await consume(jobs, 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it("two consumers racing on one job place one call", async () => {
    const ws = await newTwilioWorkspace();
    const { jobs } = await dispatched(ws, phoneList(1));
    const sent = twilio(created);
    await Promise.all([consume(jobs), consume(jobs), consume(jobs)]);
    expect(sent).toHaveLength(1);
  });

  it("a 429 gives the attempt back and retries it later; the retry dials once", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    let n = 0;
    const sent = twilio(() =>
      ++n === 1 ? new Response(JSON.stringify({ message: "Too many requests" }), { status: 429, headers: { "retry-after": "7" } }) : created(),
    );
    const first = await consume(jobs);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(first.explicitAcks).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, dispatched_attempt: 1 });
    const second = await consume(jobs, 2);
    expect(second.explicitAcks).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1 });
  });

  it.each([
    ["a 5xx", () => new Response("upstream exploded", { status: 503 })],
    ["a timeout", () => Promise.reject(new DOMException("The operation timed out.", "TimeoutError"))],
  ])("never re-sends a create that ended in %s: the call may exist", async (_n, answer) => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    const sent = twilio(answer);
    const first = await consume(jobs);
    expect(first.explicitAcks).toHaveLength(1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1, error: expect.stringContaining("may exist") });
    await consume(jobs, 2);
    expect(sent).toHaveLength(1);
  });

  it("a refused create fails the attempt with Twilio's reason", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    twilio(() => new Response(JSON.stringify({ message: "The 'To' number is not a valid phone number." }), { status: 400 }));
    await consume(jobs);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", outcome: "failed", error: expect.stringContaining("not a valid phone number") });
    expect((await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases).toEqual([]);
  });

  it("dials nothing after a cancel answered, and frees the slots", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(3));
    const sent = twilio(created);
    const res = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(3);
    expect(sent).toEqual([]);
    expect(await batchRow(batchId)).toMatchObject({ status: "cancelled", cancelled_count: 3, waiting_count: 0 });
    expect((await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases).toEqual([]);
  });

  it("gives a paused batch's jobs back without dialling", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(2));
    const sent = twilio(created);
    expect((await call(`/v1/api/batch-calls/${batchId}/pause`, { method: "POST", headers: authHeaders(ws) })).status).toBe(200);
    await consume(jobs);
    expect(sent).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, dispatched_attempt: 0 });
  });

  it("does not dial a number put on the do-not-call list after the upload", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125551001"] }),
    });
    const sent = twilio(created);
    await consume(jobs);
    expect(sent).toEqual([]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "cancelled", attempts: 0, error: "on the do-not-call list" });
  });

  it("a dead-lettered job fails its call with a clear error", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    const result = await consume(jobs, 6, "call-jobs-dlq");
    expect(result.explicitAcks).toHaveLength(1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", outcome: "failed", error: expect.stringContaining("could not be dispatched") });
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ failed: 1, waiting: 0 });
  });

  it("acknowledges a malformed message without doing anything", async () => {
    const errors = logged("error");
    const result = await consume([{ batchId: "nope", seq: -1, attempt: 0 } as never]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.explicitAcks).toEqual(["msg-0--1-0"]);
    expect(result.retryMessages).toEqual([]);
    expect(errors.filter((e) => e.event === "call_job.malformed")).toEqual([expect.objectContaining({ level: "error", messageId: "msg-0--1-0" })]);
  });

  it("acknowledges every malformed shape, logs each, and dials, claims, reserves and records nothing", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    const before = await engineState(batchId, ws.workspaceId);
    // the batch's one job is dispatched and waiting: a claim would take it, and a dial would reach the stub
    expect(before.calls).toEqual([expect.objectContaining({ seq: 0, status: "waiting", attempts: 0, dispatched_attempt: 1 })]);
    expect(before.limiter.leases).toHaveLength(1);
    const sent = twilio(created);
    const errors = logged("error");
    const malformed: [string, unknown][] = [
      ["a string", `${batchId}:0:1`],
      ["null", null],
      ["a number", 0],
      ["an array", [batchId, 0, 1]],
      ["an empty object", {}],
      ["no batchId", { seq: 0, attempt: 1 }],
      ["no seq", { batchId, attempt: 1 }],
      ["no attempt", { batchId, seq: 0 }],
      ["batchId as a number", { batchId: 7, seq: 0, attempt: 1 }],
      ["batchId without its prefix", { batchId: batchId.slice("batch_".length), seq: 0, attempt: 1 }],
      ["seq as a string", { batchId, seq: "0", attempt: 1 }],
      ["attempt as a string", { batchId, seq: 0, attempt: "1" }],
      ["a fractional seq", { batchId, seq: 0.5, attempt: 1 }],
      ["a negative seq", { batchId, seq: -1, attempt: 1 }],
      ["attempt 0", { batchId, seq: 0, attempt: 0 }],
      ["attempt null", { batchId, seq: 0, attempt: null }],
    ];
    const result = await consume(malformed.map(([, body]) => body));
    const ids = malformed.map(([, body], i) => `msg-${i}-${(body as { seq?: unknown } | null)?.seq}-${(body as { attempt?: unknown } | null)?.attempt}`);
    expect([...result.explicitAcks].sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    // logged, one line each, naming the message (never its body)
    expect(
      errors
        .filter((e) => e.event === "call_job.malformed")
        .map((e) => e.messageId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(errors.filter((e) => String(e.event).startsWith("call_job.") && e.event !== "call_job.malformed")).toEqual([]);
    // nothing was done: no dial, no claim in the ledger, no slot taken at the limiter
    expect(sent).toEqual([]);
    expect(await engineState(batchId, ws.workspaceId)).toEqual(before);

    // the job itself is untouched: delivered now, it dials once
    const real = await consume(jobs);
    expect(real.explicitAcks).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1 });
  });

  it("acknowledges a well-formed job for an unknown batch or call without doing anything", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId } = await dispatched(ws, phoneList(1));
    const before = await engineState(batchId, ws.workspaceId);
    const sent = twilio(created);
    const errors = logged("error");
    const unknownBatch = "batch_0000000000000000000000000000";
    const result = await consume([
      { batchId: unknownBatch, seq: 0, attempt: 1 },
      { batchId, seq: 99, attempt: 1 },
    ]);
    expect([...result.explicitAcks].sort()).toEqual(["msg-0-0-1", "msg-1-99-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(errors.filter((e) => String(e.event).startsWith("call_job."))).toEqual([]);
    expect(sent).toEqual([]);
    expect(await engineState(batchId, ws.workspaceId)).toEqual(before);
    // asking about the unknown batch did not bring one into being
    expect(await env.BATCH_SCHEDULER.getByName(unknownBatch).state()).toBeNull();
  });
});

describe("a dial that reaches no one", () => {
  const DIAL_URL = "https://dialer.example.com/dial";
  // What workerd's fetch throws for a refused connection (measured: a POST to a closed local port).
  const refused = () => Promise.reject(new Error("Network connection lost."));

  /** Stubs outbound fetch for the dialer; records the redirect mode of each request. */
  function dialer(answer: () => Response | Promise<Response>) {
    const modes: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      modes.push(new Request(input, init).redirect);
      return answer();
    });
    return modes;
  }

  /** The lease the claim set (its instant plus DIAL_CONFIRM_MS; the claim comes a moment after the start it stamps), not the call's. */
  function expectClaimLease(row: Record<string, unknown>) {
    const start = row.start_time as number;
    expect(row.lease_expires_at).toBeGreaterThanOrEqual(start + DIAL_CONFIRM_MS);
    expect(row.lease_expires_at).toBeLessThan(start + 2 * DIAL_CONFIRM_MS);
  }

  it("holds an unreachable dialer's slot only for the claim's short lease, says what happened, and never dials it again", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 5 });
    const { batchId, due, jobs, queue } = await dispatched(ws, phoneList(1));
    const modes = dialer(refused);
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(1);
    expect(modes).toEqual(["manual"]);
    const row = (await callRow(batchId, 0))!;
    // Not confirmed, so not given the hour-long call lease: the claim's DIAL_CONFIRM_MS lease stands.
    expect(row).toMatchObject({ status: "active", attempts: 1, dial_confirmed: 0, error: `could not connect to ${DIAL_URL}: Network connection lost` });
    expectClaimLease(row);

    // The tick after the short lease settles it (a webhook dialer cannot be asked), frees the slot, and dials nothing.
    await tick(batchId, queue, due + DIAL_CONFIRM_MS);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "failed",
      outcome: "failed",
      error: `Could not connect to ${DIAL_URL}: Network connection lost.`,
    });
    expect((await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases).toEqual([]);
    await consume(jobs, 2);
    expect(modes).toHaveLength(1);
  });

  it("still applies the dialer's final report for an unreachable dial that arrives within the short lease", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 5 });
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    dialer(refused);
    await consume(jobs);
    const callId = `call_${batchId.slice(6)}_0`;
    const body = JSON.stringify({ callId, attempt: 1, status: "answered", duration: 7, providerCallId: "remote-late" });
    const res = await call(`/v1/webhooks/dial/status?callId=${callId}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signWebhook(ws.secret, "late-1", body)) },
      body,
    });
    expect(res.status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", duration: 7, error: null });
  });

  it("keeps a dial that timed out as may-exist, with the call's full lease", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 5 });
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    dialer(() => Promise.reject(new DOMException("The operation timed out.", "TimeoutError")));
    await consume(jobs);
    const row = (await callRow(batchId, 0))!;
    expect(row).toMatchObject({ status: "active", dial_confirmed: 1, error: "the dial endpoint did not answer (TimeoutError); the call may exist" });
    expect(row.lease_expires_at).toBe((row.start_time as number) + Number(env.CALL_LEASE_SECONDS) * 1000);
  });

  it("fails a dial the dialer answered with a redirect, naming it, without following it", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 5 });
    const { batchId, jobs } = await dispatched(ws, phoneList(1));
    const modes = dialer(() => new Response("moved", { status: 307, headers: { location: "https://elsewhere.example.net/dial?token=secret" } }));
    const result = await consume(jobs);
    expect(result.explicitAcks).toHaveLength(1);
    expect(modes).toEqual(["manual"]);
    const sentence = "The dial endpoint answered 307 redirecting to https://elsewhere.example.net/dial; redirects are not followed.";
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", outcome: "failed", error: sentence });
    expect((await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases).toEqual([]);
  });

  it("fails a Twilio create answered with a redirect, and treats an unreachable Twilio as never confirmed", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, jobs } = await dispatched(ws, phoneList(2));
    let n = 0;
    const sent = twilio(() => (++n === 1 ? new Response(null, { status: 301, headers: { location: "/elsewhere" } }) : refused()));
    await consume(jobs);
    expect(sent.map((s) => s.redirect)).toEqual(["manual", "manual"]);
    const rows = [(await callRow(batchId, 0))!, (await callRow(batchId, 1))!];
    const redirected = rows.find((r) => r.status === "failed")!;
    const unreachable = rows.find((r) => r.status === "active")!;
    expect(redirected.error).toBe("Twilio answered 301 redirecting to https://twilio.example.test/elsewhere; redirects are not followed.");
    expect(unreachable).toMatchObject({ dial_confirmed: 0, error: `could not connect to Twilio at ${TWILIO_CALLS}: Network connection lost` });
    expectClaimLease(unreachable);
  });
});

/** Everything a consumed job could change: the batch's ledger (calls and batch row) and its workspace's limiter. */
async function engineState(batchId: string, workspaceId: string) {
  return {
    calls: await ledgerQuery(batchId, "SELECT * FROM calls ORDER BY seq"),
    batch: await batchRow(batchId),
    limiter: await env.WORKSPACE_LIMITER.getByName(workspaceId).snapshot(),
  };
}

/**
 * The isolate's log lines at one level, collected instead of printed. The
 * Worker logs JSON; anything else is kept as `raw`. Objects of earlier tests
 * share the isolate, so callers look at the events they expect, by name.
 */
function logged(level: "log" | "error"): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, level).mockImplementation((line: unknown) => {
    try {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    } catch {
      lines.push({ raw: String(line) });
    }
  });
  return lines;
}

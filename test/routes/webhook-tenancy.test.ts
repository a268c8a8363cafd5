import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook, twilioSignature } from "../../src/lib/signing";
import { webhookClock } from "../../src/routes/webhooks";
import { PREVIOUS_SECRET_GRACE_MS } from "../../src/telephony/webhook";
import { callRow, claimAt, consume, dispatched, phoneList } from "../engine-helpers";
import { authHeaders, call, json, newTwilioWorkspace, newWebhookWorkspace, newWorkspace, type TestWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const BASE = "https://calls.example.test";
const LEASE_SECONDS = Number(env.CALL_LEASE_SECONDS);

type HookWorkspace = TestWorkspace & { secret: string };

const newHookWorkspace = (): Promise<HookWorkspace> => newWebhookWorkspace();

/** Dials a batch through the (stubbed) dial endpoint: its calls are then active. Returns what was POSTed. */
async function activeHookBatch(ws: HookWorkspace, n = 1) {
  const { batchId, jobs } = await dispatched(ws, phoneList(n));
  const seen: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return new Response(JSON.stringify({ id: `remote-${seen.length}` }), { status: 200 });
  });
  await consume(jobs);
  vi.restoreAllMocks();
  return { batchId, seen };
}

/** A simulated batch with call 0 claimed and live (the carrier never gets it, so only a report could end it). */
async function activeSimulatedCall() {
  const ws = await newWorkspace();
  const { batchId, due } = await dispatched(ws, phoneList(1));
  await claimAt(batchId, 0, 1, due);
  return { ws, batchId };
}

async function activeTwilioCall() {
  const ws = await newTwilioWorkspace();
  const { batchId, jobs } = await dispatched(ws, phoneList(1));
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ sid: "CA1" }), { status: 201 }));
  await consume(jobs);
  vi.restoreAllMocks();
  return { ws, batchId };
}

const callIdOf = (batchId: string, seq: number) => `call_${batchId.slice(6)}_${seq}`;

/** A status report signed with `secret`, POSTed to the call's statusUrl (or to `path`). */
async function report(secret: string, body: Record<string, unknown> | string, opts: { path?: string; ts?: number } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const callId = typeof body === "string" ? "" : String(body.callId);
  const path = opts.path ?? `/v1/webhooks/dial/status?callId=${encodeURIComponent(callId)}`;
  const headers = await signWebhook(secret, `msg_${crypto.randomUUID()}`, raw, opts.ts);
  return call(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: raw });
}

async function twilioStatus(batchId: string, seq: number, params: Record<string, string>) {
  const path = `/v1/webhooks/twilio/status?callId=${callIdOf(batchId, seq)}&attempt=1`;
  const entries = Object.entries({ AccountSid: "ACtest", CallSid: "CA1", ...params });
  const signature = await twilioSignature("twilio-test-token", BASE + path, entries);
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(entries).toString(),
  });
}

describe("a webhook report is applied only with the secret of the agent that placed the call", () => {
  it("refuses a report signed by another workspace's agent with the same 403 as a bad signature, and changes nothing", async () => {
    const victim = await newHookWorkspace();
    const attacker = await newHookWorkspace();
    const { batchId } = await activeHookBatch(victim, 3);
    const forged = { callId: callIdOf(batchId, 0), attempt: 1, status: "failed", error: "forged" };
    const viaStatusUrl = await report(attacker.secret, forged);
    const viaBarePath = await report(attacker.secret, forged, { path: "/v1/webhooks/dial/status" });
    const badSignature = await report("whsec_AAAA", forged);
    const unknownCall = await report(attacker.secret, { ...forged, callId: "call_ffffffffffffffffffffffffffff_0" });
    const notACall = await report(attacker.secret, { ...forged, callId: "hello" });
    const bodies = [];
    for (const res of [viaStatusUrl, viaBarePath, badSignature, unknownCall, notACall]) {
      expect(res.status).toBe(403);
      const { requestId: _, ...body } = await json(res);
      bodies.push(body);
    }
    // no existence leak: every refusal reads the same
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ code: "forbidden", error: "The webhook signature does not match this request." });
    for (const seq of [0, 1, 2]) expect(await callRow(batchId, seq)).toMatchObject({ status: "active", outcome: null });
    // the victim's own secret still works, at the statusUrl and at the bare path
    expect((await report(victim.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "answered", duration: 12 })).status).toBe(204);
    expect((await report(victim.secret, { callId: callIdOf(batchId, 1), attempt: 1, status: "busy" }, { path: "/v1/webhooks/dial/status" })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", duration: 12 });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "failed", outcome: "busy" });
  });

  it("will not let a body signed for one's own call speak for another agent's call", async () => {
    const victim = await newHookWorkspace();
    const attacker = await newHookWorkspace();
    const { batchId: victimBatch } = await activeHookBatch(victim);
    const { batchId: ownBatch } = await activeHookBatch(attacker);
    // posted to the attacker's own statusUrl (so its key verifies), naming the victim's call in the body
    const res = await report(
      attacker.secret,
      { callId: callIdOf(victimBatch, 0), attempt: 1, status: "failed" },
      { path: `/v1/webhooks/dial/status?callId=${callIdOf(ownBatch, 0)}` },
    );
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "The report's callId is not the call of the statusUrl it was sent to." });
    expect(await callRow(victimBatch, 0)).toMatchObject({ status: "active" });
    expect(await callRow(ownBatch, 0)).toMatchObject({ status: "active" });
  });

  it("a webhook agent's secret cannot change a simulated call", async () => {
    const attacker = await newHookWorkspace();
    const { batchId } = await activeSimulatedCall();
    const forged = { callId: callIdOf(batchId, 0), attempt: 1, status: "failed" };
    expect((await report(attacker.secret, forged)).status).toBe(403);
    expect((await report(attacker.secret, forged, { path: "/v1/webhooks/dial/status" })).status).toBe(403);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", outcome: null });
  });

  it("a webhook agent's secret cannot change a twilio call, nor a Twilio-signed callback a webhook call", async () => {
    const attacker = await newHookWorkspace();
    const { batchId: twilioBatch } = await activeTwilioCall();
    expect((await report(attacker.secret, { callId: callIdOf(twilioBatch, 0), attempt: 1, status: "failed" })).status).toBe(403);
    expect(await callRow(twilioBatch, 0)).toMatchObject({ status: "active" });

    const { batchId: hookBatch } = await activeHookBatch(attacker);
    const res = await twilioStatus(hookBatch, 0, { CallStatus: "completed", CallDuration: "5" });
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: "forbidden", error: "This status callback is not for a call placed through Twilio." });
    expect(await callRow(hookBatch, 0)).toMatchObject({ status: "active" });
  });

  it("a Twilio-signed callback cannot change a simulated call", async () => {
    const { batchId } = await activeSimulatedCall();
    expect((await twilioStatus(batchId, 0, { CallStatus: "failed" })).status).toBe(403);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", outcome: null });
  });

  it("the agent's secret still verifies its batch's reports after the agent is deleted", async () => {
    const ws = await newHookWorkspace();
    const { batchId } = await activeHookBatch(ws);
    expect((await call(`/v1/api/agents/${ws.agentId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    expect((await report(ws.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "voicemail", duration: 7 })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "voicemail" });
  });
});

describe("dials are signed with the agent's own secret", () => {
  it("signs with the current secret, which changes on rotation", async () => {
    const ws = await newHookWorkspace();
    const first = await activeHookBatch(ws);
    const body = await first.seen[0]!.text();
    const h = first.seen[0]!.headers;
    const expected = await signWebhook(ws.secret, h.get("webhook-id")!, body, Number(h.get("webhook-timestamp")));
    expect(h.get("webhook-signature")).toBe(expected["webhook-signature"]);
    expect(JSON.parse(body).statusUrl).toBe(`${BASE}/v1/webhooks/dial/status?callId=${callIdOf(first.batchId, 0)}`);

    const rotated = await json(await call(`/v1/api/agents/${ws.agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) }));
    const second = await activeHookBatch(ws);
    const body2 = await second.seen[0]!.text();
    const h2 = second.seen[0]!.headers;
    const withNew = await signWebhook(rotated.signingSecret, h2.get("webhook-id")!, body2, Number(h2.get("webhook-timestamp")));
    expect(h2.get("webhook-signature")).toBe(withNew["webhook-signature"]);
  });

  it("refuses to dial for a webhook agent that has no secret, with an error saying how to get one", async () => {
    const ws = await newHookWorkspace();
    await env.DB.prepare("UPDATE agents SET signing_secret_enc = NULL WHERE id = ?1").bind(ws.agentId).run();
    const { batchId, seen } = await activeHookBatch(ws);
    expect(seen).toHaveLength(0);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", error: expect.stringContaining("rotate-secret") });
  });
});

describe("rotation", () => {
  it("the old secret verifies for 24 hours, then not; the new one from the start", async () => {
    const ws = await newHookWorkspace();
    const { batchId } = await activeHookBatch(ws, 3);
    const rotated = await json(await call(`/v1/api/agents/${ws.agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) }));
    // within the grace period: the old secret still verifies
    expect((await report(ws.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "answered", duration: 1 })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed" });
    // The route's clock stands at the grace period's last millisecond, then at its end; each report is stamped with that time.
    const graceEnds = Date.parse(rotated.previousSecretExpiresAt);
    expect(graceEnds).toBeGreaterThanOrEqual(Date.now() + PREVIOUS_SECRET_GRACE_MS - 60_000);
    const clock = vi.spyOn(webhookClock, "now").mockReturnValue(graceEnds - 1);
    const stamped = () => ({ ts: Math.floor(webhookClock.now() / 1000) });
    expect((await report(ws.secret, { callId: callIdOf(batchId, 2), attempt: 1, status: "busy" }, stamped())).status).toBe(204);
    expect(await callRow(batchId, 2)).toMatchObject({ status: "failed", outcome: "busy" });
    clock.mockReturnValue(graceEnds);
    const late = await report(ws.secret, { callId: callIdOf(batchId, 1), attempt: 1, status: "failed" }, stamped());
    expect(late.status).toBe(403);
    expect(await callRow(batchId, 1)).toMatchObject({ status: "active" });
    expect((await report(rotated.signingSecret, { callId: callIdOf(batchId, 1), attempt: 1, status: "no_answer" }, stamped())).status).toBe(204);
    expect(await callRow(batchId, 1)).toMatchObject({ status: "failed", outcome: "no_answer" });
  });

  it("a second rotation retires the first secret at once", async () => {
    const ws = await newHookWorkspace();
    const { batchId } = await activeHookBatch(ws);
    const first = await json(await call(`/v1/api/agents/${ws.agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) }));
    await call(`/v1/api/agents/${ws.agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) });
    expect((await report(ws.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "failed" })).status).toBe(403);
    expect((await report(first.signingSecret, { callId: callIdOf(batchId, 0), attempt: 1, status: "busy" })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ outcome: "busy" });
  });
});

describe("reported numbers are bounded", () => {
  it("a duration outside 0 … the lease, or an absurd attempt, is a 400 and changes nothing", async () => {
    const ws = await newHookWorkspace();
    const { batchId } = await activeHookBatch(ws);
    const callId = callIdOf(batchId, 0);
    const cases: [string, string][] = [
      ["over the lease", JSON.stringify({ callId, attempt: 1, status: "answered", duration: LEASE_SECONDS + 1 })],
      ["negative", JSON.stringify({ callId, attempt: 1, status: "answered", duration: -1 })],
      ["infinite", `{"callId":"${callId}","attempt":1,"status":"answered","duration":1e999}`],
      ["a string", JSON.stringify({ callId, attempt: 1, status: "answered", duration: "NaN" })],
      ["attempt 0", JSON.stringify({ callId, attempt: 0, status: "answered" })],
      ["fractional attempt", JSON.stringify({ callId, attempt: 1.5, status: "answered" })],
      ["huge attempt", JSON.stringify({ callId, attempt: 1e15, status: "answered" })],
    ];
    for (const [name, raw] of cases) {
      const headers = await signWebhook(ws.secret, `msg_${name}`, raw);
      const res = await call(`/v1/webhooks/dial/status?callId=${callId}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: raw,
      });
      expect(res.status, name).toBe(400);
      expect((await json(res)).code, name).toBe("validation_failed");
    }
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", duration: null });
    const over = await report(ws.secret, { callId, attempt: 1, status: "answered", duration: LEASE_SECONDS + 1 });
    expect(await json(over)).toMatchObject({ error: `duration must be between 0 and ${LEASE_SECONDS} seconds (the call lease).` });
    // the lease itself is still a valid duration
    expect((await report(ws.secret, { callId, attempt: 1, status: "answered", duration: LEASE_SECONDS })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", duration: LEASE_SECONDS });
  });

  it("a signed report with an overlong providerCallId is a 400", async () => {
    const ws = await newHookWorkspace();
    const { batchId } = await activeHookBatch(ws);
    const res = await report(ws.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "answered", providerCallId: "x".repeat(1_000) });
    expect(res.status).toBe(400);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
    // Past the endpoint's body limit (8 KiB) it is not read at all: a 413, signed or not.
    const huge = await report(ws.secret, { callId: callIdOf(batchId, 0), attempt: 1, status: "answered", providerCallId: "x".repeat(10_000) });
    expect(huge.status).toBe(413);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
  });
});

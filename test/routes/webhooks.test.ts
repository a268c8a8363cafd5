import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook, twilioSignature, verifyTwilioSignature } from "../../src/lib/signing";
import { batchRow, callRow, consume, dispatched, phoneList } from "../engine-helpers";
import { authHeaders, call, callWithEnv, json, newTwilioWorkspace, newWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const BASE = "https://calls.example.test";

async function twilioStatus(batchId: string, seq: number, attempt: number, params: Record<string, string>, opts: { forge?: boolean } = {}) {
  const path = `/v1/webhooks/twilio/status?callId=call_${batchId.slice(6)}_${seq}&attempt=${attempt}`;
  const entries = Object.entries({ AccountSid: "ACtest", CallSid: "CA1", ...params });
  const signature = await twilioSignature(opts.forge ? "not-the-token" : "twilio-test-token", BASE + path, entries);
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(entries).toString(),
  });
}

/** A call dialled through Twilio and now active (attempt 1). */
async function activeTwilioCall(csv = phoneList(1), fields: Record<string, string> = {}) {
  const ws = await newTwilioWorkspace();
  const { batchId, jobs, due } = await dispatched(ws, csv, fields);
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ sid: "CA1" }), { status: 201 }));
  await consume(jobs);
  vi.restoreAllMocks();
  return { ws, batchId, due };
}

describe("Twilio signatures", () => {
  it("match Twilio's published example", async () => {
    const params: [string, string][] = [
      ["CallSid", "CA1234567890ABCDE"],
      ["Caller", "+14158675310"],
      ["Digits", "1234"],
      ["From", "+14158675310"],
      ["To", "+18005551212"],
    ];
    expect(await twilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)).toBe("GvWf1cFY/Q7PnoempGyD5oXAezc=");
    expect(await verifyTwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params, "GvWf1cFY/Q7PnoempGyD5oXAezc=")).toBe(true);
    expect(await verifyTwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", params, "GvWf1cFY/Q7PnoempGyD5oXAezc=")).toBe(false);
  });
});

describe("POST /v1/webhooks/twilio/status", () => {
  it("records the final status of the active attempt", async () => {
    const { ws, batchId } = await activeTwilioCall();
    const res = await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "42" });
    expect(res.status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", duration: 42 });
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ completed: 1, active: 0, averageCallDuration: 42 });
  });

  it("maps answering-machine detection to voicemail", async () => {
    const { batchId } = await activeTwilioCall();
    await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "20", AnsweredBy: "machine_end_beep" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "voicemail" });
  });

  it("refuses a forged signature with 403 and changes nothing", async () => {
    const { batchId } = await activeTwilioCall();
    const res = await twilioStatus(batchId, 0, 1, { CallStatus: "completed" }, { forge: true });
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: "forbidden" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", outcome: null });
    const unsigned = await call(`/v1/webhooks/twilio/status?callId=call_${batchId.slice(6)}_0&attempt=1`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "CallStatus=completed",
    });
    expect(unsigned.status).toBe(403);
  });

  it("acknowledges duplicated and out-of-order events without changing the result", async () => {
    const { ws, batchId } = await activeTwilioCall();
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "30" })).status).toBe(204);
    const counters = await batchRow(batchId);
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "30" })).status).toBe(204);
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "ringing" })).status).toBe(204);
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "no-answer" })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", duration: 30 });
    expect(await batchRow(batchId)).toEqual(counters);
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ completed: 1, failed: 0 });
  });

  it("ignores a late event for an earlier attempt", async () => {
    const { batchId } = await activeTwilioCall(phoneList(1), {
      smartCallbackConfig: JSON.stringify({ enabled: true, maxAttempts: 3, gaps: [{ minutes: 5 }] }),
    });
    await twilioStatus(batchId, 0, 1, { CallStatus: "busy" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", outcome: "busy", attempts: 1 });
    await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "9" });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", outcome: "busy" });
  });

  it("checks the signature before reading anything: a forged request is 403 whatever its body or query", async () => {
    const { batchId } = await activeTwilioCall();
    const forged = await call("/v1/webhooks/twilio/status?attempt=zero", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "bm9wZQ==" },
      body: "%%%not-a-form",
    });
    expect(forged.status).toBe(403);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
    // signed, but the URL lacks a usable attempt: a clear 400
    const path = `/v1/webhooks/twilio/status?callId=call_${batchId.slice(6)}_0&attempt=0`;
    const params: [string, string][] = [["CallStatus", "completed"]];
    const signed = await call(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": await twilioSignature("twilio-test-token", BASE + path, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(signed.status).toBe(400);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
  });

  it("403s an unknown batch, 404s an unknown call of its batch, and 400s an unknown status", async () => {
    const { batchId } = await activeTwilioCall();
    const unknownBatch = await twilioStatus("batch_ffffffffffff", 0, 1, { CallStatus: "completed" });
    expect(unknownBatch.status).toBe(403);
    expect(await json(unknownBatch)).toMatchObject({ code: "forbidden" });
    expect((await twilioStatus(batchId, 5, 1, { CallStatus: "completed" })).status).toBe(404);
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "exploded" })).status).toBe(400);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
  });

  it("clamps CallDuration to the call lease and refuses an absurd attempt", async () => {
    const { ws, batchId } = await activeTwilioCall(phoneList(2));
    expect((await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "99999999" })).status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", duration: Number(env.CALL_LEASE_SECONDS) });
    expect((await twilioStatus(batchId, 1, 1, { CallStatus: "completed", CallDuration: "-30" })).status).toBe(204);
    expect(await callRow(batchId, 1)).toMatchObject({ status: "completed", duration: 0 });
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status.averageCallDuration).toBe(Number(env.CALL_LEASE_SECONDS) / 2);
    expect((await twilioStatus(batchId, 0, 1e12, { CallStatus: "completed" })).status).toBe(400);
  });
});

/** A RecordingStatusCallback as Twilio would send it for the attempt, signed with the account's token (or forged). */
async function twilioRecording(callId: string, attempt: number, params: Record<string, string>, opts: { forge?: boolean } = {}) {
  const path = `/v1/webhooks/twilio/recording?callId=${callId}&attempt=${attempt}`;
  const entries = Object.entries({ AccountSid: "ACtest", CallSid: "CA1", RecordingSid: "RE1", RecordingDuration: "42", ...params });
  const signature = await twilioSignature(opts.forge ? "not-the-token" : "twilio-test-token", BASE + path, entries);
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(entries).toString(),
  });
}

const RECORDING = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Recordings/RE1";
const completedRecording = { RecordingStatus: "completed", RecordingUrl: RECORDING };

/** The attempt's result as the batch's object keeps it (null: none). */
async function resultOf(batchId: string, seq: number) {
  return (await env.BATCH_SCHEDULER.getByName(batchId).callDetail(seq))?.result ?? null;
}

describe("POST /v1/webhooks/twilio/recording", () => {
  it("makes a completed recording's URL the attempt's recordingUrl, and a repeat changes nothing", async () => {
    const { batchId } = await activeTwilioCall();
    await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "42" });
    const callId = `call_${batchId.slice(6)}_0`;
    const res = await twilioRecording(callId, 1, completedRecording);
    expect(res.status).toBe(204);
    const result = await resultOf(batchId, 0);
    expect(result).toMatchObject({ attempt: 1, recording_url: RECORDING });
    expect((await twilioRecording(callId, 1, completedRecording)).status).toBe(204);
    expect(await resultOf(batchId, 0)).toEqual(result);
    // The call itself is as its status callback left it.
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", outcome: "answered", duration: 42 });
  });

  it("acknowledges a recording that did not complete and records nothing", async () => {
    const { batchId } = await activeTwilioCall();
    for (const RecordingStatus of ["absent", "failed", "in-progress"]) {
      expect((await twilioRecording(`call_${batchId.slice(6)}_0`, 1, { RecordingStatus, RecordingUrl: RECORDING })).status).toBe(204);
    }
    expect(await resultOf(batchId, 0)).toBeNull();
  });

  it("refuses an unsigned or forged callback with 403 and records nothing", async () => {
    const { batchId } = await activeTwilioCall();
    const callId = `call_${batchId.slice(6)}_0`;
    const forged = await twilioRecording(callId, 1, completedRecording, { forge: true });
    expect(forged.status).toBe(403);
    expect(await json(forged)).toMatchObject({ code: "forbidden", error: "The X-Twilio-Signature does not match this request." });
    const unsigned = await call(`/v1/webhooks/twilio/recording?callId=${callId}&attempt=1`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(completedRecording).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect(await resultOf(batchId, 0)).toBeNull();
  });

  it("refuses a Twilio-signed callback for a call another provider placed with 403, and records nothing", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId } = await dispatched(ws, phoneList(1));
    const res = await twilioRecording(`call_${batchId.slice(6)}_0`, 1, completedRecording);
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: "forbidden", error: "This recording callback is not for a call placed through Twilio." });
    expect(await resultOf(batchId, 0)).toBeNull();
  });

  it("answers a signed callback it cannot apply with the status that says why, recording nothing", async () => {
    const { batchId } = await activeTwilioCall();
    const callId = `call_${batchId.slice(6)}_0`;
    const insecure = await twilioRecording(callId, 1, { RecordingStatus: "completed", RecordingUrl: "http://api.twilio.com/rec" });
    expect(insecure.status).toBe(400);
    expect(await json(insecure)).toMatchObject({ code: "validation_failed", error: "RecordingUrl must be an https URL of at most 2048 characters." });
    expect((await twilioRecording(callId, 0, completedRecording)).status).toBe(400);
    expect((await twilioRecording(`call_${batchId.slice(6)}_7`, 1, completedRecording)).status).toBe(404);
    const undialled = await twilioRecording(callId, 2, completedRecording);
    expect(undialled.status).toBe(409);
    expect(await json(undialled)).toMatchObject({ error: "Attempt 2 of this call was never dialled (it has made 1)." });
    expect(await resultOf(batchId, 0)).toBeNull();
  });
});

describe("webhook provider", () => {
  it("POSTs a dial request signed with the agent's own secret and accepts status reports signed with it", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const agent = await json(
      await call("/v1/api/agents", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ name: "Hook", provider: "webhook", dialUrl: "https://dialer.example.test/dial" }),
      }),
    );
    const secret: string = agent.signingSecret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const { batchId, jobs } = await dispatched({ ...ws, agentId: agent.agentId }, "phone_number,first_name,plan\n+12125551001,Ann,gold\n");
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return new Response(JSON.stringify({ id: "remote-1" }), { status: 200 });
    });
    await consume(jobs);
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    const body = await req.text();
    const callId = `call_${batchId.slice(6)}_0`;
    expect(req.url).toBe("https://dialer.example.test/dial");
    expect(JSON.parse(body)).toEqual({
      callId,
      attempt: 1,
      to: "+12125551001",
      from: null,
      agentId: agent.agentId,
      variables: { first_name: "Ann", plan: "gold" },
      statusUrl: `${BASE}/v1/webhooks/dial/status?callId=${callId}`,
    });
    const expected = await signWebhook(secret, req.headers.get("webhook-id")!, body, Number(req.headers.get("webhook-timestamp")));
    expect(req.headers.get("webhook-signature")).toBe(expected["webhook-signature"]);
    vi.restoreAllMocks();

    const statusPath = `/v1/webhooks/dial/status?callId=${callId}`;
    const report = JSON.stringify({ callId, attempt: 1, status: "no_answer" });
    const bad = await call(statusPath, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signWebhook("whsec_AAAA", "e1", report)) },
      body: report,
    });
    expect(bad.status).toBe(403);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active" });
    const good = await call(statusPath, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signWebhook(secret, "e2", report)) },
      body: report,
    });
    expect(good.status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", outcome: "no_answer", provider_call_id: "remote-1" });
    const garbage = "{not json";
    expect((await call(statusPath, { method: "POST", headers: { "content-type": "application/json" }, body: garbage })).status).toBe(403);
    const signedGarbage = await call(statusPath, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signWebhook(secret, "e4", garbage)) },
      body: garbage,
    });
    expect(signedGarbage.status).toBe(400);
    const wrongShape = JSON.stringify({ callId, attempt: 1, status: "exploded" });
    expect(
      (
        await call(statusPath, {
          method: "POST",
          headers: { "content-type": "application/json", ...(await signWebhook(secret, "e5", wrongShape)) },
          body: wrongShape,
        })
      ).status,
    ).toBe(400);
    const old = await signWebhook(secret, "e3", report, Math.floor(Date.now() / 1000) - 3600);
    expect((await call(statusPath, { method: "POST", headers: { "content-type": "application/json", ...old }, body: report })).status).toBe(403);
  });
});

/** A body of `total` bytes in 1 KiB chunks, made only as it is read; `pulled` counts the bytes handed out. */
function countedBody(total: number) {
  const chunk = new Uint8Array(1024).fill(0x61); // "a"
  const stats = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (stats.pulled >= total) return ctl.close();
      stats.pulled += chunk.byteLength;
      ctl.enqueue(chunk);
    },
  });
  return { stream, stats };
}

const HUGE = 95 * 1024 * 1024;

describe("provider webhook body limits", () => {
  const routes = [
    ["/v1/webhooks/twilio/status?callId=call_0190a1b2c3d4e5f60718293a_0&attempt=1", "application/x-www-form-urlencoded", 16],
    ["/v1/webhooks/twilio/recording?callId=call_0190a1b2c3d4e5f60718293a_0&attempt=1", "application/x-www-form-urlencoded", 16],
    ["/v1/webhooks/dial/status?callId=call_0190a1b2c3d4e5f60718293a_0", "application/json", 8],
  ] as const;

  it.each(routes)("refuses %s over its limit from Content-Length alone, before reading a byte or checking the signature", async (path, type, kib) => {
    const { stream, stats } = countedBody(HUGE);
    const res = await call(path, {
      method: "POST",
      headers: { "content-type": type, "content-length": String(HUGE), "x-twilio-signature": "bm9wZQ==", "webhook-signature": "v1,bm9wZQ==" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: "payload_too_large", error: expect.stringContaining(`${kib} KiB`) });
    // Unread: no more than the sender's first chunk ever left it.
    expect(stats.pulled).toBeLessThan(kib * 1024);
  });

  it.each(routes)("stops reading %s at its limit when no Content-Length says how big it is", async (path, type, kib) => {
    const { stream, stats } = countedBody(HUGE);
    const req = new Request(`http://batch.test${path}`, {
      method: "POST",
      headers: { "content-type": type, "x-twilio-signature": "bm9wZQ==" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(req.headers.get("content-length")).toBeNull();
    const res = await call(path, { method: "POST", headers: req.headers, body: req.body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: "payload_too_large", error: expect.stringContaining(`${kib} KiB`) });
    // Read up to the limit and a little buffering, never the 95 MiB.
    expect(stats.pulled).toBeGreaterThan(kib * 1024);
    expect(stats.pulled).toBeLessThan(64 * 1024);
  });

  it("applies a signed report just under the limit", async () => {
    const { batchId } = await activeTwilioCall();
    const res = await twilioStatus(batchId, 0, 1, { CallStatus: "completed", CallDuration: "5", Padding: "x".repeat(15 * 1024) });
    expect(res.status).toBe(204);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", duration: 5 });
  });

  it("in development, drains an over-limit body before its 413 (wrangler dev's proxy breaks on a body cancelled part-way)", async () => {
    const { stream, stats } = countedBody(256 * 1024);
    const res = await callWithEnv({ ...env, ENVIRONMENT: "development" }, "/v1/webhooks/dial/status?callId=call_0190a1b2c3d4e5f60718293a_0", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(stats.pulled).toBe(256 * 1024);
  });

  it("answers a body that breaks off mid-read with a 400, not a 500", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode('{"callId":'));
        ctl.error(new Error("connection reset"));
      },
    });
    const res = await callWithEnv(env, "/v1/webhooks/dial/status?callId=call_0190a1b2c3d4e5f60718293a_0", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: broken,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "bad_request", error: "The status report could not be read to its end; send it again." });
  });
});

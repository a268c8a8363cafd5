import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RESULT_LIMITS } from "../../src/domain/agent-result";
import { signWebhook } from "../../src/lib/signing";
import { webhookClock } from "../../src/routes/webhooks";
import { RESULT_BODY_MAX_BYTES } from "../../src/services/agent-results";
import { applyCallEvent } from "../../src/services/call-events";
import { callRow, claimAt, dispatched, ledgerQuery } from "../engine-helpers";
import { authHeaders, call, callWithEnv, failingDb, json, newWebhookWorkspace, type TestWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

type HookWorkspace = TestWorkspace & { secret: string };

const REFUSED = "The webhook signature does not match this request.";
const DAY_MS = 86_400_000;

const PEOPLE =
  "phone_number,first_name,last_name,email,timezone,plan,notes\n" +
  "+12125551001,Ada,Lovelace,ada@example.com,America/New_York,gold, likes  spaces \n" +
  "+12125551011,Alan,Turing,,,silver,\n";

const callIdOf = (batchId: string, seq: number) => `call_${batchId.slice(6)}_${seq}`;

/** A webhook agent's batch of PEOPLE with call 0 on its first attempt (claimed and placed on the object's clock). */
async function liveCall(ws?: HookWorkspace, fields: Record<string, string> = {}) {
  const owner = ws ?? (await newWebhookWorkspace());
  const { batchId, due } = await dispatched(owner, PEOPLE, fields);
  await claimAt(batchId, 0, 1, due + 10);
  return { ws: owner, batchId, due, callId: callIdOf(batchId, 0) };
}

/** A second webhook agent in the same workspace, with its own secret. */
async function otherAgentSecret(ws: TestWorkspace): Promise<string> {
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Other", provider: "webhook", dialUrl: "https://other.example.com/dial" }),
  });
  expect(res.status).toBe(201);
  return (await json(res)).signingSecret;
}

async function readContext(secret: string | null, callId: string, ts?: number) {
  const headers = secret ? await signWebhook(secret, `msg_${crypto.randomUUID()}`, "", ts) : {};
  return call(`/v1/agent/calls/${encodeURIComponent(callId)}`, { headers });
}

async function postResult(secret: string | null, callId: string, body: unknown, init: { headers?: Record<string, string> } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const signed = secret ? await signWebhook(secret, `msg_${crypto.randomUUID()}`, raw) : {};
  return call(`/v1/agent/calls/${encodeURIComponent(callId)}/result`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signed, ...init.headers },
    body: raw,
  });
}

const results = (batchId: string) => ledgerQuery(batchId, "SELECT * FROM results");

/** Every transcript kept in R2 for one call (named by content, so listed by the call's prefix). */
async function transcriptKeys(batchId: string, callId: string): Promise<string[]> {
  return (await env.CSV_BUCKET.list({ prefix: `transcripts/${batchId}/${callId}/` })).objects.map((o) => o.key);
}

describe("GET /v1/agent/calls/{callId}", () => {
  it("gives the agent its call: number, attempt, batch, the row's variables verbatim and its time zone", async () => {
    const { ws, batchId, callId } = await liveCall(undefined, { name: "Spring renewals" });
    const res = await readContext(ws.secret, callId);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      callId,
      batchId,
      batchName: "Spring renewals",
      agentId: ws.agentId,
      attempt: 1,
      status: "active",
      to: "+12125551001",
      from: null,
      variables: { first_name: "Ada", last_name: "Lovelace", email: "ada@example.com", plan: "gold", notes: " likes  spaces " },
      timezone: "America/New_York",
    });
  });

  it("serves an agent of any provider: a simulated agent signs with the secret it was created with", async () => {
    const ws = await newWebhookWorkspace();
    const created = await call("/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ name: "Sim", provider: "simulated" }),
    });
    const sim = await json(created);
    expect(sim.signingSecret).toMatch(/^whsec_/);
    const { batchId, callId } = await liveCall({ ...ws, agentId: sim.agentId, secret: sim.signingSecret });
    const res = await readContext(sim.signingSecret, callId);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ callId, batchId, agentId: sim.agentId });
    expect((await readContext(ws.secret, callId)).status).toBe(403);
  });

  it("gives empty cells as empty strings and a missing time zone as null", async () => {
    const { ws, batchId } = await liveCall();
    const res = await readContext(ws.secret, callIdOf(batchId, 1));
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ attempt: 0, status: "waiting", to: "+12125551011", timezone: null, batchName: null });
    expect(body.variables).toEqual({ first_name: "Alan", last_name: "Turing", email: "", plan: "silver", notes: "" });
  });

  it("refuses every request not signed by the batch's agent with the same 403: unsigned, wrong secret, another agent, another workspace, unknown call", async () => {
    const { ws, batchId, callId } = await liveCall();
    const stranger = await newWebhookWorkspace();
    const answers = [
      await readContext(null, callId),
      await readContext("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", callId),
      await readContext(await otherAgentSecret(ws), callId),
      await readContext(stranger.secret, callId),
      await readContext(ws.secret, callId, Math.floor(Date.now() / 1000) - 3600),
      await readContext(ws.secret, callIdOf(batchId, 99)),
      await readContext(ws.secret, "call_ffffffffffffffffffffffff_0"),
      await readContext(ws.secret, "not-a-call"),
    ];
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect((await json(res)).error).toBe(REFUSED);
    }
  });
});

describe("POST /v1/agent/calls/{callId}/result", () => {
  it("records a signed result, and a replay of it changes nothing", async () => {
    const { ws, batchId, callId } = await liveCall();
    const report = { attempt: 1, disposition: "booked", summary: "Booked a demo for Tuesday.", sentiment: "positive", data: { plan: "gold", seats: 12 } };
    const first = await postResult(ws.secret, callId, report);
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ callId, attempt: 1, recorded: true, changed: true, callback: "none" });
    const again = await postResult(ws.secret, callId, report);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ callId, attempt: 1, recorded: true, changed: false, callback: "none" });
    const [stored] = await results(batchId);
    expect(stored).toMatchObject({ seq: 0, attempt: 1, disposition: "booked", summary: "Booked a demo for Tuesday.", sentiment: "positive" });
    expect(JSON.parse(stored!.data)).toEqual({ plan: "gold", seats: 12 });
  });

  it("keeps the transcript in R2 under the batch, call and attempt, and points the result at it", async () => {
    const { ws, batchId, callId } = await liveCall();
    const turns = [
      { role: "agent", text: "Hi Ada, this is Sam from Acme." },
      { role: "user", text: "Hi Sam.", at: 1250 },
    ];
    const res = await postResult(ws.secret, callId, { attempt: 1, transcript: turns });
    expect(res.status).toBe(200);
    const [key, ...more] = await transcriptKeys(batchId, callId);
    expect(more).toEqual([]);
    expect(key).toMatch(new RegExp(`^transcripts/${batchId}/${callId}/1-[0-9a-f]{16}\\.json$`));
    const object = await env.CSV_BUCKET.get(key!);
    expect(object).not.toBeNull();
    expect(JSON.parse(await object!.text())).toEqual({ callId, attempt: 1, turns });
    expect((await results(batchId))[0]?.transcript_key).toBe(key);
  });

  it("refuses a result that is not sent as JSON with a 415, before its signature is looked at", async () => {
    const { ws, batchId, callId } = await liveCall();
    const body = JSON.stringify({ attempt: 1, disposition: "booked" });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", null]) {
      const signed = await signWebhook(ws.secret, `msg_${crypto.randomUUID()}`, body);
      const res = await call(`/v1/agent/calls/${callId}/result`, { method: "POST", headers: { ...signed, ...(type ? { "content-type": type } : {}) }, body });
      expect(res.status, String(type)).toBe(415);
      expect((await json(res)).code).toBe("unsupported_media_type");
    }
    expect(await results(batchId)).toEqual([]);
  });

  it("a later report the batch refuses never replaces the transcript a recorded result points at", async () => {
    const owner = await newWebhookWorkspace();
    const patched = await call(`/v1/api/agents/${owner.agentId}`, {
      method: "PATCH",
      headers: { ...authHeaders(owner), "content-type": "application/json" },
      body: JSON.stringify({ resultSchema: { dispositions: ["booked"] } }),
    });
    expect(patched.status).toBe(200);
    const { batchId, callId } = await liveCall(owner);
    const first = [{ role: "agent", text: "Hi Ada" }];
    expect((await postResult(owner.secret, callId, { attempt: 1, disposition: "booked", transcript: first })).status).toBe(200);
    const refused = await postResult(owner.secret, callId, { attempt: 1, disposition: "maybe", transcript: [{ role: "agent", text: "other" }] });
    expect(refused.status).toBe(400);
    const stored = (await results(batchId))[0]?.transcript_key as string;
    expect(JSON.parse(await (await env.CSV_BUCKET.get(stored))!.text()).turns).toEqual(first);
  });

  it("refuses an unsigned, wrongly signed, another agent's or another workspace's result with the same 403, and the call is unchanged", async () => {
    const { ws, batchId, callId } = await liveCall();
    const stranger = await newWebhookWorkspace();
    const before = await callRow(batchId, 0);
    const report = { attempt: 1, disposition: "booked", optOut: true, transcript: [{ role: "user", text: "forged" }] };
    const answers = [
      await postResult(null, callId, report),
      await postResult("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", callId, report),
      await postResult(await otherAgentSecret(ws), callId, report),
      await postResult(stranger.secret, callId, report),
      await postResult(stranger.secret, "call_ffffffffffffffffffffffff_0", report),
    ];
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect((await json(res)).error).toBe(REFUSED);
    }
    expect(await callRow(batchId, 0)).toEqual(before);
    expect(await results(batchId)).toEqual([]);
    expect(await transcriptKeys(batchId, callId)).toEqual([]);
  });

  it("reads no D1 once the isolate knows the batch's agent: a report and a context read go to the batch's object alone", async () => {
    const { ws, callId } = await liveCall();
    expect((await postResult(ws.secret, callId, { attempt: 1, disposition: "first" })).status).toBe(200);
    const noD1 = { ...env, DB: failingDb(env.DB, () => true) };
    const raw = JSON.stringify({ attempt: 1, disposition: "second" });
    const signed = await signWebhook(ws.secret, "msg_no_d1", raw);
    const res = await callWithEnv(noD1, `/v1/agent/calls/${callId}/result`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signed },
      body: raw,
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true });
    const context = await callWithEnv(noD1, `/v1/agent/calls/${callId}`, { headers: await signWebhook(ws.secret, "msg_no_d1_get", "") });
    expect(context.status).toBe(200);
  });

  it("takes a secret rotated a moment ago, though the isolate remembers the old one", async () => {
    const { ws, callId } = await liveCall();
    expect((await postResult(ws.secret, callId, { attempt: 1, disposition: "first" })).status).toBe(200);
    const rotated = await call(`/v1/api/agents/${ws.agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) });
    expect(rotated.status).toBe(200);
    const res = await postResult((await json(rotated)).signingSecret, callId, { attempt: 1, disposition: "second" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true });
  });

  it("says which field is over which limit (400) and records nothing", async () => {
    const { ws, batchId, callId } = await liveCall();
    const tooMany = Object.fromEntries(Array.from({ length: RESULT_LIMITS.dataFields + 1 }, (_, i) => [`f${i}`, i]));
    const bigTranscript = [{ role: "user", text: "x".repeat(RESULT_LIMITS.transcriptBytes) }];
    const cases: [unknown, RegExp][] = [
      [{ attempt: 1, summary: "é".repeat(RESULT_LIMITS.summaryBytes) }, /summary.*4096 bytes/],
      [{ attempt: 1, data: tooMany }, /data.*at most 50 fields/],
      [{ attempt: 1, data: { note: "y".repeat(RESULT_LIMITS.dataValueBytes + 1) } }, /data\.note.*1024 bytes/],
      [{ attempt: 1, transcript: bigTranscript }, /transcript.*262144 bytes/],
      [{ attempt: 1, disposition: "d".repeat(RESULT_LIMITS.dispositionChars + 1) }, /disposition.*64 characters/],
      [{ attempt: 1, sentiment: "ecstatic" }, /sentiment/],
      [{ attempt: 1, recordingUrl: "http://insecure.example.com/r.mp3" }, /recordingUrl/],
      [{ disposition: "booked" }, /attempt/],
      [{ attempt: 1, mood: "good" }, /mood/],
      ["{not json", /JSON/],
      ["[]", /object|expected/i],
    ];
    for (const [body, pattern] of cases) {
      const res = await postResult(ws.secret, callId, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((await json(res)).error).toMatch(pattern);
    }
    expect(await results(batchId)).toEqual([]);
    expect(await transcriptKeys(batchId, callId)).toEqual([]);
  });

  it("refuses a callbackAt in the past, without a zone, unparseable or more than 30 days ahead", async () => {
    const { ws, batchId, callId } = await liveCall();
    const now = Date.parse("2030-03-01T12:00:00Z");
    vi.spyOn(webhookClock, "now").mockReturnValue(now);
    const at = (ms: number) => new Date(ms).toISOString();
    const cases: [string, RegExp][] = [
      [at(now - 3_600_000), /callbackAt.*in the past/],
      ["2030-03-02T17:00:00", /callbackAt.*no time zone/],
      ["tomorrow at five", /callbackAt.*not an ISO 8601/],
      ["2030-02-30T17:00:00Z", /callbackAt.*not an ISO 8601/],
      [at(now + 31 * DAY_MS), /callbackAt.*more than 30 days ahead/],
    ];
    for (const [callbackAt, pattern] of cases) {
      const raw = JSON.stringify({ attempt: 1, callbackAt });
      const headers = await signWebhook(ws.secret, `msg_${crypto.randomUUID()}`, raw, Math.floor(now / 1000));
      const res = await call(`/v1/agent/calls/${callId}/result`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: raw });
      expect(res.status, callbackAt).toBe(400);
      expect((await json(res)).error).toMatch(pattern);
    }
    expect(await results(batchId)).toEqual([]);
  });

  it("a report sent again after its callbackAt has passed is a replay (200, changed false), not an error", async () => {
    const { ws, callId } = await liveCall();
    const now = Date.parse("2030-03-01T12:00:00Z");
    const clock = vi.spyOn(webhookClock, "now").mockReturnValue(now);
    const raw = JSON.stringify({ attempt: 1, disposition: "callback", callbackAt: new Date(now + 3_600_000).toISOString() });
    const send = async (at: number) => {
      const headers = await signWebhook(ws.secret, `msg_${crypto.randomUUID()}`, raw, Math.floor(at / 1000));
      return call(`/v1/agent/calls/${callId}/result`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: raw });
    };
    expect((await send(now)).status).toBe(200);
    clock.mockReturnValue(now + 2 * 3_600_000);
    const again = await send(now + 2 * 3_600_000);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ recorded: true, changed: false });
    // A different callbackAt in the past is still refused.
    const moved = JSON.stringify({ attempt: 1, callbackAt: new Date(now + 1_800_000).toISOString() });
    const headers = await signWebhook(ws.secret, `msg_${crypto.randomUUID()}`, moved, Math.floor((now + 2 * 3_600_000) / 1000));
    const refused = await call(`/v1/agent/calls/${callId}/result`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: moved,
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toMatch(/callbackAt.*in the past/);
  });

  it("refuses a body over the cap with 413 before the signature is looked at, declared or streamed", async () => {
    const { callId } = await liveCall();
    const declared = await call(`/v1/agent/calls/${callId}/result`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(RESULT_BODY_MAX_BYTES + 1) },
      body: "x".repeat(RESULT_BODY_MAX_BYTES + 1),
    });
    expect(declared.status).toBe(413);
    expect((await json(declared)).code).toBe("payload_too_large");
    const big = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += big.byteLength;
        if (sent > 2 * RESULT_BODY_MAX_BYTES) controller.close();
        else controller.enqueue(big);
      },
    });
    const res = await call(`/v1/agent/calls/${callId}/result`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("answers 409 with a sentence for an attempt the call has not reached, and the one 403 for a call the batch does not have", async () => {
    const { ws, batchId, callId } = await liveCall();
    const notYet = await postResult(ws.secret, callId, { attempt: 3, disposition: "booked", transcript: [{ role: "user", text: "hi" }] });
    expect(notYet.status).toBe(409);
    expect((await json(notYet)).error).toBe(`Attempt 3 of ${callId} has not been dialled; it has made 1 attempt.`);
    expect(await transcriptKeys(batchId, callId)).toEqual([]);
    const unknown = await postResult(ws.secret, callIdOf(batchId, 99), { attempt: 1, transcript: [{ role: "user", text: "hi" }] });
    expect(unknown.status).toBe(403);
    expect((await json(unknown)).error).toBe(REFUSED);
    expect(await transcriptKeys(batchId, callIdOf(batchId, 99))).toEqual([]);
    expect(await results(batchId)).toEqual([]);
  });
});

describe("odd results, correctly signed", () => {
  it("get a 4xx with the contract's error body, never a 5xx, and record nothing", async () => {
    const { ws, batchId, callId } = await liveCall();
    const odd = [
      "",
      "{",
      "null",
      "[]",
      '"text"',
      "1e999",
      "[".repeat(50_000) + "]".repeat(50_000),
      '{"__proto__":{"attempt":1},"constructor":{"prototype":{}}}',
      '{"attempt":1e400}',
      '{"attempt":1.5}',
      '{"attempt":"1"}',
      '{"attempt":1,"summary":"\ud800","disposition":"\u0000"}',
      JSON.stringify({ attempt: 1, data: { nested: { a: 1 } } }),
      JSON.stringify({ attempt: 1, data: [] }),
      JSON.stringify({ attempt: 1, transcript: [null, 1, "x"] }),
      JSON.stringify({ attempt: 1, transcript: [{ role: "robot", text: "hi" }] }),
      JSON.stringify({ attempt: 1, transcript: "hello" }),
      JSON.stringify({ attempt: 1, callbackAt: 1_800_000_000_000 }),
      JSON.stringify({ attempt: 1, callbackAt: "+275760-09-13T00:00:00Z" }),
      JSON.stringify({ attempt: 1, callbackAt: "2030-01-01T25:61:00+99:99" }),
      JSON.stringify({ attempt: 1, recordingUrl: "javascript:alert(1)" }),
      JSON.stringify({ attempt: 1, recordingUrl: "https://[::ffff:127.0.0.1]/r.mp3" }),
      JSON.stringify({ attempt: 1, optOut: "yes" }),
      JSON.stringify({ attempt: 1, disposition: "x".repeat(100_000) }),
    ];
    for (const raw of odd) {
      const res = await postResult(ws.secret, callId, raw);
      const body = await res.text();
      expect(res.status, raw.slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(res.status, raw.slice(0, 60)).toBeLessThan(500);
      const error = JSON.parse(body);
      expect(Object.keys(error).sort(), raw.slice(0, 60)).toEqual(["code", "error", "requestId"]);
      expect(body.length).toBeLessThan(16 * 1024);
    }
    expect(await results(batchId)).toEqual([]);
  });

  it("refuses a data field named __proto__ (a record would drop it unseen) and keeps one named constructor", async () => {
    const { ws, batchId, callId } = await liveCall();
    const proto = await postResult(ws.secret, callId, '{"attempt":1,"data":{"__proto__":"x","constructor":1}}');
    expect(proto.status).toBe(400);
    expect((await json(proto)).error).toMatch(/data\.__proto__/);
    const res = await postResult(ws.secret, callId, '{"attempt":1,"data":{"constructor":1,"toString":"x"}}');
    expect(res.status).toBe(200);
    const [stored] = await results(batchId);
    expect(JSON.parse(stored!.data)).toEqual({ constructor: 1, toString: "x" });
  });
});

describe("what the answer says about a requested callback", () => {
  it("pending while the attempt is on, scheduled at callbackAt once it is over, ignored with a note after an opt-out", async () => {
    const { ws, batchId, due, callId } = await liveCall();
    const callbackAt = new Date(Date.now() + 2 * DAY_MS).toISOString();
    const pending = await postResult(ws.secret, callId, { attempt: 1, callbackAt });
    expect(await json(pending)).toEqual({ callId, attempt: 1, recorded: true, changed: true, callback: "pending" });

    await claimAt(batchId, 1, 1, due + 20);
    await applyCallEvent(env, { kind: "final", batchId, seq: 1, attempt: 1, outcome: "answered", at: due + 100, durationSec: 30 });
    const later = await postResult(ws.secret, callIdOf(batchId, 1), { attempt: 1, callbackAt });
    expect(await json(later)).toEqual({
      callId: callIdOf(batchId, 1),
      attempt: 1,
      recorded: true,
      changed: true,
      callback: "scheduled",
      nextAttemptAt: callbackAt,
    });

    const optedOut = await postResult(ws.secret, callId, { attempt: 1, optOut: true, callbackAt: new Date(Date.now() + DAY_MS).toISOString() });
    const body = await json(optedOut);
    expect(body).toMatchObject({ changed: true, callback: "ignored" });
    expect(body.callbackNote).toMatch(/opted out/);
  });
});

describe("a signed result, end to end", () => {
  it("shows on the call in GET /v1/api/batch-calls/{batchId}/calls, transcript as a link", async () => {
    const { ws, batchId, callId } = await liveCall();
    const report = {
      attempt: 1,
      disposition: "booked",
      summary: "Booked for Tuesday.",
      sentiment: "positive",
      data: { seats: 12 },
      transcript: [{ role: "agent", text: "Hi Ada." }],
    };
    expect((await postResult(ws.secret, callId, report)).status).toBe(200);
    const res = await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    const item = (await json(res)).calls.find((c: { jobId: string }) => c.jobId === callId);
    expect(item.result).toMatchObject({ attempt: 1, disposition: "booked", summary: "Booked for Tuesday.", sentiment: "positive", data: { seats: 12 } });
    expect(item.result.transcriptUrl).toContain(`/v1/api/batch-calls/${batchId}/calls/${callId}/transcript`);
  });
});

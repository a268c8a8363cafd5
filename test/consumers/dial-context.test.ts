import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyWebhook } from "../../src/lib/signing";
import { consume, dispatched } from "../engine-helpers";
import { authHeaders, bodyText, call, freshFromNumber, json, newWebhookWorkspace, newWorkspace, type TestWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

/** Stubs outbound fetch (a dialer, or Twilio) and keeps every request it is sent. */
function outbound(answer: () => Response) {
  const sent: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(new Request(input, init));
    return answer();
  });
  return sent;
}

/** A workspace whose agent dials through Twilio, created with `agent` (voiceUrl, record…). */
async function twilioWorkspace(agent: Record<string, unknown>): Promise<TestWorkspace> {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Twilio", provider: "twilio", fromNumber: freshFromNumber(), ...agent }),
  });
  expect(res.status).toBe(201);
  return { ...ws, agentId: (await json(res)).agentId };
}

const PEOPLE = "phone_number,first_name,last_name,email,timezone,plan\n+12125551001,Ada,Lovelace,ada@example.com,America/New_York,gold\n";

describe("the context a dial gives the agent", () => {
  it("a webhook dial carries the row's custom columns and first_name, last_name and email, signed", async () => {
    const ws = await newWebhookWorkspace();
    const { batchId, jobs } = await dispatched(ws, PEOPLE);
    const sent = outbound(() => new Response(null, { status: 200 }));
    await consume(jobs);
    expect(sent).toHaveLength(1);
    const raw = await bodyText(sent[0]!);
    expect(await verifyWebhook(ws.secret, sent[0]!.headers, raw, Date.now())).toBe(true);
    const callId = `call_${batchId.slice(6)}_0`;
    expect(JSON.parse(raw)).toEqual({
      callId,
      attempt: 1,
      to: "+12125551001",
      from: null,
      agentId: ws.agentId,
      variables: { first_name: "Ada", last_name: "Lovelace", email: "ada@example.com", plan: "gold" },
      statusUrl: `https://calls.example.test/v1/webhooks/dial/status?callId=${callId}`,
    });
  });

  it("a Twilio dial asks for the agent's voiceUrl with the call and the attempt added to its query, and records nothing unasked", async () => {
    const ws = await twilioWorkspace({ voiceUrl: "https://agent.example.test/voice?lang=en" });
    const { batchId, jobs } = await dispatched(ws, PEOPLE);
    const sent = outbound(() => new Response(JSON.stringify({ sid: "CA1" }), { status: 201 }));
    await consume(jobs);
    const form = new URLSearchParams(await bodyText(sent[0]!));
    expect(form.get("Url")).toBe(`https://agent.example.test/voice?lang=en&callId=call_${batchId.slice(6)}_0&attempt=1`);
    expect(form.has("Record")).toBe(false);
    expect(form.has("RecordingStatusCallback")).toBe(false);
  });

  it("a recording agent's Twilio dial asks Twilio to record, and to report the finished recording for this attempt", async () => {
    const ws = await twilioWorkspace({ voiceUrl: "https://agent.example.test/voice", record: true });
    const { batchId, jobs } = await dispatched(ws, PEOPLE);
    const sent = outbound(() => new Response(JSON.stringify({ sid: "CA1" }), { status: 201 }));
    await consume(jobs);
    const callId = `call_${batchId.slice(6)}_0`;
    expect(Object.fromEntries(new URLSearchParams(await bodyText(sent[0]!)))).toMatchObject({
      Url: `https://agent.example.test/voice?callId=${callId}&attempt=1`,
      Record: "true",
      RecordingStatusCallback: `https://calls.example.test/v1/webhooks/twilio/recording?callId=${callId}&attempt=1`,
      RecordingStatusCallbackEvent: "completed",
      RecordingStatusCallbackMethod: "POST",
      MachineDetection: "Enable",
    });
  });
});

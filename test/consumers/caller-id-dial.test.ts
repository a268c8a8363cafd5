import { afterEach, describe, expect, it, vi } from "vitest";
import { authHeaders, bodyText, call, json, newWorkspace } from "../helpers";
import { consume, dispatched, ledgerQuery, phoneList } from "../engine-helpers";

const POOL = ["+14155550101", "+14155550102", "+14155550103"];

afterEach(() => {
  vi.restoreAllMocks();
});

/** Records every outbound request's body (Twilio's form, or a webhook agent's JSON) and answers as `answer` does. */
function outbound(answer: () => Response) {
  const bodies: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    bodies.push(await bodyText(new Request(input, init)));
    return answer();
  });
  return bodies;
}

/** A number belongs to one workspace: each test's workspace gets its own pool. */
async function agentWith(ws: { workspaceId: string; apiKey: string }, body: Record<string, unknown>, pool = POOL): Promise<string> {
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Pool", fromNumbers: pool, callerId: { strategy: "round_robin", perNumber: { callsPerSecond: 1 } }, ...body }),
  });
  const created = await json(res);
  expect(res.status, JSON.stringify(created)).toBe(201);
  return created.agentId;
}

describe("the caller ID a pool gives each dial", () => {
  it("is Twilio's From, a different number for each call in one second, and the attempt's history keeps it", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const agentId = await agentWith(ws, { provider: "twilio", voiceUrl: "https://agent.example.test/voice" });
    const { batchId, jobs } = await dispatched({ ...ws, agentId }, phoneList(3), { agentId });
    const bodies = outbound(() => new Response(JSON.stringify({ sid: `CA${crypto.randomUUID().replace(/-/g, "")}` }), { status: 201 }));
    await consume(jobs);
    const froms = bodies.map((b) => new URLSearchParams(b).get("From"));
    expect([...froms].sort()).toEqual(POOL);
    const rows = await ledgerQuery(batchId, "SELECT dial_from FROM calls ORDER BY seq");
    expect(rows.map((r) => r.dial_from).sort()).toEqual(POOL);
  });

  it("is the webhook agent's dial payload `from`", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const pool = ["+16175550101", "+16175550102"];
    const agentId = await agentWith(ws, { provider: "webhook", dialUrl: "https://agent.example.test/dial" }, pool);
    const { jobs } = await dispatched({ ...ws, agentId }, phoneList(2), { agentId });
    const bodies = outbound(() => new Response(JSON.stringify({ accepted: true }), { status: 200 }));
    await consume(jobs);
    const froms = bodies.filter((b) => b.startsWith("{")).map((b) => JSON.parse(b).from);
    expect(froms).toHaveLength(2);
    expect([...froms].sort()).toEqual(pool);
  });
});

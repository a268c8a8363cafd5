import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchConfig } from "../../src/durable/batch/contract";
import { decryptSecret } from "../../src/lib/crypto";
import { authHeaders, call, json, newWorkspace, type TestWorkspace, upload } from "../helpers";

const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;

/** A valid US number no other workspace of this run holds: a number calls for one workspace only, and the tests share D1. */
const FROM_BASE = 2_000_000 + Math.floor(Math.random() * 5_000_000);
let fromSeq = 0;
const freshNumber = () => `+1415${FROM_BASE + fromSeq++}`;

function postAgent(ws: TestWorkspace, body: unknown) {
  return call("/v1/api/agents", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify(body) });
}

function rotate(ws: TestWorkspace, agentId: string) {
  return call(`/v1/api/agents/${agentId}/rotate-secret`, { method: "POST", headers: authHeaders(ws) });
}

async function webhookAgent(ws: TestWorkspace) {
  const res = await postAgent(ws, { name: "Hook", provider: "webhook", dialUrl: "https://dialer.example.com/dial" });
  expect(res.status).toBe(201);
  return json(res);
}

async function storedKeys(agentId: string) {
  return env.DB.prepare("SELECT signing_secret_enc, previous_secret_enc, previous_secret_expires_at FROM agents WHERE id = ?1")
    .bind(agentId)
    .first<{ signing_secret_enc: string | null; previous_secret_enc: string | null; previous_secret_expires_at: string | null }>();
}

describe("webhook agents' signing secrets", () => {
  it("are returned once at creation, as whsec_ + 32 bytes, and stored only encrypted", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    expect(agent.signingSecret).toMatch(WHSEC);
    expect(atob(agent.signingSecret.slice(6))).toHaveLength(32);
    const stored = await storedKeys(agent.agentId);
    expect(stored!.signing_secret_enc).not.toContain(agent.signingSecret.slice(6));
    expect(await decryptSecret(stored!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(agent.signingSecret);
    expect(stored!.previous_secret_enc).toBeNull();
    // two agents never share one
    expect((await webhookAgent(ws)).signingSecret).not.toBe(agent.signingSecret);
  });

  it("are never shown by GET, in one agent or the list", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    const one = await call(`/v1/api/agents/${agent.agentId}`, { headers: authHeaders(ws) });
    const list = await call("/v1/api/agents", { headers: authHeaders(ws) });
    for (const res of [one, list]) {
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain("whsec_");
      expect(text).not.toContain(agent.signingSecret.slice(6));
      expect(text).not.toMatch(/secret/i);
    }
  });

  it("belong to every agent, whatever its provider, and rotate the same way", async () => {
    const ws = await newWorkspace();
    const sim = await json(await postAgent(ws, { name: "S", provider: "simulated" }));
    const twilio = await json(await postAgent(ws, { name: "T", provider: "twilio", fromNumber: freshNumber(), voiceUrl: "https://voice.example.com/twiml" }));
    for (const agent of [sim, twilio]) {
      expect(agent.signingSecret).toMatch(WHSEC);
      expect(await decryptSecret((await storedKeys(agent.agentId))!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(agent.signingSecret);
      const res = await rotate(ws, agent.agentId);
      expect(res.status).toBe(200);
      const rotated = await json(res);
      expect(rotated).toEqual({ agentId: agent.agentId, signingSecret: expect.stringMatching(WHSEC), previousSecretExpiresAt: expect.any(String) });
      const stored = await storedKeys(agent.agentId);
      expect(await decryptSecret(stored!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(rotated.signingSecret);
      expect(await decryptSecret(stored!.previous_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(agent.signingSecret);
    }
    expect(sim.signingSecret).not.toBe(twilio.signingSecret);
  });
});

describe("POST /v1/api/agents/{agentId}/rotate-secret", () => {
  it("returns a new secret and keeps the old one, encrypted, for 24 hours", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    const before = Date.now();
    const res = await rotate(ws, agent.agentId);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({ agentId: agent.agentId, signingSecret: expect.stringMatching(WHSEC), previousSecretExpiresAt: expect.any(String) });
    expect(body.signingSecret).not.toBe(agent.signingSecret);
    const expires = Date.parse(body.previousSecretExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 24 * 3_600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    const stored = await storedKeys(agent.agentId);
    expect(await decryptSecret(stored!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(body.signingSecret);
    expect(await decryptSecret(stored!.previous_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(agent.signingSecret);
    expect(stored!.previous_secret_expires_at).toBe(body.previousSecretExpiresAt);
    // GET still shows no secret after a rotation
    expect(await (await call(`/v1/api/agents/${agent.agentId}`, { headers: authHeaders(ws) })).text()).not.toContain("whsec_");
  });

  it("a second rotation keeps only the secret it replaces", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    const first = await json(await rotate(ws, agent.agentId));
    const second = await json(await rotate(ws, agent.agentId));
    const stored = await storedKeys(agent.agentId);
    expect(await decryptSecret(stored!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(second.signingSecret);
    expect(await decryptSecret(stored!.previous_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(first.signingSecret);
  });

  it("gives an agent of any provider that had no secret its first one, with nothing to keep", async () => {
    const ws = await newWorkspace();
    const hook = await webhookAgent(ws);
    // as agents created before per-agent secrets existed (webhook), or before every agent had one (the others)
    for (const agentId of [hook.agentId, ws.agentId]) {
      await env.DB.prepare("UPDATE agents SET signing_secret_enc = NULL WHERE id = ?1").bind(agentId).run();
      const body = await json(await rotate(ws, agentId));
      expect(body).toMatchObject({ signingSecret: expect.stringMatching(WHSEC), previousSecretExpiresAt: null });
      const stored = await storedKeys(agentId);
      expect(stored).toMatchObject({ previous_secret_enc: null, previous_secret_expires_at: null });
      expect(await decryptSecret(stored!.signing_secret_enc!, env.SECRETS_ENCRYPTION_KEY)).toBe(body.signingSecret);
    }
  });

  it("is 404 for another workspace's agent, an unknown agent and a deleted one, and changes nothing", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const agent = await webhookAgent(ws);
    const before = await storedKeys(agent.agentId);
    const cross = await rotate(other, agent.agentId);
    expect(cross.status).toBe(404);
    expect(await json(cross)).toMatchObject({ code: "agent_not_found" });
    expect((await rotate(ws, "agent_nope")).status).toBe(404);
    expect(await storedKeys(agent.agentId)).toEqual(before);
    expect((await call(`/v1/api/agents/${agent.agentId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    expect((await rotate(ws, agent.agentId)).status).toBe(404);
    expect(await storedKeys(agent.agentId)).toEqual(before);
  });

  it("needs the workspace's key", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    expect((await call(`/v1/api/agents/${agent.agentId}/rotate-secret`, { method: "POST" })).status).toBe(401);
  });
});

describe("URL policy on agents", () => {
  const refused: [string, Record<string, string>, string][] = [
    ["http dialUrl", { dialUrl: "http://dialer.example.com/dial" }, "dialUrl must use https."],
    ["credentials in dialUrl", { dialUrl: "https://user:pw@dialer.example.com/dial" }, "dialUrl must not carry credentials"],
    ["localhost dialUrl", { dialUrl: "https://localhost:8443/dial" }, "dialUrl points at a loopback, private, link-local or metadata address (localhost)"],
    ["loopback IP", { dialUrl: "https://127.0.0.1/dial" }, "(127.0.0.1)"],
    ["private IP", { dialUrl: "https://10.1.2.3/dial" }, "(10.1.2.3)"],
    ["metadata IP", { dialUrl: "https://169.254.169.254/latest/meta-data" }, "(169.254.169.254)"],
    ["IPv6 loopback", { dialUrl: "https://[::1]/dial" }, "(::1)"],
    ["decimal IP", { dialUrl: "https://2130706433/dial" }, "(127.0.0.1)"],
    ["internal name", { dialUrl: "https://metadata.google.internal/x" }, "(metadata.google.internal)"],
  ];
  for (const [name, urls, message] of refused) {
    it(`refuses a webhook agent with ${name}`, async () => {
      const ws = await newWorkspace();
      const res = await postAgent(ws, { name: "Hook", provider: "webhook", ...urls });
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(message) });
      expect((await json(await call("/v1/api/agents", { headers: authHeaders(ws) }))).agents).toHaveLength(1); // the helper's simulated agent only
    });
  }

  it("applies to a twilio agent's voiceUrl, and to a dialUrl sent to an agent of another provider", async () => {
    const ws = await newWorkspace();
    const voice = await postAgent(ws, { name: "T", provider: "twilio", fromNumber: "+14155550100", voiceUrl: "https://192.168.1.10/twiml" });
    expect(voice.status).toBe(400);
    expect(await json(voice)).toMatchObject({ error: expect.stringContaining("voiceUrl points at a loopback") });
    const plainHttp = await postAgent(ws, { name: "T", provider: "twilio", fromNumber: "+14155550100", voiceUrl: "http://voice.example.com/twiml" });
    expect(await json(plainHttp)).toMatchObject({ error: "voiceUrl must use https." });
    const stray = await postAgent(ws, { name: "S", provider: "simulated", dialUrl: "https://10.0.0.1/dial" });
    expect(stray.status).toBe(400);
  });

  it("accepts public https URLs", async () => {
    const ws = await newWorkspace();
    const hook = await postAgent(ws, { name: "Hook", provider: "webhook", dialUrl: "https://dialer.example.com:8443/v1/dial?tenant=7" });
    expect(hook.status).toBe(201);
    expect(await json(hook)).toMatchObject({ dialUrl: "https://dialer.example.com:8443/v1/dial?tenant=7" });
    const twilio = await postAgent(ws, { name: "T", provider: "twilio", fromNumber: freshNumber(), voiceUrl: "https://8.8.8.8/twiml" });
    expect(twilio.status).toBe(201);
  });
});

describe("OpenAPI", () => {
  it("documents the secret shown once and the rotate-secret route", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const create = doc.paths["/v1/api/agents"].post;
    expect(create.responses["201"].description).toContain("shown only here");
    const created = JSON.stringify(doc.components.schemas.CreatedAgent);
    expect(created).toContain('"signingSecret"');
    expect(created).toContain("Shown only in this response");
    expect(JSON.stringify(doc.components.schemas.CreatedAgent)).toMatch(/"required":\[[^\]]*"signingSecret"/);
    expect(doc.components.schemas.Agent.properties).not.toHaveProperty("signingSecret");
    const rotation = doc.paths["/v1/api/agents/{agentId}/rotate-secret"].post;
    expect(rotation.description).toContain("24 hours");
    expect(Object.keys(rotation.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404"]));
    expect(doc.components.schemas.CreateAgent.properties.dialUrl.description).toContain("https only");
    expect(JSON.stringify(doc)).not.toContain("DIAL_WEBHOOK_SECRET");
  });
});

const DECLARED = {
  dispositions: ["booked", "not_interested"],
  fields: [
    { name: "slot", type: "string" },
    { name: "plan", type: "enum", values: ["basic", "pro"] },
  ],
};

function patchAgent(ws: TestWorkspace, agentId: string, body: unknown) {
  return call(`/v1/api/agents/${agentId}`, {
    method: "PATCH",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const getAgent = async (ws: TestWorkspace, agentId: string) => json(await call(`/v1/api/agents/${agentId}`, { headers: authHeaders(ws) }));

async function twilioAgent(ws: TestWorkspace, extra: Record<string, unknown> = {}) {
  const res = await postAgent(ws, { name: "T", provider: "twilio", fromNumber: freshNumber(), voiceUrl: "https://voice.example.com/twiml", ...extra });
  expect(res.status).toBe(201);
  return json(res);
}

async function storedSettings(agentId: string) {
  return env.DB.prepare("SELECT result_schema, record FROM agents WHERE id = ?1").bind(agentId).first<{ result_schema: string | null; record: number }>();
}

describe("an agent's declared results and recording", () => {
  it("are none and false unless given, and shown by GET and the list", async () => {
    const ws = await newWorkspace();
    expect(await getAgent(ws, ws.agentId)).toMatchObject({ resultSchema: null, record: false });
    const agent = await json(await postAgent(ws, { name: "Sim", provider: "simulated", resultSchema: DECLARED }));
    expect(agent).toMatchObject({ resultSchema: DECLARED, record: false });
    expect(await getAgent(ws, agent.agentId)).toMatchObject({ resultSchema: DECLARED, record: false });
    const list = await json(await call("/v1/api/agents", { headers: authHeaders(ws) }));
    expect(list.agents.find((a: { agentId: string }) => a.agentId === agent.agentId)).toMatchObject({ resultSchema: DECLARED });
    expect(JSON.parse((await storedSettings(agent.agentId))!.result_schema!)).toEqual(DECLARED);
  });

  it("record: a twilio agent may record its calls", async () => {
    const ws = await newWorkspace();
    const agent = await twilioAgent(ws, { record: true });
    expect(agent).toMatchObject({ record: true, resultSchema: null });
    expect((await storedSettings(agent.agentId))!.record).toBe(1);
    expect((await twilioAgent(ws, { record: false })).record).toBe(false);
  });

  it.each([
    ["simulated", { provider: "simulated" }],
    ["webhook", { provider: "webhook", dialUrl: "https://dialer.example.com/dial" }],
  ])("record: true on a %s agent is a 400 that says only twilio agents record", async (provider, body) => {
    const ws = await newWorkspace();
    const res = await postAgent(ws, { name: "X", ...body, record: true });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      code: "validation_failed",
      error: expect.stringContaining(`record: only twilio agents can record calls (this agent's provider is ${provider})`),
    });
    expect((await postAgent(ws, { name: "X", ...body, record: false })).status).toBe(201);
  });

  it.each([
    ["an enum without values", { fields: [{ name: "plan", type: "enum" }] }, "resultSchema.fields.0.values: an enum field needs its values"],
    ["an unknown field type", { fields: [{ name: "when", type: "date" }] }, "resultSchema: fields.0.type: Invalid option"],
    ["repeated dispositions", { dispositions: ["a", "a"] }, "resultSchema.dispositions: dispositions must not repeat"],
    ["an empty disposition list", { dispositions: [] }, "resultSchema.dispositions"],
    ["a 65-character field name", { fields: [{ name: "x".repeat(65), type: "string" }] }, "at most 64 characters"],
    ["an unknown key", { disposition: ["a"] }, "resultSchema: Unrecognized key"],
    ["a list instead of an object", ["booked"], "resultSchema: must be an object ({dispositions?, fields?}) or null"],
  ])("a resultSchema with %s is a 400 naming what to fix, and creates nothing", async (_name, resultSchema, words) => {
    const ws = await newWorkspace();
    const res = await postAgent(ws, { name: "Sim", provider: "simulated", resultSchema });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(words), requestId: expect.any(String) });
    expect((await json(await call("/v1/api/agents", { headers: authHeaders(ws) }))).agents).toHaveLength(1);
  });
});

describe("PATCH /v1/api/agents/{agentId}", () => {
  it("changes only what is sent, and answers with the agent as it now is", async () => {
    const ws = await newWorkspace();
    const agent = await twilioAgent(ws);
    const res = await patchAgent(ws, agent.agentId, { name: "Renamed", resultSchema: DECLARED, record: true });
    expect(res.status).toBe(200);
    const changed = await json(res);
    expect(changed).toEqual({ ...agent, signingSecret: undefined, name: "Renamed", resultSchema: DECLARED, record: true });
    expect(changed).not.toHaveProperty("signingSecret");
    expect(await getAgent(ws, agent.agentId)).toEqual(changed);
    const moved = await json(
      await patchAgent(ws, agent.agentId, { fromNumber: "(415) 555-0199", voiceUrl: "https://voice2.example.com/twiml", dialUrl: "https://d.example.com/x" }),
    );
    expect(moved).toMatchObject({
      name: "Renamed",
      fromNumber: "+14155550199",
      fromNumbers: ["+14155550199"],
      voiceUrl: "https://voice2.example.com/twiml",
      dialUrl: "https://d.example.com/x",
      resultSchema: DECLARED,
      record: true,
    });
  });

  it("clears the declaration with null, and the URLs a provider does not need", async () => {
    const ws = await newWorkspace();
    const agent = await json(await postAgent(ws, { name: "S", provider: "simulated", resultSchema: DECLARED, voiceUrl: "https://v.example.com/x" }));
    const cleared = await json(await patchAgent(ws, agent.agentId, { resultSchema: null, voiceUrl: null, fromNumber: null }));
    expect(cleared).toMatchObject({ resultSchema: null, voiceUrl: null, fromNumber: null, fromNumbers: [] });
    expect((await storedSettings(agent.agentId))!.result_schema).toBeNull();
  });

  it("keeps the signing secret", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    const before = await storedKeys(agent.agentId);
    expect((await patchAgent(ws, agent.agentId, { name: "Hook 2", dialUrl: "https://dialer2.example.com/dial" })).status).toBe(200);
    expect(await storedKeys(agent.agentId)).toEqual(before);
  });

  const TWILIO_NEEDS = "provider: a twilio agent needs a number to call from (fromNumber, or fromNumbers for a pool) and voiceUrl";
  const refused: [string, (ws: TestWorkspace) => Promise<string>, unknown, string][] = [
    ["provider, even the same one", (ws) => Promise.resolve(ws.agentId), { provider: "simulated" }, "provider cannot change; create a new agent"],
    ["provider with other changes", (ws) => Promise.resolve(ws.agentId), { name: "N", provider: "twilio" }, "provider cannot change"],
    [
      "an unknown field",
      (ws) => Promise.resolve(ws.agentId),
      { colour: "red" },
      "unknown field colour; a change may name name, fromNumber, fromNumbers, callerId",
    ],
    ["nothing to change", (ws) => Promise.resolve(ws.agentId), {}, "The request changes nothing"],
    ["an empty name", (ws) => Promise.resolve(ws.agentId), { name: "  " }, "name"],
    ["an invalid fromNumber", (ws) => Promise.resolve(ws.agentId), { fromNumber: "12" }, "fromNumber: must be a valid phone number"],
    ["record on a simulated agent", (ws) => Promise.resolve(ws.agentId), { record: true }, "record: only twilio agents can record calls"],
    ["record as text", (ws) => Promise.resolve(ws.agentId), { record: "yes" }, "record"],
    ["a bad resultSchema", (ws) => Promise.resolve(ws.agentId), { resultSchema: { fields: [{ name: "p", type: "enum" }] } }, "needs its values"],
    ["an http dialUrl", (ws) => webhookAgent(ws).then((a) => a.agentId), { dialUrl: "http://dialer.example.com/dial" }, "dialUrl must use https."],
    ["a private dialUrl", (ws) => webhookAgent(ws).then((a) => a.agentId), { dialUrl: "https://10.0.0.1/dial" }, "dialUrl points at a loopback"],
    ["a metadata voiceUrl", (ws) => twilioAgent(ws).then((a) => a.agentId), { voiceUrl: "https://169.254.169.254/x" }, "voiceUrl points at a loopback"],
    ["clearing a webhook agent's dialUrl", (ws) => webhookAgent(ws).then((a) => a.agentId), { dialUrl: null }, "dialUrl: a webhook agent needs dialUrl"],
    ["clearing a twilio agent's voiceUrl", (ws) => twilioAgent(ws).then((a) => a.agentId), { voiceUrl: null }, TWILIO_NEEDS],
    ["clearing a twilio agent's fromNumber", (ws) => twilioAgent(ws).then((a) => a.agentId), { fromNumber: null }, TWILIO_NEEDS],
    ["emptying a twilio agent's pool", (ws) => twilioAgent(ws).then((a) => a.agentId), { fromNumbers: [] }, TWILIO_NEEDS],
  ];
  it.each(refused)("refuses %s with a 400 that says what to fix, and changes nothing", async (_name, agentOf, body, words) => {
    const ws = await newWorkspace();
    const agentId = await agentOf(ws);
    const before = await getAgent(ws, agentId);
    const res = await patchAgent(ws, agentId, body);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(words), requestId: expect.any(String) });
    expect(await getAgent(ws, agentId)).toEqual(before);
  });

  it("is 404 for another workspace's agent, an unknown one and a deleted one, and changes nothing", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const cross = await patchAgent(other, ws.agentId, { name: "Taken" });
    expect(cross.status).toBe(404);
    expect(await json(cross)).toMatchObject({ code: "agent_not_found", error: expect.stringContaining(ws.agentId) });
    expect((await getAgent(ws, ws.agentId)).name).toBe("Sim");
    expect((await patchAgent(ws, "agent_nope", { name: "X" })).status).toBe(404);
    expect((await call(`/v1/api/agents/${ws.agentId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    expect((await patchAgent(ws, ws.agentId, { name: "X" })).status).toBe(404);
    const row = await env.DB.prepare("SELECT name FROM agents WHERE id = ?1").bind(ws.agentId).first<{ name: string }>();
    expect(row!.name).toBe("Sim");
  });

  it("needs the workspace's key, and a JSON body", async () => {
    const ws = await newWorkspace();
    const noKey = await call(`/v1/api/agents/${ws.agentId}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: '{"name":"X"}' });
    expect(noKey.status).toBe(401);
    const notJson = await call(`/v1/api/agents/${ws.agentId}`, {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: "{name",
    });
    expect(notJson.status).toBe(400);
    expect((await getAgent(ws, ws.agentId)).name).toBe("Sim");
  });
});

describe("a batch and its agent's later changes", () => {
  it("keeps the agent as it was when the batch was created: its declaration and recording", async () => {
    const ws = await newWorkspace();
    const agent = await twilioAgent(ws, { resultSchema: DECLARED, record: true });
    const { batchId } = await json(await upload({ ...ws, agentId: agent.agentId }, "phone_number\n+12125550100\n"));
    expect(await patchAgent(ws, agent.agentId, { resultSchema: { dispositions: ["other"] }, record: false }).then((r) => r.status)).toBe(200);
    const config = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.get<BatchConfig>("config"));
    expect(config!.agent).toMatchObject({ id: agent.agentId, provider: "twilio", result_schema: DECLARED, record: true });
  });

  it("of an agent with no declaration, snapshots null and false", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, "phone_number\n+12125550100\n"));
    const config = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.get<BatchConfig>("config"));
    expect(config!.agent).toMatchObject({ id: ws.agentId, result_schema: null, record: false });
  });
});

describe("OpenAPI for results and changes", () => {
  it("documents PATCH, resultSchema, record, and that a batch keeps its agent's declaration", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const patch = doc.paths["/v1/api/agents/{agentId}"].patch;
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404"]));
    expect(patch.description).toContain("a batch keeps its agent as it was when the batch was created");
    expect(patch.description).toContain("running batches dial from the new pool");
    expect(patch.description).toContain("`provider` cannot change");
    expect(doc.components.schemas.UpdateAgent.additionalProperties).toBe(false);
    expect(Object.keys(doc.components.schemas.UpdateAgent.properties).sort()).toEqual([
      "callerId",
      "dialUrl",
      "fromNumber",
      "fromNumbers",
      "name",
      "record",
      "resultSchema",
      "voiceUrl",
    ]);
    expect(doc.components.schemas.Agent.required).toEqual(expect.arrayContaining(["resultSchema", "record"]));
    expect(doc.components.schemas.CreateAgent.properties.record.description).toContain("twilio only");
    expect(doc.components.schemas.ResultSchema.properties.fields).toBeDefined();
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decryptSecret } from "../../src/lib/crypto";
import { authHeaders, call, json, newWorkspace, type TestWorkspace } from "../helpers";

const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;

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

  it("belong to webhook agents only", async () => {
    const ws = await newWorkspace();
    const sim = await json(await postAgent(ws, { name: "S", provider: "simulated" }));
    const twilio = await json(await postAgent(ws, { name: "T", provider: "twilio", fromNumber: "+14155550100", voiceUrl: "https://voice.example.com/twiml" }));
    expect(sim).not.toHaveProperty("signingSecret");
    expect(twilio).not.toHaveProperty("signingSecret");
    for (const id of [sim.agentId, twilio.agentId]) {
      const res = await rotate(ws, id);
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ code: "bad_request", error: expect.stringContaining("only webhook agents have a signing secret") });
      expect((await storedKeys(id))!.signing_secret_enc).toBeNull();
    }
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

  it("gives a webhook agent that had no secret its first one, with nothing to keep", async () => {
    const ws = await newWorkspace();
    const agent = await webhookAgent(ws);
    // as an agent created before per-agent secrets existed
    await env.DB.prepare("UPDATE agents SET signing_secret_enc = NULL WHERE id = ?1").bind(agent.agentId).run();
    const body = await json(await rotate(ws, agent.agentId));
    expect(body).toMatchObject({ signingSecret: expect.stringMatching(WHSEC), previousSecretExpiresAt: null });
    expect(await storedKeys(agent.agentId)).toMatchObject({ previous_secret_enc: null, previous_secret_expires_at: null });
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
    const twilio = await postAgent(ws, { name: "T", provider: "twilio", fromNumber: "+14155550100", voiceUrl: "https://8.8.8.8/twiml" });
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
    expect(doc.components.schemas.Agent.properties).not.toHaveProperty("signingSecret");
    const rotation = doc.paths["/v1/api/agents/{agentId}/rotate-secret"].post;
    expect(rotation.description).toContain("24 hours");
    expect(Object.keys(rotation.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404"]));
    expect(doc.components.schemas.CreateAgent.properties.dialUrl.description).toContain("https only");
    expect(JSON.stringify(doc)).not.toContain("DIAL_WEBHOOK_SECRET");
  });
});

import { describe, expect, it } from "vitest";
import { ADMIN, authHeaders, call, json, newWorkspace, upload } from "../helpers";

describe("workspace API auth", () => {
  it("401 without x-api-key", async () => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/batch-calls", { headers: { "x-workspace-id": ws.workspaceId } });
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ code: "unauthorized", error: expect.stringContaining("x-api-key") });
  });

  it("400 without x-workspace-id", async () => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/batch-calls", { headers: { "x-api-key": ws.apiKey } });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "missing_workspace" });
  });

  it.each([
    ["malformed", "nonsense"],
    ["unknown id", "bck_0000000000000000_abcdefghijklmnopqrstuvwxyz012345"],
  ])("401 for a %s key", async (_n, key) => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/agents", { headers: { "x-api-key": key, "x-workspace-id": ws.workspaceId } });
    expect(res.status).toBe(401);
  });

  it("401 for a known key id with the wrong secret", async () => {
    const ws = await newWorkspace();
    const forged = ws.apiKey.slice(0, -4) + (ws.apiKey.endsWith("aaaa") ? "bbbb" : "aaaa");
    const res = await call("/v1/api/agents", { headers: { "x-api-key": forged, "x-workspace-id": ws.workspaceId } });
    expect(res.status).toBe(401);
  });

  it("403 for a valid key sent with another workspace's id", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    const res = await call("/v1/api/agents", { headers: { "x-api-key": a.apiKey, "x-workspace-id": b.workspaceId } });
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: "forbidden" });
  });

  it("401 once a key is revoked; other keys keep working", async () => {
    const ws = await newWorkspace();
    const second = await json(await call(`/v1/admin/workspaces/${ws.workspaceId}/api-keys`, { method: "POST", headers: ADMIN }));
    expect(second.apiKey).toMatch(/^bck_/);
    const revoke = () => call(`/v1/admin/workspaces/${ws.workspaceId}/api-keys/${ws.keyId}`, { method: "DELETE", headers: ADMIN });
    expect((await revoke()).status).toBe(200);
    expect((await revoke()).status).toBe(200);
    expect((await call("/v1/api/agents", { headers: authHeaders(ws) })).status).toBe(401);
    expect((await call("/v1/api/agents", { headers: { ...authHeaders(ws), "x-api-key": second.apiKey } })).status).toBe(200);
  });

  it("404, not 403, for another workspace's batch, agent and calls", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    const { batchId } = await json(await upload(a, "phone_number\n+12125550101\n"));
    for (const path of [`/v1/api/batch-calls/${batchId}`, `/v1/api/batch-calls/${batchId}/status`, `/v1/api/batch-calls/${batchId}/calls`, `/v1/api/agents/${a.agentId}`]) {
      const res = await call(path, { headers: authHeaders(b) });
      expect(res.status, path).toBe(404);
    }
    expect((await json(await call("/v1/api/batch-calls", { headers: authHeaders(b) }))).batches).toEqual([]);
    expect((await call(`/v1/api/agents/${a.agentId}`, { method: "DELETE", headers: authHeaders(b) })).status).toBe(404);
    expect((await call(`/v1/api/agents/${a.agentId}`, { headers: authHeaders(a) })).status).toBe(200);
  });
});

describe("admin routes", () => {
  it("401 without the admin token, 404 for unknown workspaces", async () => {
    const res = await call("/v1/admin/workspaces", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(401);
    const wrong = await call("/v1/admin/workspaces", { method: "POST", body: "{}", headers: { authorization: "Bearer nope", "content-type": "application/json" } });
    expect(wrong.status).toBe(401);
    expect((await call("/v1/admin/workspaces/ws_missing/api-keys", { method: "POST", headers: ADMIN })).status).toBe(404);
  });

  it("creates a workspace with default limits and a whsec_ secret, shown once and stored encrypted", async () => {
    const res = await call("/v1/admin/workspaces", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ name: "Acme" }),
    });
    expect(res.status).toBe(201);
    const ws = await json(res);
    expect(ws).toMatchObject({
      workspaceId: expect.stringMatching(/^ws_/),
      apiKey: expect.stringMatching(/^bck_[0-9a-f]{16}_[A-Za-z0-9]{43}$/),
      webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 },
    });
    const { env } = await import("cloudflare:workers");
    const row = await env.DB.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(ws.workspaceId).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(ws.webhookSecret.slice(6));
    const key = await env.DB.prepare("SELECT * FROM api_keys WHERE workspace_id = ?1").bind(ws.workspaceId).first<Record<string, string>>();
    expect(JSON.stringify(key)).not.toContain(ws.apiKey.split("_")[2]);
  });

  it("patches limits and webhook, and validates them", async () => {
    const ws = await newWorkspace();
    const patch = (body: unknown) =>
      call(`/v1/admin/workspaces/${ws.workspaceId}`, { method: "PATCH", headers: { ...ADMIN, "content-type": "application/json" }, body: JSON.stringify(body) });
    const res = await patch({ rateLimits: { callsPerSecond: 5 }, webhookUrl: "https://example.com/hook" });
    expect(await json(res)).toMatchObject({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 }, webhookUrl: "https://example.com/hook" });
    expect((await patch({ rateLimits: { callsPerSecond: 0 } })).status).toBe(400);
    expect((await patch({ webhookUrl: "ftp://x" })).status).toBe(400);
    expect(await json(await patch({ webhookUrl: null }))).toMatchObject({ webhookUrl: null });
    expect((await call("/v1/admin/workspaces/ws_nope", { method: "PATCH", headers: { ...ADMIN, "content-type": "application/json" }, body: "{}" })).status).toBe(404);
  });
});

describe("agents", () => {
  it("validates provider requirements", async () => {
    const ws = await newWorkspace();
    const post = (body: unknown) =>
      call("/v1/api/agents", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ name: "T", provider: "twilio" })).status).toBe(400);
    expect((await post({ name: "W", provider: "webhook" })).status).toBe(400);
    expect((await post({ name: "X", provider: "carrier-pigeon" })).status).toBe(400);
    const bad = await post({ name: "T", provider: "twilio", fromNumber: "123", voiceUrl: "https://example.com/twiml" });
    expect(await json(bad)).toMatchObject({ code: "validation_failed", error: expect.stringContaining("fromNumber") });
    const ok = await post({ name: "T", provider: "twilio", fromNumber: "(415) 555-0100", voiceUrl: "https://example.com/twiml" });
    expect(await json(ok)).toMatchObject({ provider: "twilio", fromNumber: "+14155550100" });
    const notJson = await call("/v1/api/agents", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
  });

  it("a deleted agent cannot start batches", async () => {
    const ws = await newWorkspace();
    expect((await call(`/v1/api/agents/${ws.agentId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    expect((await upload(ws, "phone_number\n+12125550101\n")).status).toBe(404);
    expect((await json(await call("/v1/api/agents", { headers: authHeaders(ws) }))).agents).toEqual([]);
  });
});

describe("JSON routes", () => {
  it("refuse a JSON body sent without a JSON content type", async () => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/agents", { method: "POST", headers: { ...authHeaders(ws), "content-type": "text/plain" }, body: JSON.stringify({ name: "A", provider: "simulated" }) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await json(res)).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
  });
});

describe("admin routes without ADMIN_TOKEN", () => {
  it("answer 404, as if they did not exist", async () => {
    const { env } = await import("cloudflare:workers");
    const { callWithEnv } = await import("../helpers");
    const res = await callWithEnv({ ...env, ADMIN_TOKEN: "" }, "/v1/admin/workspaces", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found" });
  });
});

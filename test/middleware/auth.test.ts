import { describe, expect, it } from "vitest";
import { ADMIN, authHeaders, call, csvForm, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

// The contract's sentences, one per refusal: a client reads them to know what to fix.
const NO_KEY = "Send your API key in the x-api-key header.";
const NO_WORKSPACE = "Send your workspace id in the x-workspace-id header.";
const BAD_KEY = "The API key is unknown or has been revoked.";
const OTHER_WORKSPACE = "This API key was issued for another workspace than x-workspace-id.";
const NO_ADMIN = "Send Authorization: Bearer <ADMIN_TOKEN>.";
/** The route-by-case matrices send a few hundred requests: seconds alone, more on a busy machine. */
const MATRIX_TIMEOUT = 60_000;

/** The contract's error body and nothing else: exact status, code and sentence, and the request's id (also in x-request-id). */
async function expectError(res: Response, status: number, code: string, error: string, where = "") {
  expect(res.status, where).toBe(status);
  expect(res.headers.get("content-type"), where).toMatch(/^application\/json/);
  const body = await json(res);
  expect(body, where).toEqual({ error, code, requestId: expect.stringMatching(/^req_[0-9a-f]{16}$/) });
  expect(res.headers.get("x-request-id"), where).toBe(body.requestId);
}

type DocumentedRoute = { method: string; template: string; security: string[]; jsonBody: boolean; statuses: string[] };

/** Every route of the OpenAPI document, with its security schemes: a new route is covered without editing this file. */
async function documentedRoutes(): Promise<DocumentedRoute[]> {
  const doc = await json(await call("/v1/openapi.json"));
  const routes: DocumentedRoute[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "patch", "put", "delete"].includes(method)) continue;
      const security = (op.security ?? doc.security ?? []).flatMap((s: Record<string, unknown>) => Object.keys(s));
      const jsonBody = Boolean(op.requestBody?.content?.["application/json"]);
      routes.push({ method: method.toUpperCase(), template, security, jsonBody, statuses: Object.keys(op.responses ?? {}) });
    }
  }
  return routes;
}

/** The route's path with each parameter naming something of `ws` (so only auth can refuse it). */
function pathFor(template: string, ws: TestWorkspace & { batchId: string }): string {
  const values: Record<string, string> = {
    workspaceId: ws.workspaceId,
    agentId: ws.agentId,
    batchId: ws.batchId,
    callId: `call_${ws.batchId.slice(6)}_0`,
    keyId: ws.keyId,
    e164: encodeURIComponent("+12125550100"),
  };
  return template.replace(/\{(\w+)\}/g, (_, p: string) => {
    if (!(p in values)) throw new Error(`no fixture for path parameter ${p}: add one`);
    return values[p]!;
  });
}

const JSON_ONLY = "This route takes a JSON body: send it with the header Content-Type: application/json.";

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
    await expectError(res, 401, "unauthorized", BAD_KEY);
  });

  it("401 for a known key id with the wrong secret", async () => {
    const ws = await newWorkspace();
    const forged = ws.apiKey.slice(0, -4) + (ws.apiKey.endsWith("aaaa") ? "bbbb" : "aaaa");
    const res = await call("/v1/api/agents", { headers: { "x-api-key": forged, "x-workspace-id": ws.workspaceId } });
    expect(res.status).toBe(401);
    await expectError(res, 401, "unauthorized", BAD_KEY);
  });

  it("403 for a valid key sent with another workspace's id", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    const res = await call("/v1/api/agents", { headers: { "x-api-key": a.apiKey, "x-workspace-id": b.workspaceId } });
    expect(res.status).toBe(403);
    expect(await json(res.clone())).toMatchObject({ code: "forbidden" });
    await expectError(res, 403, "forbidden", OTHER_WORKSPACE);
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
    for (const path of [
      `/v1/api/batch-calls/${batchId}`,
      `/v1/api/batch-calls/${batchId}/status`,
      `/v1/api/batch-calls/${batchId}/calls`,
      `/v1/api/batch-calls/${batchId}/test-calls`,
      `/v1/api/agents/${a.agentId}`,
    ]) {
      const res = await call(path, { headers: authHeaders(b) });
      expect(res.status, path).toBe(404);
    }
    const testCall = await call(`/v1/api/batch-calls/${batchId}/test-call`, {
      method: "POST",
      headers: { ...authHeaders(b), "content-type": "application/json" },
      body: JSON.stringify({ to: "+14155550100" }),
    });
    expect(testCall.status).toBe(404);
    const rows = await call(`/v1/api/batch-calls/${batchId}/rows`, { method: "POST", headers: authHeaders(b), body: csvForm("phone_number\n+12125550102\n") });
    expect(rows.status).toBe(404);
    expect((await json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(a) }))).totalCalls).toBe(1);
    expect((await json(await call("/v1/api/batch-calls", { headers: authHeaders(b) }))).batches).toEqual([]);
    expect((await call(`/v1/api/agents/${a.agentId}`, { method: "DELETE", headers: authHeaders(b) })).status).toBe(404);
    expect((await call(`/v1/api/agents/${a.agentId}`, { headers: authHeaders(a) })).status).toBe(200);
  });
});

describe("admin routes", () => {
  it("401 without the admin token, 404 for unknown workspaces", async () => {
    const res = await call("/v1/admin/workspaces", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(401);
    const wrong = await call("/v1/admin/workspaces", {
      method: "POST",
      body: "{}",
      headers: { authorization: "Bearer nope", "content-type": "application/json" },
    });
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
      call(`/v1/admin/workspaces/${ws.workspaceId}`, {
        method: "PATCH",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const res = await patch({ rateLimits: { callsPerSecond: 5 }, webhookUrl: "https://example.com/hook" });
    expect(await json(res)).toMatchObject({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 }, webhookUrl: "https://example.com/hook" });
    expect((await patch({ rateLimits: { callsPerSecond: 0 } })).status).toBe(400);
    expect((await patch({ webhookUrl: "ftp://x" })).status).toBe(400);
    expect(await json(await patch({ webhookUrl: null }))).toMatchObject({ webhookUrl: null });
    expect(
      (await call("/v1/admin/workspaces/ws_nope", { method: "PATCH", headers: { ...ADMIN, "content-type": "application/json" }, body: "{}" })).status,
    ).toBe(404);
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
    const res = await call("/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "text/plain" },
      body: JSON.stringify({ name: "A", provider: "simulated" }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await json(res.clone())).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
    await expectError(res, 415, "unsupported_media_type", JSON_ONLY);
    // refused, so nothing was created: the workspace still has only its simulated agent
    const agents = await json(await call("/v1/api/agents", { headers: authHeaders(ws) }));
    expect(agents.agents.map((a: { agentId: string }) => a.agentId)).toEqual([ws.agentId]);
  });

  it(
    "every documented route with a JSON body answers 415 to any other content type, and changes nothing",
    async () => {
      const ws = await newWorkspace();
      const { batchId } = await json(await upload(ws, "phone_number\n+12125550101\n"));
      const routes = (await documentedRoutes()).filter((r) => r.jsonBody && r.security.length > 0);
      // the key-authenticated and the operator routes that take JSON (provider webhooks check their signature first)
      expect(routes.map((r) => `${r.method} ${r.template}`).sort()).toEqual(
        expect.arrayContaining(["PATCH /v1/admin/workspaces/{workspaceId}", "POST /v1/admin/workspaces", "POST /v1/api/agents", "POST /v1/api/dnc"]),
      );
      const body = JSON.stringify({ name: "A", provider: "simulated", phoneNumbers: ["+12125550100"], rateLimits: { callsPerSecond: 3 } });
      for (const route of routes) {
        const auth = route.security.includes("adminBearer") ? ADMIN : authHeaders(ws);
        // "" sends the string body with the platform's default (text/plain;charset=UTF-8)
        for (const type of ["text/plain", "application/x-www-form-urlencoded", "text/csv", ""]) {
          const headers: Record<string, string> = { ...auth, ...(type ? { "content-type": type } : {}) };
          const res = await call(pathFor(route.template, { ...ws, batchId }), { method: route.method, headers, body });
          await expectError(res, 415, "unsupported_media_type", JSON_ONLY, `${route.method} ${route.template} [${type || "default"}]`);
        }
      }
      expect((await json(await call("/v1/api/agents", { headers: authHeaders(ws) }))).agents).toHaveLength(1);
      expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).phoneNumbers).toEqual([]);
      const admin = await json(await call(`/v1/admin/workspaces/${ws.workspaceId}`, { headers: ADMIN }));
      expect(admin.rateLimits).toEqual({ callsPerSecond: 1, maxConcurrentCalls: 10, reservedConcurrency: 0 });
    },
    MATRIX_TIMEOUT,
  );

  it(
    "every key-authenticated route refuses each bad credential with the contract's status, code and sentence",
    async () => {
      const [a, b, revoked] = await Promise.all([newWorkspace(), newWorkspace(), newWorkspace()]);
      const { batchId } = await json(await upload(a, "phone_number\n+12125550101\n"));
      // a revoked key: its workspace gets a second one, then the first is revoked
      expect((await call(`/v1/admin/workspaces/${revoked.workspaceId}/api-keys`, { method: "POST", headers: ADMIN })).status).toBe(201);
      expect((await call(`/v1/admin/workspaces/${revoked.workspaceId}/api-keys/${revoked.keyId}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
      const wrongSecret = a.apiKey.slice(0, -4) + (a.apiKey.endsWith("aaaa") ? "bbbb" : "aaaa");
      const cases: { label: string; headers: Record<string, string>; status: number; code: string; error: string }[] = [
        { label: "no key", headers: { "x-workspace-id": a.workspaceId }, status: 401, code: "unauthorized", error: NO_KEY },
        { label: "empty key", headers: { "x-api-key": "", "x-workspace-id": a.workspaceId }, status: 401, code: "unauthorized", error: NO_KEY },
        { label: "no key and no workspace (the key is checked first)", headers: {}, status: 401, code: "unauthorized", error: NO_KEY },
        { label: "no workspace", headers: { "x-api-key": a.apiKey }, status: 400, code: "missing_workspace", error: NO_WORKSPACE },
        { label: "malformed key", headers: { "x-api-key": "nonsense", "x-workspace-id": a.workspaceId }, status: 401, code: "unauthorized", error: BAD_KEY },
        {
          label: "unknown key id",
          headers: { "x-api-key": "bck_0000000000000000_abcdefghijklmnopqrstuvwxyz012345", "x-workspace-id": a.workspaceId },
          status: 401,
          code: "unauthorized",
          error: BAD_KEY,
        },
        { label: "wrong secret", headers: { "x-api-key": wrongSecret, "x-workspace-id": a.workspaceId }, status: 401, code: "unauthorized", error: BAD_KEY },
        { label: "revoked key", headers: authHeaders(revoked), status: 401, code: "unauthorized", error: BAD_KEY },
        {
          label: "another workspace's key",
          headers: { "x-api-key": b.apiKey, "x-workspace-id": a.workspaceId },
          status: 403,
          code: "forbidden",
          error: OTHER_WORKSPACE,
        },
        {
          label: "a bad key for another workspace (the key is checked first)",
          headers: { "x-api-key": wrongSecret, "x-workspace-id": b.workspaceId },
          status: 401,
          code: "unauthorized",
          error: BAD_KEY,
        },
      ];
      const routes = (await documentedRoutes()).filter((r) => r.security.includes("apiKey"));
      expect(routes.length).toBeGreaterThanOrEqual(19);
      for (const route of routes) {
        expect(route.template.startsWith("/v1/api/"), route.template).toBe(true);
        expect(route.security).toEqual(["apiKey", "workspaceId"]);
        // the document lists every refusal this route can answer
        expect(route.statuses, `${route.method} ${route.template}`).toEqual(expect.arrayContaining(["400", "401", "403"]));
        await Promise.all(
          cases.map(async (c) => {
            const res = await call(pathFor(route.template, { ...a, batchId }), { method: route.method, headers: c.headers });
            await expectError(res, c.status, c.code, c.error, `${route.method} ${route.template} [${c.label}]`);
          }),
        );
      }
      // nothing was done on the refused requests: a's agent and batch are still there
      expect((await call(`/v1/api/agents/${a.agentId}`, { headers: authHeaders(a) })).status).toBe(200);
      expect(await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(a) }))).toMatchObject({ status: "queued" });
    },
    MATRIX_TIMEOUT,
  );

  it(
    "every operator route refuses a missing or wrong admin token with 401 and the sentence saying what to send",
    async () => {
      const ws = await newWorkspace();
      const routes = (await documentedRoutes()).filter((r) => r.security.includes("adminBearer"));
      expect(routes.length).toBeGreaterThanOrEqual(8);
      const cases: [string, Record<string, string>][] = [
        ["no token", {}],
        ["wrong token", { authorization: "Bearer nope" }],
        ["the token without the Bearer scheme", { authorization: "test-admin-token" }],
        ["another scheme", { authorization: "Basic dGVzdC1hZG1pbi10b2tlbg==" }],
        ["an API key instead", authHeaders(ws)],
      ];
      for (const route of routes) {
        expect(route.template.startsWith("/v1/admin/"), route.template).toBe(true);
        expect(route.statuses, `${route.method} ${route.template}`).toContain("401");
        await Promise.all(
          cases.map(async ([label, headers]) => {
            const res = await call(pathFor(route.template, { ...ws, batchId: "batch_unused" }), { method: route.method, headers });
            await expectError(res, 401, "unauthorized", NO_ADMIN, `${route.method} ${route.template} [${label}]`);
          }),
        );
      }
      // the refused DELETE .../api-keys/{keyId} revoked nothing
      expect((await call("/v1/api/agents", { headers: authHeaders(ws) })).status).toBe(200);
    },
    MATRIX_TIMEOUT,
  );
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

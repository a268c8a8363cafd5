import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { workspaceEngineInfo } from "../../src/db/workspace.repo";
import { ADMIN, authHeaders, call, json } from "../helpers";

const FLORIDA = { maxAttempts: [{ count: 3, hours: 24 }] };
const STRICT = {
  maxAttempts: [
    { count: 2, hours: 24 },
    { count: 5, hours: 168 },
  ],
  minGapMinutes: 60,
};

const adminJson = (method: string, path: string, body?: unknown) =>
  call(path, { method, headers: { ...ADMIN, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
const adminRead = async (workspaceId: string) => json(await call(`/v1/admin/workspaces/${workspaceId}`, { headers: ADMIN }));
const stored = (workspaceId: string) =>
  env.DB.prepare("SELECT contact_policy FROM workspaces WHERE id = ?1").bind(workspaceId).first<string | null>("contact_policy");

type Keyed = { workspaceId: string; apiKey: string; keyId: string };

/** A fresh workspace made through the admin API (no agent: nothing here dials). */
async function newWorkspace(body: Record<string, unknown> = {}): Promise<Keyed> {
  const res = await adminJson("POST", "/v1/admin/workspaces", { name: "Contact policy", ...body });
  if (res.status !== 201) throw new Error(`workspace: ${res.status} ${await res.text()}`);
  return json(res);
}
const own = (ws: Keyed) => call("/v1/api/workspace", { headers: authHeaders(ws) });
const patchOwn = (ws: Keyed, body: unknown, raw?: string) =>
  call("/v1/api/workspace", {
    method: "PATCH",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: raw ?? JSON.stringify(body),
  });

/** The contract's 400: a sentence that names what to fix, and nothing stored. */
async function expect400(res: Response, ...mentions: string[]): Promise<string> {
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body).toMatchObject({ code: expect.any(String), requestId: expect.any(String), error: expect.stringMatching(/\.$/) });
  for (const m of mentions) expect(body.error).toContain(m);
  return body.error as string;
}

describe("contactPolicy on the admin API", () => {
  it("is accepted at creation, shown in every admin view, and stored as JSON", async () => {
    const res = await adminJson("POST", "/v1/admin/workspaces", { name: "Policy", contactPolicy: STRICT });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created.contactPolicy).toEqual(STRICT);
    expect(JSON.parse((await stored(created.workspaceId))!)).toEqual(STRICT);
    expect((await adminRead(created.workspaceId)).contactPolicy).toEqual(STRICT);
    // The list shows it too: find ours on the first page (newest first).
    const list = await json(await call("/v1/admin/workspaces?limit=100", { headers: ADMIN }));
    expect(list.workspaces.find((w: { workspaceId: string }) => w.workspaceId === created.workspaceId).contactPolicy).toEqual(STRICT);
  });

  it("shows null for a workspace created without one, or with an empty one (stored as NULL)", async () => {
    for (const extra of [{}, { contactPolicy: null }, { contactPolicy: {} }, { contactPolicy: { maxAttempts: [] } }]) {
      const created = await json(await adminJson("POST", "/v1/admin/workspaces", { name: "None", ...extra }));
      expect(created.contactPolicy, JSON.stringify(extra)).toBeNull();
      expect(await stored(created.workspaceId)).toBeNull();
      expect((await adminRead(created.workspaceId)).contactPolicy).toBeNull();
    }
  });

  it("PATCH sets, replaces whole, keeps it when absent, and clears it with null or an empty policy", async () => {
    const ws = await newWorkspace();
    const patch = (body: unknown) => adminJson("PATCH", `/v1/admin/workspaces/${ws.workspaceId}`, body);

    expect((await json(await patch({ contactPolicy: FLORIDA }))).contactPolicy).toEqual(FLORIDA);
    expect((await json(await patch({ contactPolicy: { minGapMinutes: 30 } }))).contactPolicy).toEqual({ maxAttempts: [], minGapMinutes: 30 });
    // A patch that leaves it out leaves it as it is.
    const renamed = await json(await patch({ name: "Renamed", rateLimits: { callsPerSecond: 3 } }));
    expect(renamed).toMatchObject({ name: "Renamed", contactPolicy: { maxAttempts: [], minGapMinutes: 30 } });
    expect((await adminRead(ws.workspaceId)).contactPolicy).toEqual({ maxAttempts: [], minGapMinutes: 30 });

    expect((await json(await patch({ contactPolicy: null }))).contactPolicy).toBeNull();
    expect(await stored(ws.workspaceId)).toBeNull();
    await patch({ contactPolicy: STRICT });
    expect((await json(await patch({ contactPolicy: { maxAttempts: [] } }))).contactPolicy).toBeNull();
    expect(await stored(ws.workspaceId)).toBeNull();
    expect((await adminRead(ws.workspaceId)).contactPolicy).toBeNull();
  });

  it.each([
    [{ maxAttempts: [{ count: 0, hours: 24 }] }, "contactPolicy.maxAttempts.0.count"],
    [{ maxAttempts: [{ count: 2, hours: 721 }] }, "contactPolicy.maxAttempts.0.hours"],
    [{ maxAttempts: [{ count: 2, hours: 24 }], perNumber: true }, "unknown field perNumber"],
    ["3 a day", "must be a policy such as"],
  ])("create and PATCH refuse %j with a sentence, and change nothing", async (contactPolicy, mention) => {
    const name = `refused ${crypto.randomUUID()}`;
    await expect400(await adminJson("POST", "/v1/admin/workspaces", { name, contactPolicy }), mention);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM workspaces WHERE name = ?1").bind(name).first<number>("n")).toBe(0);

    const ws = await newWorkspace({ contactPolicy: FLORIDA });
    await expect400(await adminJson("PATCH", `/v1/admin/workspaces/${ws.workspaceId}`, { contactPolicy }), mention);
    expect((await adminRead(ws.workspaceId)).contactPolicy).toEqual(FLORIDA);
  });
});

describe("GET /v1/api/workspace", () => {
  it("shows the key's workspace as the operator set it, never a secret", async () => {
    const created = await json(
      await adminJson("POST", "/v1/admin/workspaces", {
        name: "Own view",
        rateLimits: { callsPerSecond: 4, maxConcurrentCalls: 8 },
        webhookUrl: "https://hooks.example.com/own",
        timezone: "Europe/Paris",
        contactPolicy: FLORIDA,
      }),
    );
    const res = await own(created);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      workspaceId: created.workspaceId,
      name: "Own view",
      rateLimits: { callsPerSecond: 4, maxConcurrentCalls: 8, reservedConcurrency: 0 },
      webhookUrl: "https://hooks.example.com/own",
      timezone: "Europe/Paris",
      contactPolicy: FLORIDA,
      createdAt: created.createdAt,
    });
    const sealed = await env.DB.prepare("SELECT webhook_secret_enc FROM workspaces WHERE id = ?1")
      .bind(created.workspaceId)
      .first<string>("webhook_secret_enc");
    for (const secret of [created.apiKey.split("_")[2], created.webhookSecret.slice(6), sealed!]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/secret|hash|apiKey/i);
  });

  it("shows contactPolicy null when there is none", async () => {
    const ws = await newWorkspace();
    expect(await json(await own(ws))).toMatchObject({ workspaceId: ws.workspaceId, contactPolicy: null });
  });

  it("401 for a revoked key, 403 with another workspace's id", async () => {
    const [ws, other] = await Promise.all([newWorkspace(), newWorkspace()]);
    expect((await call(`/v1/admin/workspaces/${ws.workspaceId}/api-keys/${ws.keyId}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
    for (const res of [await own(ws), await patchOwn(ws, { contactPolicy: FLORIDA })]) {
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ code: "unauthorized", error: "The API key is unknown or has been revoked." });
    }
    expect(await stored(ws.workspaceId)).toBeNull();
    const forbidden = await call("/v1/api/workspace", { headers: { ...authHeaders(other), "x-workspace-id": ws.workspaceId } });
    expect(forbidden.status).toBe(403);
  });
});

describe("PATCH /v1/api/workspace", () => {
  it("sets, replaces and removes the policy; the admin view and the engine see each change", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 2, maxConcurrentCalls: 5 } });

    const set = await patchOwn(ws, { contactPolicy: STRICT });
    expect(set.status).toBe(200);
    expect(await json(set)).toMatchObject({ workspaceId: ws.workspaceId, rateLimits: { callsPerSecond: 2, maxConcurrentCalls: 5 }, contactPolicy: STRICT });
    expect((await adminRead(ws.workspaceId)).contactPolicy).toEqual(STRICT);
    expect((await workspaceEngineInfo(env.DB, ws.workspaceId))?.contactPolicy).toEqual(STRICT);
    // The same body again changes nothing.
    expect((await json(await patchOwn(ws, { contactPolicy: STRICT }))).contactPolicy).toEqual(STRICT);

    expect((await json(await patchOwn(ws, { contactPolicy: FLORIDA }))).contactPolicy).toEqual(FLORIDA);
    expect((await json(await own(ws))).contactPolicy).toEqual(FLORIDA);

    expect((await json(await patchOwn(ws, { contactPolicy: null }))).contactPolicy).toBeNull();
    expect(await stored(ws.workspaceId)).toBeNull();
    await patchOwn(ws, { contactPolicy: FLORIDA });
    expect((await json(await patchOwn(ws, { contactPolicy: { maxAttempts: [] } }))).contactPolicy).toBeNull();
    expect(await stored(ws.workspaceId)).toBeNull();
    expect((await workspaceEngineInfo(env.DB, ws.workspaceId))?.contactPolicy).toBeNull();
  });

  it.each([
    [{ rateLimits: { callsPerSecond: 100 } }, "rateLimits"],
    [{ webhookUrl: "https://hooks.example.com/mine" }, "webhookUrl"],
    [{ timezone: "Europe/London" }, "timezone"],
    [{ name: "Mine now" }, "name"],
    [{ contactPolicy: FLORIDA, rateLimits: { callsPerSecond: 100 } }, "rateLimits"],
  ])("refuses %j: the operator sets it through the admin API; nothing changes", async (body, field) => {
    const ws = await newWorkspace({ contactPolicy: STRICT });
    const before = await adminRead(ws.workspaceId);
    const error = await expect400(await patchOwn(ws, body), field, "set by the operator through the admin API");
    expect(error).toBe(
      `The request is invalid: ${field} cannot be changed with the workspace's key: rate limits, webhook and timezone are set by the operator ` +
        "through the admin API (PATCH /v1/admin/workspaces/{workspaceId}); this request takes only contactPolicy.",
    );
    expect(await adminRead(ws.workspaceId)).toEqual(before);
  });

  it.each([
    [{}, "contactPolicy: is required: send a policy such as"],
    [{ contactPolicy: "3 a day" }, "contactPolicy: must be a policy such as"],
    [{ contactPolicy: { maxAttempts: [{ count: 0, hours: 24 }] } }, "contactPolicy.maxAttempts.0.count: must be at least 1"],
    [{ contactPolicy: { maxAttempts: [{ count: 2, hours: 0 }] } }, "contactPolicy.maxAttempts.0.hours: must be at least 1 hour"],
    [{ contactPolicy: { maxAttempts: [{ count: 2, hours: 721 }] } }, "contactPolicy.maxAttempts.0.hours: must be at most 720 hours"],
    [{ contactPolicy: { maxAttempts: Array(11).fill({ count: 1, hours: 1 }) } }, "contactPolicy.maxAttempts: may hold at most 10 rules"],
    [{ contactPolicy: { maxAttempts: [{ count: 2, hours: 24, days: 1 }] } }, "unknown field days; a rule has only count and hours"],
    [{ contactPolicy: { minGapMinutes: 0 } }, "contactPolicy.minGapMinutes: must be at least 1 minute"],
    [[FLORIDA], "expected object"],
  ])("400 for %j, with a sentence; the stored policy stays", async (body, mention) => {
    const ws = await newWorkspace({ contactPolicy: FLORIDA });
    await expect400(await patchOwn(ws, body), mention);
    expect((await json(await own(ws))).contactPolicy).toEqual(FLORIDA);
  });

  it("400 for a body that is not JSON", async () => {
    const ws = await newWorkspace();
    const res = await patchOwn(ws, undefined, '{"contactPolicy":');
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "bad_request", error: expect.any(String) });
  });
});

describe("workspaceEngineInfo", () => {
  it("returns the parsed policy with the limits, in one read; null when none, null for no workspace", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 7, maxConcurrentCalls: 9 }, contactPolicy: STRICT });
    expect(await workspaceEngineInfo(env.DB, ws.workspaceId)).toEqual({
      callsPerSecond: 7,
      maxConcurrentCalls: 9,
      reservedConcurrency: 0,
      timezone: null,
      webhookUrl: null,
      hasDnc: false,
      contactPolicy: STRICT,
    });
    const none = await newWorkspace();
    expect((await workspaceEngineInfo(env.DB, none.workspaceId))?.contactPolicy).toBeNull();
    expect(await workspaceEngineInfo(env.DB, `ws_missing_${crypto.randomUUID()}`)).toBeNull();
  });

  it("reads a stored policy the same way whatever the key order, and an empty one as none", async () => {
    const ws = await newWorkspace();
    await env.DB.prepare("UPDATE workspaces SET contact_policy = ?2 WHERE id = ?1")
      .bind(ws.workspaceId, '{"minGapMinutes":15,"maxAttempts":[{"hours":24,"count":2}]}')
      .run();
    expect((await workspaceEngineInfo(env.DB, ws.workspaceId))?.contactPolicy).toEqual({ maxAttempts: [{ count: 2, hours: 24 }], minGapMinutes: 15 });
    await env.DB.prepare("UPDATE workspaces SET contact_policy = '{}' WHERE id = ?1").bind(ws.workspaceId).run();
    expect((await workspaceEngineInfo(env.DB, ws.workspaceId))?.contactPolicy).toBeNull();
    expect((await json(await own(ws))).contactPolicy).toBeNull();
  });
});

describe("OpenAPI document", () => {
  it("documents GET and PATCH /v1/api/workspace and contactPolicy on the admin API", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const item = doc.paths["/v1/api/workspace"];
    expect(Object.keys(item.get.responses).sort()).toEqual(["200", "400", "401", "403"]);
    expect(Object.keys(item.patch.responses).sort()).toEqual(["200", "400", "401", "403"]);
    for (const text of [item.get.description, item.patch.description]) {
      expect(text).toContain("across all of the workspace's batches");
      expect(text).toContain("`nextAttemptAt`");
      expect(text).toContain('`waitReason: "contact_policy"`');
      expect(text).toContain("never fails for it");
      expect(text).toContain("within about 5 seconds");
      expect(text).toContain("not remembered");
    }
    expect(item.patch.description).toContain("set by the operator through the admin API");
    expect(doc.components.schemas.Workspace.properties.contactPolicy).toBeDefined();
    expect(doc.components.schemas.CreateWorkspace.properties.contactPolicy).toBeDefined();
    expect(doc.components.schemas.PatchWorkspace.properties.contactPolicy).toBeDefined();
    expect(doc.components.schemas.PatchOwnWorkspace.required).toEqual(["contactPolicy"]);
    expect(doc.components.schemas.ContactPolicy.example).toEqual({ maxAttempts: [{ count: 3, hours: 24 }], minGapMinutes: 60 });
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { workspaceEngineInfo } from "../../src/db/workspace.repo";
import { ADMIN, authHeaders, call, json } from "../helpers";

const adminJson = (method: string, path: string, body?: unknown) =>
  call(path, { method, headers: { ...ADMIN, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
const adminRead = async (workspaceId: string) => json(await call(`/v1/admin/workspaces/${workspaceId}`, { headers: ADMIN }));
const patch = (workspaceId: string, body: unknown) => adminJson("PATCH", `/v1/admin/workspaces/${workspaceId}`, body);
const stored = (workspaceId: string) =>
  env.DB.prepare("SELECT max_concurrent_calls AS max, reserved_concurrency AS reserved FROM workspaces WHERE id = ?1")
    .bind(workspaceId)
    .first<{ max: number; reserved: number }>();

type Keyed = { workspaceId: string; apiKey: string; keyId: string; createdAt: string };

/** A fresh workspace made through the admin API (no agent: nothing here dials). */
async function newWorkspace(body: Record<string, unknown> = {}): Promise<Keyed> {
  const res = await adminJson("POST", "/v1/admin/workspaces", { name: "Headroom", ...body });
  if (res.status !== 201) throw new Error(`workspace: ${res.status} ${await res.text()}`);
  return json(res);
}

/** The contract's 400: a sentence that names what to fix. */
async function expect400(res: Response, ...mentions: string[]): Promise<string> {
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body).toMatchObject({ code: "validation_failed", requestId: expect.any(String), error: expect.stringMatching(/\.$/) });
  for (const m of mentions) expect(body.error).toContain(m);
  return body.error as string;
}

describe("rateLimits.reservedConcurrency on the admin API", () => {
  it("is accepted at creation and shown in every view: the create answer, the read-back, the list, the key's own view and the engine's read", async () => {
    const created = await newWorkspace({ rateLimits: { callsPerSecond: 3, maxConcurrentCalls: 5, reservedConcurrency: 2 } });
    const limits = { callsPerSecond: 3, maxConcurrentCalls: 5, reservedConcurrency: 2 };
    expect((created as unknown as { rateLimits: unknown }).rateLimits).toEqual(limits);
    expect(await stored(created.workspaceId)).toEqual({ max: 5, reserved: 2 });
    expect((await adminRead(created.workspaceId)).rateLimits).toEqual(limits);
    const list = await json(await call("/v1/admin/workspaces?limit=100", { headers: ADMIN }));
    expect(list.workspaces.find((w: { workspaceId: string }) => w.workspaceId === created.workspaceId).rateLimits).toEqual(limits);
    const own = await call("/v1/api/workspace", { headers: authHeaders(created) });
    expect(own.status).toBe(200);
    expect((await json(own)).rateLimits).toEqual(limits);
    expect(await workspaceEngineInfo(env.DB, created.workspaceId)).toMatchObject({ callsPerSecond: 3, maxConcurrentCalls: 5, reservedConcurrency: 2 });
  });

  it("defaults to 0, for a new workspace and for a row written before the column existed (the migration's default)", async () => {
    const created = await newWorkspace({ rateLimits: { maxConcurrentCalls: 1 } });
    expect((await adminRead(created.workspaceId)).rateLimits).toEqual({ callsPerSecond: 1, maxConcurrentCalls: 1, reservedConcurrency: 0 });
    const old = `ws_old_${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare("INSERT INTO workspaces (id, name, webhook_secret_enc, created_at) VALUES (?1, 'Old', 'sealed', '2020-01-01T00:00:00.000Z')")
      .bind(old)
      .run();
    expect((await adminRead(old)).rateLimits).toEqual({ callsPerSecond: 1, maxConcurrentCalls: 10, reservedConcurrency: 0 });
    expect((await workspaceEngineInfo(env.DB, old))?.reservedConcurrency).toBe(0);
  });

  it("PATCH sets it, keeps it when absent, changes it with the limit, and clears it with 0", async () => {
    const ws = await newWorkspace({ rateLimits: { maxConcurrentCalls: 5 } });
    expect((await json(await patch(ws.workspaceId, { rateLimits: { reservedConcurrency: 4 } }))).rateLimits).toEqual({
      callsPerSecond: 1,
      maxConcurrentCalls: 5,
      reservedConcurrency: 4,
    });
    // A patch that leaves it out leaves it as it is, whatever else it changes.
    const renamed = await json(await patch(ws.workspaceId, { name: "Renamed", rateLimits: { callsPerSecond: 7, maxConcurrentCalls: 6 } }));
    expect(renamed).toMatchObject({ name: "Renamed", rateLimits: { callsPerSecond: 7, maxConcurrentCalls: 6, reservedConcurrency: 4 } });
    expect((await json(await patch(ws.workspaceId, { contactPolicy: { minGapMinutes: 5 } }))).rateLimits.reservedConcurrency).toBe(4);
    // Both at once: the new limit is what the new reservation must be below.
    const lowered = await json(await patch(ws.workspaceId, { rateLimits: { maxConcurrentCalls: 3, reservedConcurrency: 2 } }));
    expect(lowered.rateLimits).toEqual({ callsPerSecond: 7, maxConcurrentCalls: 3, reservedConcurrency: 2 });
    expect((await json(await patch(ws.workspaceId, { rateLimits: { reservedConcurrency: 0 } }))).rateLimits.reservedConcurrency).toBe(0);
    expect(await stored(ws.workspaceId)).toEqual({ max: 3, reserved: 0 });
  });

  it.each([
    [{ reservedConcurrency: -1 }, "reservedConcurrency"],
    [{ reservedConcurrency: 1.5 }, "reservedConcurrency"],
    [{ reservedConcurrency: "2" }, "reservedConcurrency"],
    [{ reservedConcurrency: null }, "reservedConcurrency"],
    [{ reservedConcurrency: 10000, maxConcurrentCalls: 10000 }, "reservedConcurrency"],
    [{ reservedConcurrency: 1e308 }, "reservedConcurrency"],
  ])("create refuses %j with a 400 naming the field, and creates nothing", async (rateLimits, mention) => {
    const name = `refused ${crypto.randomUUID()}`;
    await expect400(await adminJson("POST", "/v1/admin/workspaces", { name, rateLimits }), mention);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM workspaces WHERE name = ?1").bind(name).first<number>("n")).toBe(0);
  });

  it.each([
    [{ maxConcurrentCalls: 5, reservedConcurrency: 5 }, ["rateLimits.reservedConcurrency (5)", "rateLimits.maxConcurrentCalls (5)"]],
    [{ maxConcurrentCalls: 1, reservedConcurrency: 3 }, ["rateLimits.reservedConcurrency (3)", "rateLimits.maxConcurrentCalls (1)"]],
    [{ reservedConcurrency: 10 }, ["rateLimits.reservedConcurrency (10)", "rateLimits.maxConcurrentCalls (10, the default)"]],
  ])("create refuses a reservation not below the limit, %j, with a sentence naming both values, and creates nothing", async (rateLimits, mentions) => {
    const name = `refused ${crypto.randomUUID()}`;
    const error = await expect400(await adminJson("POST", "/v1/admin/workspaces", { name, rateLimits }), ...mentions, "must be below");
    expect(error).toContain("batches keep at least one slot");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM workspaces WHERE name = ?1").bind(name).first<number>("n")).toBe(0);
  });

  it.each([
    // a reservation raised to the stored limit
    [{ rateLimits: { reservedConcurrency: 5 } }, ["rateLimits.reservedConcurrency (5)", "rateLimits.maxConcurrentCalls (5, the workspace's current value)"]],
    // the limit lowered to, or under, the stored reservation
    [{ rateLimits: { maxConcurrentCalls: 2 } }, ["rateLimits.reservedConcurrency (2, the workspace's current value)", "rateLimits.maxConcurrentCalls (2)"]],
    [{ rateLimits: { maxConcurrentCalls: 1 } }, ["rateLimits.reservedConcurrency (2, the workspace's current value)", "rateLimits.maxConcurrentCalls (1)"]],
    // both sent, and they disagree
    [{ rateLimits: { maxConcurrentCalls: 8, reservedConcurrency: 9 } }, ["rateLimits.reservedConcurrency (9)", "rateLimits.maxConcurrentCalls (8)"]],
  ])("PATCH refuses %j with a 400 naming both values, and changes nothing (not even the other fields sent)", async (body, mentions) => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 2, maxConcurrentCalls: 5, reservedConcurrency: 2 } });
    const before = await adminRead(ws.workspaceId);
    const error = await expect400(
      await patch(ws.workspaceId, { ...body, name: "Changed", timezone: "Europe/Paris", rateLimits: { callsPerSecond: 9, ...body.rateLimits } }),
      ...mentions,
    );
    expect(error).toMatch(/^rateLimits\.reservedConcurrency \(\d+.*\) must be below rateLimits\.maxConcurrentCalls/);
    expect(await adminRead(ws.workspaceId)).toEqual(before);
  });

  it("PATCH with a bad value is a 400 naming the field, and changes nothing", async () => {
    const ws = await newWorkspace({ rateLimits: { maxConcurrentCalls: 5, reservedConcurrency: 1 } });
    for (const reservedConcurrency of [-1, 2.5, "1", null, 10000]) {
      await expect400(await patch(ws.workspaceId, { rateLimits: { reservedConcurrency } }), "reservedConcurrency");
    }
    expect(await stored(ws.workspaceId)).toEqual({ max: 5, reserved: 1 });
  });

  it("PATCH of a workspace that does not exist is a 404, not a 400 about the limits", async () => {
    const res = await patch(`ws_missing_${crypto.randomUUID()}`, { rateLimits: { reservedConcurrency: 3 } });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found", error: expect.stringContaining("does not exist") });
  });

  it("two patches racing, one raising the reservation and one lowering the limit, never both land", async () => {
    for (let round = 0; round < 5; round++) {
      const ws = await newWorkspace({ rateLimits: { maxConcurrentCalls: 5 } });
      const [raise, lower] = await Promise.all([
        patch(ws.workspaceId, { rateLimits: { reservedConcurrency: 4 } }),
        patch(ws.workspaceId, { rateLimits: { maxConcurrentCalls: 4 } }),
      ]);
      // Each is fine alone; together they would leave batches no slot, so exactly one is refused.
      expect([raise.status, lower.status].sort()).toEqual([200, 400]);
      const now = await stored(ws.workspaceId);
      expect(now!.reserved).toBeLessThan(now!.max);
    }
  });

  it("the workspace's own key cannot change it: it is the operator's", async () => {
    const ws = await newWorkspace({ rateLimits: { maxConcurrentCalls: 5 } });
    const res = await call("/v1/api/workspace", {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ contactPolicy: null, rateLimits: { reservedConcurrency: 2 } }),
    });
    await expect400(res, "rateLimits", "admin API");
    expect(await stored(ws.workspaceId)).toEqual({ max: 5, reserved: 0 });
  });
});

describe("OpenAPI document", () => {
  it("documents reservedConcurrency in every workspace view and on create and patch", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const schemas = doc.components.schemas;
    const viewLimits = schemas.Workspace.properties.rateLimits;
    expect(viewLimits.required).toEqual(["callsPerSecond", "maxConcurrentCalls", "reservedConcurrency"]);
    expect(viewLimits.properties.reservedConcurrency).toMatchObject({ type: "integer", minimum: 0 });
    expect(viewLimits.properties.reservedConcurrency.description).toContain("inbound calls");
    for (const name of ["CreateWorkspace", "PatchWorkspace"]) {
      const limits = schemas[name].properties.rateLimits;
      expect(limits.properties.reservedConcurrency.description, name).toContain("maxConcurrentCalls − 1");
      expect(limits.required ?? [], name).not.toContain("reservedConcurrency");
    }
    expect(doc.paths["/v1/admin/workspaces"].post.description).toContain("reservedConcurrency");
    expect(doc.paths["/v1/admin/workspaces/{workspaceId}"].patch.description).toContain("naming both values");
    const example = doc.paths["/v1/api/workspace"].get.responses["200"].content["application/json"].example;
    expect(example.rateLimits).toHaveProperty("reservedConcurrency");
  });
});

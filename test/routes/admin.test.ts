import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebhookEvent } from "../../src/queue/webhook-event";
import { consume } from "../engine-helpers";
import { ADMIN, call, json, newWorkspace } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const adminJson = (method: string, path: string, body?: unknown) =>
  call(path, { method, headers: { ...ADMIN, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

const createWorkspace = (body: Record<string, unknown>) => adminJson("POST", "/v1/admin/workspaces", { name: "Admin test", ...body });

/** HMAC-SHA256 per Standard Webhooks, written out here rather than borrowed from the service. */
async function signedWith(secret: string, id: string, ts: string, body: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

describe("GET /v1/admin/workspaces", () => {
  type Listed = { workspaces: Record<string, unknown>[]; pagination: Record<string, unknown> };
  const list = (query = "", headers: Record<string, string> = ADMIN) => call(`/v1/admin/workspaces${query}`, { headers });
  const newestFirst = (a: Record<string, any>, b: Record<string, any>) =>
    a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.workspaceId < b.workspaceId ? 1 : -1;

  it("pages through every workspace newest first (id breaks a tie), each as the read-back shows it, never a secret", async () => {
    const created = [];
    for (const name of ["List A", "List B", "List C"]) created.push(await json(await createWorkspace({ name, timezone: "Europe/Paris" })));
    // Two rows created in the same millisecond, long ago: the larger id comes first.
    const tie = "2001-01-01T00:00:00.000Z";
    const tieBase = `ws_tie_${crypto.randomUUID().slice(0, 8)}`;
    const tieIds = [`${tieBase}_a`, `${tieBase}_b`];
    for (const id of tieIds) {
      await env.DB.prepare("INSERT INTO workspaces (id, name, webhook_secret_enc, created_at) VALUES (?1, 'Tie', 'sealed-placeholder-secret', ?2)")
        .bind(id, tie)
        .run();
    }

    const seen: Record<string, any>[] = [];
    const texts: string[] = [];
    let page = 1;
    for (;;) {
      const res = await list(`?page=${page}&limit=2`);
      expect(res.status).toBe(200);
      const text = await res.text();
      texts.push(text);
      const body = JSON.parse(text) as Listed;
      const { total } = body.pagination as { total: number };
      expect(body.pagination).toEqual({
        page,
        limit: 2,
        total,
        totalPages: Math.ceil(total / 2),
        hasNext: page < Math.ceil(total / 2),
        hasPrev: page > 1,
      });
      expect(body.workspaces.length).toBe(Math.min(2, total - (page - 1) * 2));
      seen.push(...body.workspaces);
      if (!body.pagination.hasNext) break;
      page++;
    }
    expect(seen.length).toBe((JSON.parse(texts[0]!) as Listed).pagination.total);
    expect(new Set(seen.map((w) => w.workspaceId)).size).toBe(seen.length);
    expect(seen.map((w) => w.workspaceId)).toEqual([...seen].sort(newestFirst).map((w) => w.workspaceId));
    const ours = new Set([...created.map((w) => w.workspaceId), ...tieIds]);
    expect(seen.map((w) => w.workspaceId).filter((id) => ours.has(id))).toEqual([
      ...[...created].sort(newestFirst).map((w) => w.workspaceId),
      tieIds[1],
      tieIds[0],
    ]);
    const { apiKey, keyId, webhookSecret, ...view } = created[2]!;
    expect(seen.find((w) => w.workspaceId === view.workspaceId)).toEqual(view);
    expect(seen.find((w) => w.workspaceId === tieIds[0])).toEqual({
      workspaceId: tieIds[0],
      name: "Tie",
      rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10, reservedConcurrency: 0 },
      webhookUrl: null,
      timezone: null,
      contactPolicy: null,
      createdAt: tie,
    });

    // A page past the end is empty, not an error.
    const past = await json<Listed>(await list(`?page=${page + 1}&limit=2`));
    expect(past.workspaces).toEqual([]);
    expect(past.pagination).toMatchObject({ page: page + 1, hasNext: false, hasPrev: true });

    const sealed = await env.DB.prepare("SELECT webhook_secret_enc AS s FROM workspaces WHERE id = ?1").bind(created[0]!.workspaceId).first<string>("s");
    const hashes = await env.DB.prepare("SELECT secret_hash FROM api_keys").all<{ secret_hash: string }>();
    const all = texts.join("\n");
    for (const secret of [...created.flatMap((w) => [w.apiKey.split("_")[2], w.webhookSecret.slice(6)]), sealed!, "sealed-placeholder-secret"]) {
      expect(all).not.toContain(secret);
    }
    for (const { secret_hash } of hashes.results) expect(all).not.toContain(secret_hash);
    expect(all).not.toMatch(/secret|hash|apiKey/i);
  });

  it("defaults to page 1 of 20", async () => {
    await createWorkspace({});
    const body = await json<Listed>(await list());
    expect(body.pagination).toMatchObject({ page: 1, limit: 20, hasPrev: false });
    expect(body.workspaces.length).toBe(Math.min(20, body.pagination.total as number));
  });

  it.each([
    ["?page=0", "page"],
    ["?page=-1", "page"],
    ["?page=abc", "page"],
    ["?page=1.5", "page"],
    ["?limit=0", "limit"],
    ["?limit=101", "limit"],
    ["?limit=abc", "limit"],
  ])("400 for %s, with a sentence naming the parameter", async (query, param) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({ code: "validation_failed", requestId: expect.any(String) });
    expect(body.error).toMatch(/^The request is invalid: .*\.$/);
    expect(body.error).toContain(param);
  });

  it("401 without the admin token or with a wrong one", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const res = await list("", headers);
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ code: "unauthorized", requestId: expect.any(String) });
    }
  });
});

describe("GET /v1/admin/workspaces/{workspaceId}", () => {
  it("reads back limits, webhook URL, time zone and every key's id and state, never a secret or hash", async () => {
    const created = await json(
      await createWorkspace({ rateLimits: { callsPerSecond: 4, maxConcurrentCalls: 7 }, webhookUrl: "https://hooks.example.com/in", timezone: "Europe/Paris" }),
    );
    const second = await json(await call(`/v1/admin/workspaces/${created.workspaceId}/api-keys`, { method: "POST", headers: ADMIN }));
    expect((await call(`/v1/admin/workspaces/${created.workspaceId}/api-keys/${created.keyId}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);

    const res = await call(`/v1/admin/workspaces/${created.workspaceId}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const text = await res.text();
    const ws = JSON.parse(text);
    expect(ws).toEqual({
      workspaceId: created.workspaceId,
      name: "Admin test",
      rateLimits: { callsPerSecond: 4, maxConcurrentCalls: 7, reservedConcurrency: 0 },
      webhookUrl: "https://hooks.example.com/in",
      timezone: "Europe/Paris",
      contactPolicy: null,
      createdAt: created.createdAt,
      apiKeys: [
        { keyId: created.keyId, state: "revoked", createdAt: created.createdAt, revokedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
        { keyId: second.keyId, state: "active", createdAt: expect.any(String), revokedAt: null },
      ].sort((a, b) => (a.keyId === created.keyId ? -1 : b.keyId === created.keyId ? 1 : 0)),
    });
    // Nothing secret in any form: not the keys' secret parts, not their hashes, not the webhook secret (plain or sealed).
    const rows = await env.DB.prepare("SELECT secret_hash FROM api_keys WHERE workspace_id = ?1").bind(created.workspaceId).all<{ secret_hash: string }>();
    const sealed = await env.DB.prepare("SELECT webhook_secret_enc FROM workspaces WHERE id = ?1")
      .bind(created.workspaceId)
      .first<string>("webhook_secret_enc");
    for (const secret of [
      created.apiKey.split("_")[2],
      second.apiKey.split("_")[2],
      created.webhookSecret.slice(6),
      sealed!,
      ...rows.results.map((r) => r.secret_hash),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/secret|hash/i);
  });

  it("404 for an unknown workspace, 401 without the admin token", async () => {
    const res = await call("/v1/admin/workspaces/ws_0000000000000000000000000000", { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found", error: expect.stringContaining("does not exist"), requestId: expect.any(String) });
    const ws = await newWorkspace();
    expect((await call(`/v1/admin/workspaces/${ws.workspaceId}`)).status).toBe(401);
    expect((await call(`/v1/admin/workspaces/${ws.workspaceId}`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });
});

describe("POST /v1/admin/workspaces/{workspaceId}/webhook-secret", () => {
  it("shows a new whsec_ secret once, stores it encrypted, and signs the next delivery with it", async () => {
    const created = await json(await createWorkspace({ webhookUrl: "https://hooks.example.com/rotate" }));
    const sealedBefore = await env.DB.prepare("SELECT webhook_secret_enc FROM workspaces WHERE id = ?1")
      .bind(created.workspaceId)
      .first<string>("webhook_secret_enc");

    const res = await call(`/v1/admin/workspaces/${created.workspaceId}/webhook-secret`, { method: "POST", headers: ADMIN });
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated).toEqual({ workspaceId: created.workspaceId, webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    expect(rotated.webhookSecret).not.toBe(created.webhookSecret);

    const sealedAfter = await env.DB.prepare("SELECT webhook_secret_enc FROM workspaces WHERE id = ?1")
      .bind(created.workspaceId)
      .first<string>("webhook_secret_enc");
    expect(sealedAfter).not.toBe(sealedBefore);
    expect(sealedAfter).not.toContain(rotated.webhookSecret.slice(6));
    // Read back never shows it.
    expect(await (await call(`/v1/admin/workspaces/${created.workspaceId}`, { headers: ADMIN })).text()).not.toContain(rotated.webhookSecret.slice(6));

    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return new Response(null, { status: 200 });
    });
    const event: WebhookEvent = {
      id: "evt_rotated00000000000000000000000",
      type: "batch.started",
      workspaceId: created.workspaceId,
      timestamp: "2026-11-29T00:00:00.000Z",
      data: { batchId: "batch_x", totalCalls: 1 },
    };
    await consume([event as never], 1, "webhook-events");
    expect(seen).toHaveLength(1);
    const d = seen[0]!;
    const [id, ts, sig, body] = [d.headers.get("webhook-id")!, d.headers.get("webhook-timestamp")!, d.headers.get("webhook-signature")!, await d.text()];
    expect(sig.split(" ")).toContain(await signedWith(rotated.webhookSecret, id, ts, body));
    expect(sig.split(" ")).not.toContain(await signedWith(created.webhookSecret, id, ts, body));
  });

  it("404 for an unknown workspace, 401 without the admin token", async () => {
    const res = await call("/v1/admin/workspaces/ws_missing/webhook-secret", { method: "POST", headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found" });
    const ws = await newWorkspace();
    expect((await call(`/v1/admin/workspaces/${ws.workspaceId}/webhook-secret`, { method: "POST" })).status).toBe(401);
  });
});

describe("admin input", () => {
  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "A", rateLimits: { callsPerSecond: 0 } }, "callsPerSecond"],
    [{ name: "A", webhookUrl: "not a url" }, "webhookUrl"],
    [{ name: "A", timezone: "Mars/Base" }, "timezone"],
  ])("400 for %j", async (body, field) => {
    const res = await adminJson("POST", "/v1/admin/workspaces", body);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(field) });
  });
});

describe("tenant webhookUrl policy (ENVIRONMENT=test is strict)", () => {
  it.each([
    ["http://hooks.example.com/in", "must use https"],
    ["https://user:pw@hooks.example.com/in", "must not carry credentials"],
    ["https://localhost/in", "loopback, private, link-local or metadata"],
    ["https://127.0.0.1:8443/in", "loopback, private, link-local or metadata"],
    ["https://169.254.169.254/latest/meta-data", "loopback, private, link-local or metadata"],
    ["https://10.1.2.3/in", "loopback, private, link-local or metadata"],
    ["https://[::1]/in", "loopback, private, link-local or metadata"],
    ["https://metadata.google.internal/", "loopback, private, link-local or metadata"],
  ])("create refuses %s with a sentence saying why, and creates nothing", async (url, why) => {
    const name = `refused ${crypto.randomUUID()}`;
    const res = await createWorkspace({ name, webhookUrl: url });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({ code: "validation_failed", requestId: expect.any(String) });
    expect(body.error).toMatch(/^webhookUrl /);
    expect(body.error).toContain(why);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM workspaces WHERE name = ?1").bind(name).first<number>("n")).toBe(0);
  });

  it("PATCH applies the same policy and leaves the stored URL as it was", async () => {
    const ws = await json(await createWorkspace({ webhookUrl: "https://hooks.example.com/ok" }));
    const patch = (body: unknown) => adminJson("PATCH", `/v1/admin/workspaces/${ws.workspaceId}`, body);
    for (const [url, why] of [
      ["http://hooks.example.com/in", "must use https"],
      ["https://192.168.1.10/in", "loopback, private"],
      ["https://a:b@hooks.example.com/", "credentials"],
    ] as const) {
      const res = await patch({ webhookUrl: url, rateLimits: { callsPerSecond: 9 } });
      expect(res.status, url).toBe(400);
      expect((await json(res)).error).toContain(why);
    }
    const now = await json(await call(`/v1/admin/workspaces/${ws.workspaceId}`, { headers: ADMIN }));
    expect(now).toMatchObject({ webhookUrl: "https://hooks.example.com/ok", rateLimits: { callsPerSecond: 1 } });
    expect(await json(await patch({ webhookUrl: "https://hooks.example.org/new" }))).toMatchObject({ webhookUrl: "https://hooks.example.org/new" });
    expect(await json(await patch({ webhookUrl: null }))).toMatchObject({ webhookUrl: null });
  });

  it("allows plain http and local hosts in development", async () => {
    const dev = { ...env, ENVIRONMENT: "development" };
    const { callWithEnv } = await import("../helpers");
    const res = await callWithEnv(dev, "/v1/admin/workspaces", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ name: "Dev", webhookUrl: "http://localhost:9000/hook" }),
    });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ webhookUrl: "http://localhost:9000/hook" });
  });
});

describe("OpenAPI document", () => {
  it("documents the read-back and the secret rotation", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const read = doc.paths["/v1/admin/workspaces/{workspaceId}"].get;
    expect(Object.keys(read.responses).sort()).toEqual(["200", "401", "404"]);
    expect(JSON.stringify(doc.components.schemas.WorkspaceDetail)).toContain('"apiKeys"');
    expect(doc.components.schemas.ApiKeyState.properties.state.enum).toEqual(["active", "revoked"]);
    const rotate = doc.paths["/v1/admin/workspaces/{workspaceId}/webhook-secret"].post;
    expect(Object.keys(rotate.responses).sort()).toEqual(["200", "401", "404"]);
    expect(rotate.summary).toContain("Rotate");
    expect(doc.components.schemas.RotatedWebhookSecret.required).toEqual(["workspaceId", "webhookSecret"]);
  });
});

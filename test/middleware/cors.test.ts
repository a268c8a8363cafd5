import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, authHeaders, call, callWithEnv, csvForm, json, LATER, newWorkspace, upload } from "../helpers";

const APP = "https://app.example.com";
const OTHER = "https://admin.example.com";
const withCors = { ...env, CORS_ORIGINS: ` ${APP}, ${OTHER}/ ` };

function corsHeaders(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([k]) => k.startsWith("access-control-")));
}

const preflight = (origin: string, method = "GET", headers = "x-api-key,x-workspace-id") => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
});

describe("CORS off (the default: CORS_ORIGINS empty)", () => {
  it("adds no Access-Control-* header anywhere, and a preflight is never a 401", async () => {
    const ws = await newWorkspace();
    expect(env.CORS_ORIGINS).toBe("");
    const got = await call("/v1/api/agents", { headers: { ...authHeaders(ws), origin: APP } });
    expect(got.status).toBe(200);
    expect(corsHeaders(got)).toEqual({});
    const health = await call("/healthz", { headers: { origin: APP } });
    expect(corsHeaders(health)).toEqual({});

    const pre = await call("/v1/api/agents", preflight(APP));
    expect(pre.status).toBe(204);
    expect(corsHeaders(pre)).toEqual({});
  });
});

describe("CORS on for listed origins", () => {
  it("answers an allowed origin's preflight before auth with what browsers need", async () => {
    for (const [path, method] of [
      ["/v1/api/agents", "POST"],
      ["/v1/api/batch-calls/batch_0000", "DELETE"],
      ["/v1/api/no-such-route", "GET"],
      ["/healthz", "GET"],
      ["/v1/openapi.json", "GET"],
    ] as const) {
      const res = await callWithEnv(withCors, path, preflight(OTHER, method, "x-api-key,x-workspace-id,idempotency-key,content-type"));
      expect(res.status, path).toBe(204);
      const h = corsHeaders(res);
      expect(h["access-control-allow-origin"], path).toBe(OTHER);
      expect(h["access-control-allow-methods"]!.split(",")).toEqual(expect.arrayContaining(["GET", "POST", "DELETE"]));
      expect(h["access-control-allow-headers"]!.split(",")).toEqual(expect.arrayContaining(["x-api-key", "x-workspace-id", "idempotency-key", "content-type"]));
      expect(Number(h["access-control-max-age"])).toBeGreaterThan(0);
      expect(h["access-control-allow-credentials"]).toBeUndefined();
      expect(res.headers.get("vary")).toContain("Origin");
    }
  });

  it("lets an allowed origin read responses, errors included, and the headers it needs", async () => {
    const ws = await newWorkspace();
    const ok = await callWithEnv(withCors, "/v1/api/agents", { headers: { ...authHeaders(ws), origin: APP } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-expose-headers")!.split(",")).toEqual(
      expect.arrayContaining(["content-disposition", "x-request-id", "idempotent-replayed"]),
    );
    expect(ok.headers.get("vary")).toContain("Origin");

    // A 401 the browser can read, so the app can tell the user their key is wrong.
    const denied = await callWithEnv(withCors, "/v1/api/agents", { headers: { origin: APP } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe(APP);
    expect(await json(denied)).toMatchObject({ code: "unauthorized" });

    const { batchId } = await json(await upload(ws, "phone_number\n+12125550101\n"));
    const csv = await callWithEnv(withCors, `/v1/api/batch-calls/${batchId}/results.csv`, { headers: { ...authHeaders(ws), origin: APP } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("access-control-allow-origin")).toBe(APP);
    expect(csv.headers.get("content-disposition")).toContain("attachment");

    const health = await callWithEnv(withCors, "/healthz", { headers: { origin: APP } });
    expect(health.headers.get("access-control-allow-origin")).toBe(APP);

    // A re-sent upload's answer says it is a replay, in a header the browser may read.
    const send = () =>
      callWithEnv(withCors, "/v1/api/batch-calls", {
        method: "POST",
        headers: { ...authHeaders(ws), origin: APP, "idempotency-key": "cors-1" },
        body: csvForm("phone_number\n+12125550101\n", { agentId: ws.agentId, scheduledAt: LATER }),
      });
    expect((await send()).status).toBe(201);
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("access-control-allow-origin")).toBe(APP);
    expect(replay.headers.get("access-control-expose-headers")!.split(",")).toContain("idempotent-replayed");
  });

  it.each([
    ["another site", "https://evil.example.net"],
    ["a longer host", "https://app.example.com.evil.test"],
    ["another scheme", "http://app.example.com"],
    ["another port", "https://app.example.com:8443"],
    ["an opaque origin", "null"],
  ])("gives %s no CORS headers: its preflight is a bare 204, never a 401", async (_name, origin) => {
    const ws = await newWorkspace();
    const pre = await callWithEnv(withCors, "/v1/api/agents", preflight(origin, "POST"));
    expect(pre.status).toBe(204);
    expect(corsHeaders(pre)).toEqual({});
    const got = await callWithEnv(withCors, "/v1/api/agents", { headers: { ...authHeaders(ws), origin } });
    expect(got.status).toBe(200);
    expect(corsHeaders(got)).toEqual({});
    expect(got.headers.get("vary")).toContain("Origin");
  });

  it("never applies to operator or provider routes", async () => {
    const ws = await newWorkspace();
    const pre = await callWithEnv(withCors, `/v1/admin/workspaces/${ws.workspaceId}`, preflight(APP));
    expect(corsHeaders(pre)).toEqual({});
    const read = await callWithEnv(withCors, `/v1/admin/workspaces/${ws.workspaceId}`, { headers: { ...ADMIN, origin: APP } });
    expect(read.status).toBe(200);
    expect(corsHeaders(read)).toEqual({});
    const hook = await callWithEnv(withCors, "/v1/webhooks/dial/status", { method: "POST", headers: { origin: APP }, body: "{}" });
    expect(corsHeaders(hook)).toEqual({});
  });

  it("an OPTIONS request that is not a preflight still needs a key", async () => {
    const res = await callWithEnv({ ...env, CORS_ORIGINS: "" }, "/v1/api/agents", { method: "OPTIONS" });
    expect(res.status).toBe(401);
  });

  it("ignores list entries that are not origins instead of opening up", async () => {
    const wild = { ...env, CORS_ORIGINS: "*, not a url, ftp://files.example.com" };
    for (const origin of ["https://anything.example", "ftp://files.example.com"]) {
      const pre = await callWithEnv(wild, "/v1/api/agents", preflight(origin));
      expect(pre.status).toBe(204);
      expect(corsHeaders(pre)).toEqual({});
    }
  });
});

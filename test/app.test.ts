import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, callWithEnv, failingDb, newWorkspace } from "./helpers";

describe("one error path", () => {
  it("turns an unhandled error into the contract's 500: a sentence, a code, the request id — no stack, no SQL", async () => {
    const ws = await newWorkspace();
    // The agents list fails deep inside with an error no route expects.
    const broken = { ...env, DB: failingDb(env.DB, (sql) => sql.includes("FROM agents")) };
    const res = await callWithEnv(broken, "/v1/api/agents", { headers: authHeaders(ws) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["code", "error", "requestId"]);
    expect(body).toMatchObject({ code: "internal_error", error: expect.stringMatching(/^[A-Z].*\.$/) });
    expect(res.headers.get("x-request-id")).toBe(body.requestId);
    expect(JSON.stringify(body)).not.toMatch(/injected|SELECT|agents|\bat\s|\.ts:\d/i);
  });

  it("gives Hono's own 4xx the same body as every other error", async () => {
    const ws = await newWorkspace();
    const res = await callWithEnv(env, "/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: expect.stringMatching(/^(bad_request|validation_failed)$/), error: expect.any(String), requestId: expect.any(String) });
  });
});

describe("request ids", () => {
  it("never echoes a malformed cf-ray: a 5 KB header gets a generated id, in the header and the error body alike", async () => {
    const res = await callWithEnv(env, "/v1/api/agents", { headers: { "cf-ray": "x".repeat(5000) } });
    expect(res.status).toBe(401);
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^req_[0-9a-f]{16}$/);
    expect(((await res.json()) as Record<string, unknown>).requestId).toBe(id);
  });

  it("keeps a cf-ray of the ray id's shape, so a log line matches Cloudflare's", async () => {
    const res = await callWithEnv(env, "/healthz", { headers: { "cf-ray": "8f3a1b2c3d4e5f60-LHR" } });
    expect(res.headers.get("x-request-id")).toBe("8f3a1b2c3d4e5f60-LHR");
  });
});

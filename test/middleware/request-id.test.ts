import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/app-factory";
import { requestContext, requestIdFor } from "../../src/middleware/request-id";

const GENERATED = /^req_[0-9a-f]{16}$/;
const idOf = (headers: Record<string, string>) => requestIdFor(new Headers(headers));

describe("request id", () => {
  it("keeps a cf-ray that has the ray id's shape", () => {
    expect(idOf({ "cf-ray": "8f3a1b2c3d4e5f60-LHR" })).toBe("8f3a1b2c3d4e5f60-LHR");
    expect(idOf({ "cf-ray": "8f3a1b2c3d4e5f60" })).toBe("8f3a1b2c3d4e5f60");
  });

  it.each([
    ["5 KB", "a".repeat(5000)],
    ["a ray id with more after it", "8f3a1b2c3d4e5f60-LHR-extra"],
    ["upper-case hex", "8F3A1B2C3D4E5F60-LHR"],
    ["too short", "8f3a1b2c-LHR"],
    ["markup after it", "8f3a1b2c3d4e5f60-LHR<script>"],
    ["empty", ""],
  ])("generates one for any other cf-ray (%s)", (_, ray) => {
    expect(idOf({ "cf-ray": ray })).toMatch(GENERATED);
  });

  it("ignores a client's x-request-id, and generates a fresh id per request", () => {
    expect(idOf({ "x-request-id": "mine" })).toMatch(GENERATED);
    expect(idOf({})).not.toBe(idOf({}));
  });

  it("answers with the id it gave the request", async () => {
    const app = new Hono<AppEnv>();
    app.use("*", requestContext);
    app.get("/", (c) => c.text(c.get("requestId")));
    const res = await app.request("/", { headers: { "cf-ray": "x".repeat(5000) } });
    const id = await res.text();
    expect(id).toMatch(GENERATED);
    expect(res.headers.get("x-request-id")).toBe(id);
  });
});

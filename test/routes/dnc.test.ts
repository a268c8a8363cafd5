import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDncWithSource } from "../../src/db/dnc.repo";
import { authHeaders, call, json, newWorkspace } from "../helpers";

const post = (ws: { workspaceId: string; apiKey: string }, body: unknown) =>
  call("/v1/api/dnc", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify(body) });

describe("do-not-call list", () => {
  it("adds numbers in E.164, skips ones already listed, lists and removes them", async () => {
    const ws = await newWorkspace();
    expect(await json(await post(ws, { phoneNumbers: ["(212) 555-0100", "+12125550101"] }))).toEqual({ added: 2, skipped: 0 });
    expect(await json(await post(ws, { phoneNumbers: ["+1 212 555 0100", "020 7946 0958"], defaultCountry: "GB" }))).toEqual({ added: 1, skipped: 1 });
    const list = await json(await call("/v1/api/dnc?limit=2", { headers: authHeaders(ws) }));
    expect(list.phoneNumbers.map((p: any) => p.phoneNumber)).toEqual(["+12125550100", "+12125550101"]);
    expect(list.pagination).toMatchObject({ total: 3, totalPages: 2, hasNext: true });
    expect((await call(`/v1/api/dnc/${encodeURIComponent("+12125550100")}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    expect((await call(`/v1/api/dnc/${encodeURIComponent("+12125550100")}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(404);
  });

  it("refuses the whole request when any number is invalid, and adds nothing", async () => {
    const ws = await newWorkspace();
    const res = await post(ws, { phoneNumbers: ["+12125550100", "not a number"] });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", details: [{ index: 1, value: "not a number" }] });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).pagination.total).toBe(0);
    expect((await post(ws, { phoneNumbers: [] })).status).toBe(400);
    expect((await post(ws, {})).status).toBe(400);
  });

  it("is per workspace", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    await post(a, { phoneNumbers: ["+12125550100"] });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(b) }))).phoneNumbers).toEqual([]);
    expect((await call(`/v1/api/dnc/${encodeURIComponent("+12125550100")}`, { method: "DELETE", headers: authHeaders(b) })).status).toBe(404);
  });
});

describe("do-not-call input errors", () => {
  const del = (ws: { workspaceId: string; apiKey: string }, raw: string) => call(`/v1/api/dnc/${raw}`, { method: "DELETE", headers: authHeaders(ws) });

  it.each(["%E0%A4%A", "%E0%A4%A4%", "%ZZ", "%", "%2B1212555%0"])("DELETE with a malformed escape (%s) is a 400 that says so", async (raw) => {
    const ws = await newWorkspace();
    const res = await del(ws, raw);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "bad_request", error: expect.stringContaining("percent-escape"), requestId: expect.any(String) });
  });

  it.each(["hello", "12125550100", "+1", "%2Bnot-a-number"])("DELETE of something that is not an E.164 number (%s) is a 400", async (raw) => {
    const ws = await newWorkspace();
    const res = await del(ws, raw);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining("E.164") });
  });

  it("DELETE accepts the number with + raw or escaped, and with spaces, and removes the stored E.164 form", async () => {
    const ws = await newWorkspace();
    await post(ws, { phoneNumbers: ["+12125550100", "+12125550101", "+12125550102"] });
    expect(await json(await del(ws, "+12125550100"))).toEqual({ phoneNumber: "+12125550100", removed: true });
    expect(await json(await del(ws, "%2B12125550101"))).toEqual({ phoneNumber: "+12125550101", removed: true });
    expect(await json(await del(ws, encodeURIComponent("+1 212 555 0102")))).toEqual({ phoneNumber: "+12125550102", removed: true });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).pagination.total).toBe(0);
  });

  it("DELETE reads a full-width ＋ and full-width digits as POST does", async () => {
    const ws = await newWorkspace();
    expect(await json(await post(ws, { phoneNumbers: ["＋1 212 555 0100", "＋１２１２５５５０１０１"] }))).toEqual({ added: 2, skipped: 0 });
    expect(await json(await del(ws, encodeURIComponent("＋1 212 555 0100")))).toEqual({ phoneNumber: "+12125550100", removed: true });
    expect(await json(await del(ws, encodeURIComponent("＋１２１２５５５０１０１")))).toEqual({ phoneNumber: "+12125550101", removed: true });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).pagination.total).toBe(0);
  });

  it.each(["XX", "ZZ", "U", "USA", "1A", ""])("POST with an unknown defaultCountry (%j) is a 400 naming the field, and adds nothing", async (cc) => {
    const ws = await newWorkspace();
    const res = await post(ws, { phoneNumbers: ["2125550100"], defaultCountry: cc });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      code: "validation_failed",
      error: expect.stringMatching(/defaultCountry: must be an ISO 3166 alpha-2 country code/),
    });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).pagination.total).toBe(0);
  });

  it("defaultCountry is case-insensitive", async () => {
    const ws = await newWorkspace();
    expect(await json(await post(ws, { phoneNumbers: ["020 7946 0958"], defaultCountry: " gb " }))).toEqual({ added: 1, skipped: 0 });
    expect((await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).phoneNumbers[0].phoneNumber).toBe("+442079460958");
  });
});

describe("do-not-call sources", () => {
  const list = async (ws: { workspaceId: string; apiKey: string }) => (await json(await call("/v1/api/dnc", { headers: authHeaders(ws) }))).phoneNumbers;
  const source = { batchId: "batch_opt", callId: "batch_opt-7", at: "2026-03-10T12:00:00.000Z" };

  it("adds a number a person asked about on a call, with where it came from", async () => {
    const ws = await newWorkspace();
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+12125550100", source)).toBe(true);
    await post(ws, { phoneNumbers: ["+12125550101"] });
    expect(await list(ws)).toEqual([
      { phoneNumber: "+12125550100", createdAt: source.at, source },
      { phoneNumber: "+12125550101", createdAt: expect.any(String), source: null },
    ]);
  });

  it("keeps the first record of a number: a repeat, a later opt-out or a POST changes nothing", async () => {
    const ws = await newWorkspace();
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+12125550100", source)).toBe(true);
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+12125550100", source)).toBe(false);
    const later = { batchId: "batch_other", callId: "batch_other-1", at: "2026-03-11T09:00:00.000Z" };
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+12125550100", later)).toBe(false);
    expect(await json(await post(ws, { phoneNumbers: ["+12125550100"] }))).toEqual({ added: 0, skipped: 1 });
    expect(await list(ws)).toEqual([{ phoneNumber: "+12125550100", createdAt: source.at, source }]);
  });

  it("does not add a source to a number the API added first", async () => {
    const ws = await newWorkspace();
    await post(ws, { phoneNumbers: ["+12125550100"] });
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+12125550100", source)).toBe(false);
    expect(await list(ws)).toEqual([{ phoneNumber: "+12125550100", createdAt: expect.any(String), source: null }]);
  });

  it("is per workspace", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    expect(await addDncWithSource(env.DB, a.workspaceId, "+12125550100", source)).toBe(true);
    expect(await addDncWithSource(env.DB, b.workspaceId, "+12125550100", source)).toBe(true);
    expect(await list(a)).toHaveLength(1);
    expect(await list(b)).toHaveLength(1);
  });

  it("is documented in the OpenAPI document", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const entry = doc.components.schemas.DoNotCallEntry;
    expect(entry.required).toEqual(expect.arrayContaining(["phoneNumber", "createdAt", "source"]));
    expect(entry.properties.source.type).toEqual(["object", "null"]);
    expect(Object.keys(entry.properties.source.properties).sort()).toEqual(["at", "batchId", "callId"]);
    expect(JSON.stringify(doc.paths["/v1/api/dnc"].get.responses["200"])).toContain("DoNotCallEntry");
  });
});

import { describe, expect, it } from "vitest";
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

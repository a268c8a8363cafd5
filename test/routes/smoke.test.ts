import { describe, expect, it } from "vitest";
import { call, json, newWorkspace, upload } from "../helpers";

describe("smoke", () => {
  it("healthz", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ok: true });
  });

  it("starts a batch", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, "phone_number,first_name\n+12125550123,Ann\n+12125550124,Bob\n");
    const body = await json(res);
    expect(body).toMatchObject({ totalCalls: 2, status: "queued" });
    expect(res.status).toBe(201);
  });
});

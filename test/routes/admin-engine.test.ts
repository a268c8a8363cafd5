import { describe, expect, it } from "vitest";
import { ADMIN, call, json, newWorkspace, upload } from "../helpers";

describe("/v1/admin/metrics", () => {
  it("needs the admin token, and answers the counters' shape (off unless METRICS=on)", async () => {
    expect((await call("/v1/admin/metrics")).status).toBe(401);
    expect((await call("/v1/admin/metrics", { method: "DELETE" })).status).toBe(401);
    const read = await call("/v1/admin/metrics", { headers: ADMIN });
    expect(read.status).toBe(200);
    const body = await json(read);
    expect(Object.keys(body).sort()).toEqual(["counters", "enabled", "samples"]);
    expect(body.enabled).toBe(false);
    const reset = await call("/v1/admin/metrics", { method: "DELETE", headers: ADMIN });
    expect(reset.status).toBe(200);
    expect((await json(reset)).enabled).toBe(false);
  });
});

describe("GET /v1/admin/metrics", () => {
  it("is admin-only and reports whether counting is on", async () => {
    expect((await call("/v1/admin/metrics")).status).toBe(401);
    const body = await json(await call("/v1/admin/metrics", { headers: ADMIN }));
    expect(body).toMatchObject({ enabled: false, counters: expect.any(Object), samples: expect.any(Object) });
  });
});

describe("GET /v1/admin/batches/{batchId}/engine", () => {
  it("shows D1's summary beside the batch's object, agreeing for a fresh upload", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, "phone_number\n+12125550101\n+12125550102\n"));
    const res = await call(`/v1/admin/batches/${batchId}/engine`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      batchId,
      workspaceId: ws.workspaceId,
      summary: { status: "queued", controlPendingSince: null },
      object: { status: "queued", published: true },
      agree: true,
    });
    expect(Object.keys(body).sort()).toEqual(["agree", "batchId", "object", "stranded", "summary", "workspaceId"]);
  });

  it("404 for a batch D1 does not show, 401 without the token", async () => {
    expect((await call("/v1/admin/batches/batch_nope/engine")).status).toBe(401);
    const res = await call("/v1/admin/batches/batch_nope/engine", { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found", error: "Batch batch_nope does not exist." });
  });
});

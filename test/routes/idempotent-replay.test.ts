import { describe, expect, it } from "vitest";
import { call, json, newWorkspace, upload } from "../helpers";

const CSV = "phone_number,first_name\n+12125550101,Ann\n+12125550102,Bob\n";
const REPLAYED = "idempotent-replayed";

describe("Idempotent-Replayed on POST /v1/api/batch-calls", () => {
  it("is absent on the first answer and true on its replay, which is the same answer", async () => {
    const ws = await newWorkspace();
    const first = await upload(ws, CSV, { name: "March" }, { "idempotency-key": "r-1" });
    expect(first.status).toBe(201);
    expect(first.headers.has(REPLAYED)).toBe(false);
    const again = await upload(ws, CSV, { name: "March" }, { "idempotency-key": "r-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get(REPLAYED)).toBe("true");
    expect(await json(again)).toEqual(await json(first));
    // and a third time, still a replay
    expect((await upload(ws, CSV, { name: "March" }, { "idempotency-key": "r-1" })).headers.get(REPLAYED)).toBe("true");
  });

  it("is never sent without a key, even for the same upload twice", async () => {
    const ws = await newWorkspace();
    for (let i = 0; i < 2; i++) {
      const res = await upload(ws, CSV);
      expect(res.status).toBe(201);
      expect(res.headers.has(REPLAYED)).toBe(false);
    }
  });

  it("marks a replayed dry run too", async () => {
    const ws = await newWorkspace();
    const first = await upload(ws, CSV, { dryRun: "true" }, { "idempotency-key": "r-dry" });
    expect(first.status).toBe(200);
    expect(first.headers.has(REPLAYED)).toBe(false);
    const again = await upload(ws, CSV, { dryRun: "true" }, { "idempotency-key": "r-dry" });
    expect(again.status).toBe(200);
    expect(again.headers.get(REPLAYED)).toBe("true");
  });

  it("is absent on a 422 (other payload), a 400 that frees the key, and the retry that then runs", async () => {
    const ws = await newWorkspace();
    expect((await upload(ws, CSV, {}, { "idempotency-key": "r-2" })).status).toBe(201);
    const mismatch = await upload(ws, CSV, { name: "other" }, { "idempotency-key": "r-2" });
    expect(mismatch.status).toBe(422);
    expect(mismatch.headers.has(REPLAYED)).toBe(false);

    const bad = await upload(ws, "phone_number\nbad\n", {}, { "idempotency-key": "r-3" });
    expect(bad.status).toBe(400);
    expect(bad.headers.has(REPLAYED)).toBe(false);
    const retried = await upload(ws, CSV, {}, { "idempotency-key": "r-3" });
    expect(retried.status).toBe(201);
    expect(retried.headers.has(REPLAYED)).toBe(false);
  });

  it("is documented on the upload's 201 and 200", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const op = doc.paths["/v1/api/batch-calls"].post;
    for (const status of ["201", "200"]) {
      expect(op.responses[status].headers?.["Idempotent-Replayed"], status).toMatchObject({
        description: expect.stringContaining("Idempotency-Key"),
        schema: { type: "string", enum: ["true"] },
      });
    }
    expect(op.responses["409"].headers).toBeUndefined();
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { batchRow, completedWithRetryable, ledgerQuery, uploaded } from "../engine-helpers";
import { authHeaders, call, csvForm, json, newWorkspace, type TestWorkspace } from "../helpers";

const CSV = "phone_number,first_name\n+12125550101,Ann\n+12125550102,Bob\n";
const ALLOWED = "rows can be appended while a batch is draft, queued, processing or paused";

const limited = () => newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });

/** POST …/rows with `csv` as the file (null: no file part) and any extra form fields. */
const append = (ws: TestWorkspace, batchId: string, csv: string | null, headers: Record<string, string> = {}, fields: Record<string, string> = {}) =>
  call(`/v1/api/batch-calls/${batchId}/rows`, { method: "POST", headers: { ...authHeaders(ws), ...headers }, body: csvForm(csv, fields) });
const read = async (ws: TestWorkspace, batchId: string) => json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
const status = async (ws: TestWorkspace, batchId: string) => json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
const callCount = async (batchId: string) => (await ledgerQuery<{ n: number }>(batchId, "SELECT count(*) AS n FROM calls"))[0]!.n;
const post = (ws: TestWorkspace, path: string) => call(path, { method: "POST", headers: authHeaders(ws) });

async function expectTotal(ws: TestWorkspace, batchId: string, total: number) {
  expect((await read(ws, batchId)).totalCalls).toBe(total);
  expect((await status(ws, batchId)).total).toBe(total);
  expect(await callCount(batchId)).toBe(total);
}

describe("POST /v1/api/batch-calls/{batchId}/rows", () => {
  it("appends to a draft: new numbers added after the batch's calls in file order, values in the batch's column order, duplicates counted", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    // Columns in another order; +…0102 is already in the batch, +…0104 twice in the file.
    const res = await append(ws, batchId, "first_name,phone_number\nCid,+12125550103\nBob again,+12125550102\nDee,+12125550104\nDee twice,(212) 555-0104\n");
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ batchId, added: 2, duplicates: 2, suppressed: 0, totalCalls: 4, status: "draft" });
    await expectTotal(ws, batchId, 4);
    const page = await json(await call(`/v1/api/batch-calls/${batchId}/calls?limit=10`, { headers: authHeaders(ws) }));
    expect(page.calls.map((c: any) => [c.phone_number, c.metadata.first_name])).toEqual([
      ["+12125550101", "Ann"],
      ["+12125550102", "Bob"],
      ["+12125550103", "Cid"],
      ["+12125550104", "Dee"],
    ]);
    expect(await ledgerQuery(batchId, "SELECT seq, metadata FROM calls WHERE seq >= 2 ORDER BY seq")).toEqual([
      { seq: 2, metadata: '["+12125550103","Cid"]' },
      { seq: 3, metadata: '["+12125550104","Dee"]' },
    ]);
    expect(await batchRow(batchId)).toMatchObject({ status: "draft", total_calls: 4, waiting_count: 4 });
  });

  it("appends to a queued and to a paused batch, which keep their status; the list's totalCalls follows", async () => {
    const ws = await limited();
    const { batchId: queued } = await uploaded(ws, CSV);
    const res = await append(ws, queued, "phone_number,first_name\n+12125550111,Eve\n");
    expect(await json(res)).toEqual({ batchId: queued, added: 1, duplicates: 0, suppressed: 0, totalCalls: 3, status: "queued" });
    await expectTotal(ws, queued, 3);

    const { batchId: paused } = await uploaded(ws, CSV);
    expect((await post(ws, `/v1/api/batch-calls/${paused}/pause`)).status).toBe(200);
    const again = await append(ws, paused, "phone_number,first_name\n+12125550121,Fay\n+12125550122,Gus\n");
    expect(await json(again)).toEqual({ batchId: paused, added: 2, duplicates: 0, suppressed: 0, totalCalls: 4, status: "paused" });
    await expectTotal(ws, paused, 4);
    expect((await status(ws, paused)).waiting).toBe(4);
    const list = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(Object.fromEntries(list.batches.map((b: any) => [b.id, b.totalCalls]))).toEqual({ [queued]: 3, [paused]: 4 });
  });

  it("leaves out rows on the do-not-call list, and numbers the batch holds as a recipient's other number", async () => {
    const ws = await limited();
    const dnc = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550131", "+12125550133"] }),
    });
    expect(dnc.status).toBeLessThan(300);
    const { batchId } = await uploaded(ws, "phone_number,phone_number_2\n+12125550101,+12125550109\n", { start: "false" });
    const res = await append(
      ws,
      batchId,
      // 0109: the batch's recipient's second number. 0131: listed. 0132 with listed 0133: kept (not every number listed).
      "phone_number_2,phone_number\n,+12125550109\n,+12125550131\n+12125550133,+12125550132\n",
    );
    expect(await json(res)).toEqual({ batchId, added: 1, duplicates: 1, suppressed: 1, totalCalls: 2, status: "draft" });
    expect(await ledgerQuery(batchId, "SELECT seq, phone_number, numbers FROM calls ORDER BY seq")).toEqual([
      { seq: 0, phone_number: "+12125550101", numbers: '["+12125550101","+12125550109"]' },
      { seq: 1, phone_number: "+12125550132", numbers: '["+12125550132","+12125550133"]' },
    ]);
  });

  it("an append that adds nothing (all duplicates) is a 201 with added 0", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const res = await append(ws, batchId, CSV);
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ batchId, added: 0, duplicates: 2, suppressed: 0, totalCalls: 2, status: "draft" });
    await expectTotal(ws, batchId, 2);
  });

  it("refuses a completed or cancelled batch with a 409 naming the states that allow it, and stores nothing", async () => {
    const ws = await limited();
    const { batchId: done } = await completedWithRetryable(ws);
    const res = await append(ws, done, "phone_number\n+12125550141\n");
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ code: "invalid_transition", error: expect.stringContaining(`${ALLOWED}; this batch is completed`) });
    expect(await callCount(done)).toBe(3);

    const { batchId: cancelled } = await uploaded(ws, CSV);
    expect((await call(`/v1/api/batch-calls/${cancelled}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    const again = await append(ws, cancelled, "phone_number,first_name\n+12125550141,Hal\n");
    expect(again.status).toBe(409);
    expect((await json(again)).error).toContain(`${ALLOWED}; this batch is cancelled`);
    await expectTotal(ws, cancelled, 2);
    const row = await env.DB.prepare("SELECT csv_key FROM batches WHERE id = ?1").bind(cancelled).first<{ csv_key: string }>();
    const stored = await env.CSV_BUCKET.list({ prefix: row!.csv_key });
    expect(stored.objects.map((o) => o.key)).toEqual([row!.csv_key]);
  });

  it("another workspace's batch, and one that does not exist, are 404", async () => {
    const owner = await limited();
    const other = await limited();
    const { batchId } = await uploaded(owner, CSV, { start: "false" });
    const res = await append(other, batchId, "phone_number,first_name\n+12125550151,Ida\n");
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "batch_not_found", error: `Batch ${batchId} does not exist in this workspace.` });
    expect((await append(owner, "batch_nope", "phone_number\n+12125550151\n")).status).toBe(404);
    await expectTotal(owner, batchId, 2);
  });

  it("refuses a header that is not the batch's columns, naming the missing and the extra ones", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const missing = await append(ws, batchId, "phone_number\n+12125550161\n");
    expect(missing.status).toBe(400);
    expect((await json(missing)).error).toBe(
      `The file's header must name the batch's columns, in any order: it lacks "first_name". The batch's columns are "phone_number", "first_name".`,
    );
    const extra = await append(ws, batchId, "phone_number,First Name,city\n+12125550161,Jo,Oslo\n");
    expect(extra.status).toBe(400);
    expect((await json(extra)).error).toContain(`it has "city", which the batch does not`);
    const both = await append(ws, batchId, "phone_number,city\n+12125550161,Oslo\n");
    expect((await json(both)).error).toContain(`it lacks "first_name", and it has "city", which the batch does not`);
    await expectTotal(ws, batchId, 2);
  });

  it("refuses a file with a bad row with its line in the appended file, adding nothing; an empty file and a bare header too", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const bad = await append(ws, batchId, "phone_number,first_name\n+12125550171,Kim\nnot a number,Lee\n");
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body).toMatchObject({ code: "csv_invalid", details: [{ row: 3, column: "phone_number", value: "not a number" }] });
    expect(body.error).toMatch(/^1 row\(s\) are invalid, so no row was added\. The first is on line 3 \(phone_number\)/);
    const empty = await append(ws, batchId, "");
    expect(empty.status).toBe(400);
    expect(await json(empty)).toMatchObject({ code: "csv_invalid", error: expect.stringContaining("The CSV cannot be read") });
    const bare = await append(ws, batchId, "phone_number,first_name\n");
    expect(await json(bare)).toMatchObject({ code: "csv_invalid", error: "The CSV has a header but no data rows." });
    await expectTotal(ws, batchId, 2);
  });

  it("takes only the file: no file part, or another field, is a 400", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    expect(await json(await append(ws, batchId, null))).toMatchObject({ code: "missing_file" });
    const extra = await append(ws, batchId, "phone_number,first_name\n+12125550181,Mo\n", {}, { agentId: ws.agentId });
    expect(extra.status).toBe(400);
    expect(await json(extra)).toMatchObject({
      code: "validation_failed",
      error: expect.stringContaining("Send only the file field: agentId is not taken here"),
    });
    await expectTotal(ws, batchId, 2);
  });

  it("the same Idempotency-Key twice adds once and replays the first answer; with another file it is a 422", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const more = "phone_number,first_name\n+12125550191,Ned\n+12125550192,Ola\n";
    const first = await append(ws, batchId, more, { "idempotency-key": "append-1" });
    expect(first.status).toBe(201);
    const answer = await json(first);
    expect(answer).toEqual({ batchId, added: 2, duplicates: 0, suppressed: 0, totalCalls: 4, status: "draft" });
    const second = await append(ws, batchId, more, { "idempotency-key": "append-1" });
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(second)).toEqual(answer);
    await expectTotal(ws, batchId, 4);
    const other = await append(ws, batchId, "phone_number,first_name\n+12125550193,Pia\n", { "idempotency-key": "append-1" });
    expect(other.status).toBe(422);
    // The same key and file for another batch is another payload too.
    const { batchId: next } = await uploaded(ws, CSV, { start: "false" });
    expect((await append(ws, next, more, { "idempotency-key": "append-1" })).status).toBe(422);
    await expectTotal(ws, next, 2);
  });

  it("a retry whose first request died after the object added the rows adds nothing again (the object knows the key)", async () => {
    const ws = await limited();
    const { batchId } = await uploaded(ws, CSV, { start: "false" });
    const more = "phone_number,first_name\n+12125550195,Quin\n";
    expect((await append(ws, batchId, more, { "idempotency-key": "crash-1" })).status).toBe(201);
    // As if the Worker died before completing the key: its lease ran out, and the retry takes the key over.
    await env.DB.prepare("UPDATE idempotency_keys SET state = 'running', created_at = 0 WHERE workspace_id = ?1 AND key = 'crash-1'")
      .bind(ws.workspaceId)
      .run();
    const retry = await append(ws, batchId, more, { "idempotency-key": "crash-1" });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await json(retry)).toEqual({ batchId, added: 1, duplicates: 0, suppressed: 0, totalCalls: 3, status: "draft" });
    await expectTotal(ws, batchId, 3);
  });
});

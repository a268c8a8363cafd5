import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SAMPLE_EVERY } from "../../../src/durable/batch/page-keys";
import { ledgerQuery } from "../../engine-helpers";
import { authHeaders, call, csvForm, json, newWorkspace } from "../../helpers";

const number = (i: number) => `+1212555${String(1000 + i)}`;

function rows(from: number, to: number): string {
  const lines = ["phone_number,first_name"];
  for (let i = from; i < to; i++) lines.push(`${number(i)},P${i}`);
  return lines.join("\n");
}

const seqOf = (jobId: string) => Number(jobId.split("_").at(-1));

describe("the batch object's pages of calls", () => {
  it("starts a deep page from a key, says whether a next page exists, and keeps doing so after rows are appended", async () => {
    const ws = await newWorkspace();
    // Every 10th number listed: the seqs have gaps, so page n cannot be seq n·limit.
    const listed = Array.from({ length: 80 }, (_, k) => number(k * 10 + 3));
    const dnc = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: listed }),
    });
    expect(dnc.status).toBe(201);
    const up = await call("/v1/api/batch-calls", {
      method: "POST",
      headers: authHeaders(ws),
      body: csvForm(rows(0, 800), { agentId: ws.agentId, start: "false" }),
    });
    expect(up.status).toBe(201);
    const { batchId } = await json(up);
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    const ledger = async (offset: number, limit: number) =>
      (await ledgerQuery<{ seq: number }>(batchId, "SELECT seq FROM calls ORDER BY seq LIMIT ? OFFSET ?", limit, offset)).map((r) => r.seq);

    const deep = (await stub.listCalls(null, 50, SAMPLE_EVERY + 30, undefined, null))!;
    expect(deep.calls.map((c) => seqOf(c.jobId))).toEqual(await ledger(SAMPLE_EVERY + 30, 50));
    expect(deep.next).toBe(seqOf(deep.calls.at(-1)!.jobId));
    // By key: the calls after a seq, the offset ignored.
    const after = (await stub.listCalls(null, 50, 999_999, undefined, null, deep.next))!;
    expect(after.calls.map((c) => seqOf(c.jobId))).toEqual(await ledger(SAMPLE_EVERY + 80, 50));
    const end = (await stub.listCalls(null, 100, 700, undefined, null))!;
    expect([end.calls.length, end.next]).toEqual([20, null]);

    // Rows appended after the last: the deep pages that reach them are read again from the new rows.
    const appended = await call(`/v1/api/batch-calls/${batchId}/rows`, { method: "POST", headers: authHeaders(ws), body: csvForm(rows(800, 1000)) });
    expect(appended.status).toBe(201);
    expect((await json(appended)).added).toBe(200);
    const grown = (await stub.listCalls(null, 100, 700, undefined, null))!;
    expect(grown.calls.map((c) => seqOf(c.jobId))).toEqual(await ledger(700, 100));
    expect(grown.next).not.toBeNull();
    const last = (await stub.listCalls(null, 100, 900, undefined, null))!;
    expect([last.calls.map((c) => seqOf(c.jobId)), last.next]).toEqual([await ledger(900, 100), null]);
  });
});

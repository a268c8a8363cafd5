import { describe, expect, it } from "vitest";
import { SAMPLE_EVERY } from "../../src/durable/batch/page-keys";
import { ledgerQuery } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace, type TestWorkspace, upload } from "../helpers";

/** Row i calls +1212555 1000+i. */
const number = (i: number) => `+1212555${String(1000 + i)}`;

function people(n: number): string {
  const rows = ["phone_number,first_name"];
  for (let i = 0; i < n; i++) rows.push(`${number(i)},P${i}`);
  return rows.join("\n");
}

const seqOf = (jobId: string) => Number(jobId.split("_").at(-1));

async function get(ws: TestWorkspace, batchId: string, query: string) {
  const res = await call(`/v1/api/batch-calls/${batchId}/calls?${query}`, { headers: authHeaders(ws) });
  expect(res.status).toBe(200);
  return json(res);
}

/** Walks a listing by nextCursor from its first page: every page's seqs, checking each page's size and pagination on the way. */
async function walk(ws: TestWorkspace, batchId: string, filter: string, limit: number): Promise<number[][]> {
  const pages: number[][] = [];
  let body = await get(ws, batchId, `${filter}&limit=${limit}`);
  for (;;) {
    expect(body.calls.length).toBeLessThanOrEqual(limit);
    pages.push(body.calls.map((c: any) => seqOf(c.jobId)));
    if (body.nextCursor === null) return pages;
    expect(body.calls).toHaveLength(limit);
    body = await get(ws, batchId, `${filter}&limit=${limit}&after=${encodeURIComponent(body.nextCursor)}`);
    expect(body.pagination).toMatchObject({ page: 0, limit, hasPrev: true, hasNext: body.nextCursor !== null });
    expect(pages.length).toBeLessThan(100);
  }
}

/** The seqs a listing holds, from the ledger itself. */
async function ledgerSeqs(batchId: string, where: string, limit = -1, offset = 0): Promise<number[]> {
  const rows = await ledgerQuery<{ seq: number }>(batchId, `SELECT seq FROM calls ${where} ORDER BY seq LIMIT ? OFFSET ?`, limit, offset);
  return rows.map((r) => r.seq);
}

/**
 * 2,000 rows, every 20th on the do-not-call list (the seqs have gaps), then
 * a mix of statuses and dispositions written straight into the ledger (the
 * counters' triggers keep the counts): deep pages of every listing.
 */
async function mixedBatch() {
  const ws = await newWorkspace();
  const listed = Array.from({ length: 100 }, (_, k) => number(k * 20 + 7));
  const dnc = await call("/v1/api/dnc", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ phoneNumbers: listed }),
  });
  expect(dnc.status).toBe(201);
  const up = await upload(ws, people(2000));
  expect(up.status).toBe(201);
  const { batchId, totalCalls } = await json(up);
  expect(totalCalls).toBe(1900);
  await get(ws, batchId, "limit=1"); // the ledger holds the file from here on
  await ledgerQuery(batchId, "UPDATE calls SET status = 'completed', outcome = 'answered' WHERE seq % 3 <> 2");
  await ledgerQuery(batchId, "UPDATE calls SET status = 'failed', outcome = 'busy' WHERE seq % 7 = 1");
  await ledgerQuery(batchId, "UPDATE calls SET disposition = 'booked' WHERE seq % 2 = 0");
  return { ws, batchId };
}

const LISTINGS: [query: string, where: string][] = [
  ["status=all", ""],
  ["status=completed", "WHERE status = 'completed'"],
  ["status=waiting", "WHERE status = 'waiting'"],
  ["disposition=booked", "WHERE disposition = 'booked'"],
];

describe("GET …/calls by cursor", () => {
  it("walks every call once, in file order: unfiltered, by status and by disposition", async () => {
    const { ws, batchId } = await mixedBatch();
    for (const [query, where] of LISTINGS) {
      const pages = await walk(ws, batchId, query, 100);
      expect(pages.flat(), query).toEqual(await ledgerSeqs(batchId, where));
    }
  }, 60_000);

  it("page/limit answers are what OFFSET gives, deep pages too, and stay so after calls change status", async () => {
    const { ws, batchId } = await mixedBatch();
    const check = async () => {
      for (const [query, where] of LISTINGS) {
        const matching = await ledgerSeqs(batchId, where);
        const total = matching.length;
        expect(total, query).toBeGreaterThan(SAMPLE_EVERY);
        for (const [page, limit] of [
          [1, 100],
          [6, 100],
          [7, 100],
          [Math.ceil(total / 100), 100],
          [40, 100],
          [17, 37],
          [SAMPLE_EVERY + 1, 1],
        ] as const) {
          const body = await get(ws, batchId, `${query}&page=${page}&limit=${limit}`);
          const expected = matching.slice((page - 1) * limit, page * limit);
          expect(
            body.calls.map((c: any) => seqOf(c.jobId)),
            `${query} page ${page}`,
          ).toEqual(expected);
          expect(body.pagination).toEqual({
            page,
            limit,
            total,
            totalPages: Math.ceil(total / limit),
            hasNext: page < Math.ceil(total / limit),
            hasPrev: page > 1,
          });
          // The cursor given in page mode resumes after this page's last call.
          expect(body.nextCursor === null).toBe(page * limit >= total);
        }
      }
    };
    await check();
    // Calls leave and join the filtered listings: what a deep page remembered must not outlive it.
    await ledgerQuery(batchId, "UPDATE calls SET status = 'waiting', outcome = NULL WHERE status = 'completed' AND seq < 300");
    await ledgerQuery(batchId, "UPDATE calls SET disposition = NULL WHERE seq % 4 = 0 AND seq < 600");
    await check();
  }, 60_000);

  it("a batch without gaps in its seqs pages the same way", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, people(1100)));
    const deep = await get(ws, batchId, "page=10&limit=100");
    expect(deep.calls.map((c: any) => seqOf(c.jobId))).toEqual(Array.from({ length: 100 }, (_, i) => 900 + i));
    const last = await get(ws, batchId, "page=11&limit=100");
    expect([last.calls.length, last.nextCursor]).toEqual([100, null]);
    expect((await get(ws, batchId, "page=12&limit=100")).calls).toEqual([]);
    expect((await walk(ws, batchId, "status=all", 100)).flat()).toEqual(Array.from({ length: 1100 }, (_, i) => i));
  });

  it("a full last page has no next cursor, and the limit holds in both modes", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, people(6)));
    const pages = await walk(ws, batchId, "status=all", 3);
    expect(pages).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect((await walk(ws, batchId, "status=all", 1)).flat()).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await get(ws, batchId, "limit=100")).nextCursor).toBeNull();
    // A cursor at the last call: an empty page, no cursor after it.
    const first = await get(ws, batchId, "limit=5");
    const end = await get(ws, batchId, `limit=5&after=${encodeURIComponent(first.nextCursor)}`);
    expect([end.calls.map((c: any) => seqOf(c.jobId)), end.nextCursor, end.pagination.hasNext]).toEqual([[5], null, false]);
  });

  it("refuses, with a sentence, a cursor that is not one, or is another batch's or another listing's", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, people(4)));
    const { batchId: other } = await json(await upload(ws, people(4)));
    const mine = (await get(ws, batchId, "limit=1")).nextCursor as string;
    const theirs = (await get(ws, other, "limit=1")).nextCursor as string;
    const waiting = (await get(ws, batchId, "status=waiting&limit=1")).nextCursor as string;
    expect(mine).toEqual(expect.any(String));
    const tampered = mine.replace(/^c1\.[0-9a-z]+\./, "c1.2.");
    for (const [query, why] of [
      [`after=${encodeURIComponent(theirs)}`, "another batch's cursor"],
      [`after=${encodeURIComponent(waiting)}`, "another listing's cursor"],
      [`status=failed&after=${encodeURIComponent(mine)}`, "another listing's cursor"],
      [`after=${encodeURIComponent(tampered)}`, "an edited cursor"],
      ["after=nope", "not a cursor"],
      ["after=c1.zzzzzzzzzzzzz.1", "not a cursor"],
    ]) {
      const res = await call(`/v1/api/batch-calls/${batchId}/calls?${query}`, { headers: authHeaders(ws) });
      expect(res.status, why).toBe(400);
      expect(await json(res), why).toMatchObject({ code: "bad_request", error: expect.stringMatching(/^after is not a cursor of this listing: .+\.$/) });
    }
    const both = await call(`/v1/api/batch-calls/${batchId}/calls?page=2&after=${encodeURIComponent(mine)}`, { headers: authHeaders(ws) });
    expect(both.status).toBe(400);
    expect((await json(both)).error).toMatch(/^Give page or after, not both/);
    const empty = await call(`/v1/api/batch-calls/${batchId}/calls?after=`, { headers: authHeaders(ws) });
    expect([empty.status, (await json(empty)).code]).toEqual([400, "validation_failed"]);
    // The right listing takes it: the call after the first.
    expect((await get(ws, batchId, `limit=1&after=${encodeURIComponent(mine)}`)).calls.map((c: any) => seqOf(c.jobId))).toEqual([1]);
    expect((await get(ws, batchId, `status=waiting&limit=1&after=${encodeURIComponent(waiting)}`)).calls).toHaveLength(1);
  });
});

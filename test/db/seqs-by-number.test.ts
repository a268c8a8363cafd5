import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingSql } from "../engine-helpers";

const nth = (i: number) => `+1212555${String(i).padStart(4, "0")}`;

describe("a cancel by number (SeqsByNumber)", () => {
  it("reads only the calls that give the number, by key, once the ledger was walked once — appended calls included", async () => {
    const out = await runInDurableObject(env.BATCH_SCHEDULER.getByName("batch_test_seqs_by_number"), async (_o, state) => {
      const { CallLedger } = await import("../../src/db/call-ledger");
      const { sql, cursors } = recordingSql(state.storage.sql);
      /** Rows read by the statements `step` sends. */
      const rowsReadBy = <T>(step: () => T): { value: T; rowsRead: number } => {
        const from = cursors.length;
        const value = step();
        return { value, rowsRead: cursors.slice(from).reduce((n, c) => n + c.rowsRead, 0) };
      };
      const ledger = new CallLedger(sql);
      ledger.createBatch("processing");
      ledger.setSuppressed([]);
      // 2,000 calls with one number; seq 2000 gives two, its second being seq 7's.
      const slice: unknown[] = Array.from({ length: 2000 }, (_, i) => [i, nth(i), []]);
      slice.push([2000, nth(5000), [], [nth(5000), nth(7)]]);
      ledger.insertSlice(JSON.stringify(slice));
      const status = (seq: number) => String(state.storage.sql.exec("SELECT status FROM calls WHERE seq = ?", seq).one().status);

      const first = rowsReadBy(() => ledger.cancelNumbers([nth(3)], "opted out", 1));
      const second = rowsReadBy(() => ledger.cancelNumbers([nth(7)], "opted out", 2));
      const nobody = rowsReadBy(() => ledger.cancelNumbers(["+13125550000"], "opted out", 3));
      // A call appended after the walk (its seq after every other) is found too.
      ledger.insertSlice(JSON.stringify([[2001, nth(6000), []]]));
      const appended = rowsReadBy(() => ledger.cancelNumbers([nth(6000)], "opted out", 4));
      return {
        first: { cancelled: first.value.cancelled, rowsRead: first.rowsRead },
        second: { cancelled: second.value.cancelled, rowsRead: second.rowsRead },
        nobody: { cancelled: nobody.value.cancelled, rowsRead: nobody.rowsRead },
        appended: { cancelled: appended.value.cancelled, rowsRead: appended.rowsRead },
        statuses: [3, 7, 2000, 2001, 4].map(status),
      };
    });
    // The first cancel walks the ledger once (2,001 calls); after that only the max seq, the few rows by key and
    // what the counters' trigger reads for a status change (~20 rows) — the same at 2,000 calls as at 200,000.
    expect(out.first.cancelled).toBe(1);
    expect(out.first.rowsRead).toBeGreaterThan(2000);
    expect(out.second).toEqual({ cancelled: 1, rowsRead: expect.any(Number) });
    expect(out.second.rowsRead).toBeLessThanOrEqual(50);
    expect(out.nobody.cancelled).toBe(0);
    expect(out.nobody.rowsRead).toBeLessThanOrEqual(2);
    expect(out.appended.cancelled).toBe(1);
    expect(out.appended.rowsRead).toBeLessThanOrEqual(50);
    // The recipient with two numbers keeps its call (its other number is still callable); the rest are untouched.
    expect(out.statuses).toEqual(["cancelled", "cancelled", "waiting", "cancelled", "waiting"]);
  });
});

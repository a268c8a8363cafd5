/**
 * Rows appended to a batch after its file (POST …/rows): which of the
 * appended numbers the batch already holds, the inserts, the counters they
 * raise and the record of each append's key. The ledger's migrations (run
 * by CallLedger, which the object opens first) create the `appends` table.
 * Every method is synchronous: the object runs them inside one transaction.
 */
import { one } from "./rows";

/** What an append added and left out, as recorded under its key. */
export type AppendRecord = { firstSeq: number; added: number; duplicates: number; suppressed: number };

export class AppendLedger {
  constructor(private readonly sql: SqlStorage) {}

  /** The append already committed under `key`, or null. */
  recorded(key: string): AppendRecord | null {
    return one<AppendRecord>(this.sql, "SELECT first_seq AS firstSeq, added, duplicates, suppressed FROM appends WHERE key = ?", key);
  }

  /**
   * Which of `numbersJson` (a JSON array of E.164 numbers) a call of the
   * batch has, as its phone_number or as one of its other numbers (any
   * status): one pass over the calls, with no index on numbers (an index
   * would cost a row written per call for every batch, appended to or not).
   * SQLite builds a transient index over the small list and probes it once
   * per number of each call.
   */
  numbersHeld(numbersJson: string): string[] {
    return this.sql
      .exec<{ n: string }>(
        `SELECT DISTINCT j.value AS n FROM calls, json_each(coalesce(calls.numbers, json_array(calls.phone_number))) AS j
           WHERE j.value IN (SELECT value FROM json_each(?))`,
        numbersJson,
      )
      .toArray()
      .map((r) => r.n);
  }

  /** The seq the next appended row takes: after every call's, so the first-attempt cursor reaches them in file order. */
  nextSeq(): number {
    return Number(one<{ s: number | null }>(this.sql, "SELECT max(seq) AS s FROM calls")?.s ?? -1) + 1;
  }

  /** Inserts a slice of new calls: `[seq, e164, values]` or `[seq, e164, values, numbers]` entries whose seqs no call has (a clash throws). */
  insert(sliceJson: string): void {
    this.sql.exec(
      `INSERT INTO calls (seq, phone_number, metadata, numbers)
         SELECT j.value ->> 0, j.value ->> 1, j.value -> 2, j.value -> 3 FROM json_each(?) AS j`,
      sliceJson,
    );
  }

  /**
   * Raises the batch's total and its waiting calls by `added` (inserts do
   * not pass the counters' trigger, which follows status changes) and
   * records the append under `key`; the version bump tells the object its
   * D1 summary is behind.
   */
  commit(key: string, r: AppendRecord, at: number): void {
    this.sql.exec("UPDATE batch SET total_calls = total_calls + ?1, waiting_count = waiting_count + ?1, version = version + 1 WHERE id = 1", r.added);
    this.sql.exec(
      "INSERT INTO appends (key, first_seq, added, duplicates, suppressed, at) VALUES (?, ?, ?, ?, ?, ?)",
      key,
      r.firstSeq,
      r.added,
      r.duplicates,
      r.suppressed,
      at,
    );
  }
}

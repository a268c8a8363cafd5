/**
 * A batch's test calls, in its object's SQLite beside the calls (the
 * `test_calls` table of schema.ts): each one attempt to the operator's own
 * number with the variables of one of the batch's rows. Nothing here writes
 * the `calls` table or the `batch` row, so no trigger counts a test call in
 * the batch's counters, version or summary. Transitions are conditional on
 * the status they expect, so a replayed report changes nothing.
 */
import { MAX_TEST_CALLS, TEST_SEQ_BASE } from "../../domain/test-call";
import { mergedResult, type ResultFields, type StoredResult } from "./results";
import { changed, one, type CallRow } from "./rows";

export type TestCallStatus = "active" | "completed" | "failed" | "cancelled";

/** A test_calls row as SQLite returns it; `result` is a StoredResult as JSON, or null. */
export type TestCallRow = {
  seq: number;
  row_number: number;
  to_number: string;
  from_number: string | null;
  /** The JSON array of the batch row's values, as its call keeps them. */
  metadata: string;
  /** JSON object: the variables the call was dialled with. */
  variables: string;
  status: TestCallStatus;
  outcome: string | null;
  start_time: number;
  end_time: number | null;
  duration: number | null;
  error: string | null;
  provider_call_id: string | null;
  result: string | null;
};

export type NewTestCall = { row: number; to: string; from: string | null; metadata: string; variables: Record<string, string>; at: number };

export type TestCallEnd = { status: Exclude<TestCallStatus, "active">; outcome: string; endTime: number; duration: number | null; error: string | null };

export class TestCallLedger {
  constructor(private readonly sql: SqlStorage) {}

  get(seq: number): TestCallRow | null {
    return one<TestCallRow>(this.sql, "SELECT * FROM test_calls WHERE seq = ?", seq);
  }

  /** Newest first. */
  list(): TestCallRow[] {
    return this.sql.exec<TestCallRow>("SELECT * FROM test_calls ORDER BY seq DESC").toArray();
  }

  count(): number {
    return Number(one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM test_calls")?.n ?? 0);
  }

  /** The batch's `n`th call in file order (1 = its first), and how many it has: the row a test call takes its variables from. */
  nthCall(n: number): { call: CallRow | null; calls: number } {
    const calls = Number(one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM calls")?.n ?? 0);
    const call = n <= calls ? one<CallRow>(this.sql, "SELECT * FROM calls ORDER BY seq LIMIT 1 OFFSET ?", n - 1) : null;
    return { call, calls };
  }

  /** Adds the next test call (active from `at`), or null when the batch has had MAX_TEST_CALLS. Run it inside the step that checked the batch. */
  add(t: NewTestCall): TestCallRow | null {
    const n = this.count();
    if (n >= MAX_TEST_CALLS) return null;
    const seq = TEST_SEQ_BASE + n + 1;
    this.sql.exec(
      `INSERT INTO test_calls (seq, row_number, to_number, from_number, metadata, variables, status, start_time)
       VALUES (?, ?, ?, ?, ?, ?, 'active', ?)`,
      seq,
      t.row,
      t.to,
      t.from,
      t.metadata,
      JSON.stringify(t.variables),
      t.at,
    );
    return this.get(seq);
  }

  /** The provider took the call (or a report named it): its call id kept. */
  confirm(seq: number, providerCallId: string | undefined): void {
    if (providerCallId) this.sql.exec("UPDATE test_calls SET provider_call_id = ? WHERE seq = ? AND status = 'active'", providerCallId, seq);
  }

  /** A note on an active call (a dial whose answer was lost); it stays active until a report or its lease settles it. */
  note(seq: number, error: string): void {
    this.sql.exec("UPDATE test_calls SET error = ? WHERE seq = ? AND status = 'active'", error, seq);
  }

  /** Ends an active test call; false if it had already ended (a replayed report). */
  finish(seq: number, end: TestCallEnd): boolean {
    return changed(
      this.sql,
      "UPDATE test_calls SET status = ?, outcome = ?, end_time = ?, duration = ?, error = ? WHERE seq = ? AND status = 'active'",
      end.status,
      end.outcome,
      end.endTime,
      end.duration,
      end.error,
      seq,
    );
  }

  /** Active test calls started before `before`: their reports are overdue. */
  overdue(before: number): TestCallRow[] {
    return this.sql.exec<TestCallRow>("SELECT * FROM test_calls WHERE status = 'active' AND start_time < ?", before).toArray();
  }

  /**
   * Merges an agent's report into the test call's result by the batch
   * ledger's rules (absent fields keep their value, `data` merges by name,
   * an opt-out stays); a report that changes nothing writes nothing.
   */
  mergeResult(seq: number, f: ResultFields, now: number): { result: StoredResult; changed: boolean } | null {
    const row = this.get(seq);
    if (!row) return null;
    const prev = row.result ? (JSON.parse(row.result) as StoredResult) : null;
    const merged = mergedResult(prev, f, seq, 1, now);
    if (!merged) return { result: prev!, changed: false };
    // A test call never schedules a callback: the operator is not a recipient.
    const next: StoredResult = { ...merged, callback_state: merged.callback_at !== null ? "ignored" : null };
    this.sql.exec("UPDATE test_calls SET result = ? WHERE seq = ?", JSON.stringify(next), seq);
    return { result: next, changed: true };
  }
}

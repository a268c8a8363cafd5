/**
 * The batch row (status, counters, times), materialising the calls, and
 * the changes that touch every call of a batch. The bodies of CallLedger's
 * methods of the same names, as free functions of the ledger's SqlStorage.
 * Each is documented on the method, the surface its callers read.
 */
import type { BatchStatus } from "../../domain/vocabulary";
import { changed, type LedgerBatch, one } from "./rows";

// ---- the batch row ------------------------------------------------------

export function createBatch(sql: SqlStorage, status: BatchStatus): void {
  sql.exec("INSERT OR IGNORE INTO batch (id, status) VALUES (1, ?)", status);
}

export function batch(sql: SqlStorage): LedgerBatch | null {
  return one<LedgerBatch>(sql, "SELECT * FROM batch WHERE id = 1");
}

export type StatusExtra = {
  completedTime?: number | null;
  passPlusOne?: boolean;
  /** Why the batch is paused (null: it is not); with `autoPause` the pause is one of its own rules', to be announced. */
  pausedReason?: string | null;
  autoPause?: boolean;
};

export function setStatus(sql: SqlStorage, from: BatchStatus[], to: BatchStatus, extra: StatusExtra): boolean {
  const sets = ["status = ?", "version = version + 1"];
  const params: SqlStorageValue[] = [to];
  if (extra.completedTime !== undefined) {
    sets.push("completed_time = ?");
    params.push(extra.completedTime);
  }
  if (extra.pausedReason !== undefined) {
    sets.push("paused_reason = ?");
    params.push(extra.pausedReason);
  }
  if (extra.autoPause) sets.push("auto_pauses = auto_pauses + 1");
  if (extra.passPlusOne) sets.push("pass = pass + 1");
  const marks = from.map(() => "?").join(", ");
  return changed(sql, `UPDATE batch SET ${sets.join(", ")} WHERE id = 1 AND status IN (${marks})`, ...params, ...from);
}

// ---- materialising ------------------------------------------------------

export function insertSlice(sql: SqlStorage, sliceJson: string): number {
  return sql.exec(
    `INSERT OR IGNORE INTO calls (seq, phone_number, metadata, numbers)
       SELECT j.value ->> 0, j.value ->> 1, j.value -> 2, j.value -> 3 FROM json_each(?) AS j
       WHERE NOT EXISTS (SELECT 1 FROM suppressed WHERE suppressed.seq = j.value ->> 0)`,
    sliceJson,
  ).rowsWritten;
}

export function setSuppressed(sql: SqlStorage, seqs: number[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS suppressed (seq INTEGER PRIMARY KEY)");
  sql.exec("INSERT OR IGNORE INTO suppressed (seq) SELECT value FROM json_each(?)", JSON.stringify(seqs));
}

export function countCalls(sql: SqlStorage): number {
  return Number(one<{ n: number }>(sql, "SELECT count(*) AS n FROM calls")?.n ?? 0);
}

export function setTotals(sql: SqlStorage, total: number): void {
  sql.exec("UPDATE batch SET total_calls = ?1, waiting_count = ?1, version = version + 1 WHERE id = 1", total);
}

// ---- batch-wide changes ---------------------------------------------------

export function cancelWaiting(sql: SqlStorage): { seq: number; attempt: number }[] {
  const dispatched = sql
    .exec<{ seq: number; attempt: number }>(
      "SELECT seq, dispatched_attempt AS attempt FROM calls INDEXED BY calls_dispatched WHERE status = 'waiting' AND dispatched_attempt > attempts",
    )
    .toArray();
  sql.exec("UPDATE calls SET status = 'cancelled', error = 'batch cancelled', due_at = 0, next_attempt_at = NULL WHERE status = 'waiting'");
  return dispatched;
}

export function hasRetryable(sql: SqlStorage, outcomes: readonly string[]): boolean {
  const marks = outcomes.map(() => "?").join(", ");
  return one(sql, `SELECT 1 AS x FROM calls WHERE status = 'failed' AND outcome IN (${marks}) LIMIT 1`, ...outcomes) !== null;
}

export function requeue(sql: SqlStorage, outcomes: readonly string[]): number {
  const marks = outcomes.map(() => "?").join(", ");
  return sql
    .exec(
      `UPDATE calls SET status = 'waiting', due_at = 0, next_attempt_at = NULL, pass_base = attempts, dispatched_attempt = attempts, error = NULL
         WHERE status = 'failed' AND outcome IN (${marks}) RETURNING seq`,
      ...outcomes,
    )
    .toArray().length;
}

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

/**
 * The batch row. A cancelled batch's waiting calls are cancelled calls not
 * yet written so (a cancel writes them in slices: settleCancelled) — no
 * claim can take one, claims need a processing batch — so they read as
 * cancelled: the counters are exact from the cancel's answer on, and
 * settling changes none of them.
 */
export function batch(sql: SqlStorage): LedgerBatch | null {
  const b = one<LedgerBatch>(sql, "SELECT * FROM batch WHERE id = 1");
  if (b?.status !== "cancelled" || b.waiting_count === 0) return b;
  return { ...b, cancelled_count: b.cancelled_count + b.waiting_count, waiting_count: 0 };
}

/** The batch row's status, version and live counts, as batch() reads them. */
export type BatchHead = Pick<LedgerBatch, "status" | "version" | "waiting_count" | "active_count">;

/** batch() narrowed to its head: the hot paths' read, which makes 4 columns into an object, not ~30. */
export function head(sql: SqlStorage): BatchHead | null {
  const h = one<BatchHead>(sql, "SELECT status, version, waiting_count, active_count FROM batch WHERE id = 1");
  return h?.status === "cancelled" && h.waiting_count > 0 ? { ...h, waiting_count: 0 } : h;
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

/**
 * A cancel's first step: the waiting calls that hold a dispatched job (the
 * ledger's in-flight list: a few, bounded by what was admitted) are cancelled now and returned,
 * so their reservations are freed at once; the other waiting calls settle
 * in slices (settleCancelled) and count as cancelled meanwhile (batch()).
 */
export function cancelWaiting(sql: SqlStorage, inFlight: { seq: number }[]): { seq: number; attempt: number }[] {
  if (inFlight.length === 0) return [];
  return sql
    .exec<{ seq: number; attempt: number }>(
      `UPDATE calls SET status = 'cancelled', error = 'batch cancelled', due_at = 0, next_attempt_at = NULL
         WHERE seq IN (SELECT value FROM json_each(?)) AND status = 'waiting' AND dispatched_attempt > attempts
         RETURNING seq, dispatched_attempt AS attempt`,
      JSON.stringify(inFlight.map((j) => j.seq)),
    )
    .toArray();
}

/** Cancelled calls still written as waiting: a cancelled batch's waiting calls, 0 for any other batch. */
export function unsettled(sql: SqlStorage): number {
  const b = one<{ status: BatchStatus; n: number }>(sql, "SELECT status, waiting_count AS n FROM batch WHERE id = 1");
  return b?.status === "cancelled" ? Number(b.n) : 0;
}

/**
 * Writes up to `limit` of a cancelled batch's waiting calls after `afterSeq`
 * as cancelled, in file order (the caller passes the last slice's
 * `lastSeq`, so each slice walks on from where the previous one ended, not
 * over the settled calls again; -1 to start over) (one statement: the counters trigger moves each from waiting
 * to cancelled, which batch() already read it as); nothing in any other
 * batch. Returns how many, and those that held a dispatched job (a call a
 * job handed back after the cancel): their reservations are free.
 */
export function settleCancelled(
  sql: SqlStorage,
  limit: number,
  afterSeq: number,
): { settled: number; lastSeq: number; dispatched: { seq: number; attempt: number }[] } {
  const rows = sql
    .exec<{ seq: number; attempt: number; held: number }>(
      `UPDATE calls SET status = 'cancelled', error = 'batch cancelled', due_at = 0, next_attempt_at = NULL
         WHERE seq IN (SELECT seq FROM calls WHERE seq > ?2 AND status = 'waiting' ORDER BY seq LIMIT ?1)
           AND (SELECT status FROM batch WHERE id = 1) = 'cancelled'
         RETURNING seq, dispatched_attempt AS attempt, dispatched_attempt > attempts AS held`,
      limit,
      afterSeq,
    )
    .toArray();
  const lastSeq = rows.reduce((m, r) => Math.max(m, r.seq), afterSeq);
  return { settled: rows.length, lastSeq, dispatched: rows.filter((r) => r.held).map((r) => ({ seq: r.seq, attempt: r.attempt })) };
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

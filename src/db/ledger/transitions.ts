/**
 * One attempt's transitions: claim, confirm, settle, hand back or close.
 * Each is one conditional statement on the state it expects (status,
 * attempt numbers), so a replayed job or a late report changes nothing.
 * The bodies of CallLedger's methods of the same names, as free functions
 * of the ledger's SqlStorage.
 * Each is documented on the method, the surface its callers read.
 */
import type { CallStatus } from "../../domain/vocabulary";
import { changed, isoMs, one } from "./rows";

export function claim(sql: SqlStorage, seq: number, attempt: number, startedAt: number, leaseExpiresAt: number, from: string | null): boolean {
  // The batch row's status and start alone: a claim is per call, and the whole row is ~30 columns.
  const b = one<{ status: string; start_time: number | null }>(sql, "SELECT status, start_time FROM batch WHERE id = 1");
  if (b?.status !== "processing") return false;
  const ok = changed(
    sql,
    `UPDATE calls SET status = 'active', attempts = ?2, outcome = NULL, error = NULL, provider_call_id = NULL, dial_confirmed = 0,
         start_time = ?3, end_time = NULL, duration = NULL, next_attempt_at = NULL, lease_expires_at = ?4, dial_from = ?5, wait_reason = NULL
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
    seq,
    attempt,
    startedAt,
    leaseExpiresAt,
    from,
  );
  // Once: an UPDATE that matches writes its row even when nothing changes (and the read above says when it would match).
  if (ok && b.start_time === null) sql.exec("UPDATE batch SET start_time = ? WHERE id = 1 AND start_time IS NULL", startedAt);
  return ok;
}

export function unclaim(sql: SqlStorage, seq: number, attempt: number): boolean {
  return changed(
    sql,
    `UPDATE calls SET status = 'waiting', attempts = ?2 - 1, lease_expires_at = NULL, start_time = NULL
       WHERE seq = ?1 AND status = 'active' AND attempts = ?2 AND provider_call_id IS NULL`,
    seq,
    attempt,
  );
}

export function undispatch(sql: SqlStorage, seq: number, attempt: number): boolean {
  return changed(
    sql,
    `UPDATE calls SET dispatched_attempt = ?2 - 1, due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
    seq,
    attempt,
  );
}

export function closeUndialled(
  sql: SqlStorage,
  seq: number,
  attempt: number,
  status: "cancelled" | "failed",
  outcome: string | null,
  error: string,
  now: number,
): boolean {
  return changed(
    sql,
    `UPDATE calls SET status = ?3, outcome = ?4, error = ?5, end_time = ?6, due_at = 0, next_attempt_at = NULL
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
    seq,
    attempt,
    status,
    outcome,
    error,
    now,
  );
}

export function cancelClaimed(sql: SqlStorage, seq: number, attempt: number, error: string, now: number): boolean {
  return changed(
    sql,
    `UPDATE calls SET status = 'cancelled', outcome = NULL, error = ?3, start_time = NULL, end_time = ?4, lease_expires_at = NULL, due_at = 0,
         next_attempt_at = NULL
       WHERE seq = ?1 AND status = 'active' AND attempts = ?2 AND provider_call_id IS NULL AND dial_confirmed = 0`,
    seq,
    attempt,
    error,
    now,
  );
}

export function closeWaiting(sql: SqlStorage, seq: number, attempts: number, error: string, now: number): boolean {
  return changed(
    sql,
    `UPDATE calls SET status = 'cancelled', error = ?3, end_time = ?4, due_at = 0, next_attempt_at = NULL
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 AND dispatched_attempt = attempts`,
    seq,
    attempts,
    error,
    now,
  );
}

/** `seqs`: the calls that give any of `phones` (SeqsByNumber): only those rows are read, by key. */
export function cancelNumbers(
  sql: SqlStorage,
  phones: string[],
  seqs: number[],
  error: string,
  now: number,
): { cancelled: number; dispatched: { seq: number; attempt: number }[] } {
  const rows = sql
    .exec<{ seq: number; attempt: number; held: number }>(
      `UPDATE calls SET status = 'cancelled', error = ?2, end_time = ?3, due_at = 0, next_attempt_at = NULL
         WHERE seq IN (SELECT value FROM json_each(?4))
           AND status = 'waiting' AND numbers IS NULL AND phone_number IN (SELECT value FROM json_each(?1))
         RETURNING seq, dispatched_attempt AS attempt, dispatched_attempt > attempts AS held`,
      JSON.stringify(phones),
      error,
      now,
      JSON.stringify(seqs),
    )
    .toArray();
  // A recipient with several numbers keeps the others: a job already on the queue for a listed one is taken
  // back (its claim will find nothing), and the next dispatch passes over every listed number.
  const retaken = sql
    .exec<{ seq: number; attempt: number }>(
      `UPDATE calls SET dispatched_attempt = attempts, due_at = max(due_at, 1)
         WHERE seq IN (SELECT value FROM json_each(?2))
           AND status = 'waiting' AND numbers IS NOT NULL AND dispatched_attempt > attempts AND dial_to IN (SELECT value FROM json_each(?1))
         RETURNING seq, dispatched_attempt + 1 AS attempt`,
      JSON.stringify(phones),
      JSON.stringify(seqs),
    )
    .toArray();
  return { cancelled: rows.length, dispatched: [...rows.filter((r) => r.held).map((r) => ({ seq: r.seq, attempt: r.attempt })), ...retaken] };
}

/** A dial confirmed, as confirmDials takes it: the provider's call id, or the error of a create whose result is unknown. */
export type DialConfirmation = { seq: number; attempt: number; providerCallId?: string; error?: string };

/** One statement for a slice's confirmations (each row still by its key, and only its active attempt). */
export function confirmDials(sql: SqlStorage, dials: DialConfirmation[], callLeaseMs: number): void {
  if (dials.length === 0) return;
  sql.exec(
    `UPDATE calls SET provider_call_id = coalesce(provider_call_id, j.value ->> 2), error = coalesce(j.value ->> 3, error), dial_confirmed = 1,
         lease_expires_at = max(lease_expires_at, start_time + ?2)
       FROM json_each(?1) AS j
       WHERE calls.seq = j.value ->> 0 AND calls.attempts = j.value ->> 1 AND calls.status = 'active'`,
    JSON.stringify(dials.map((d) => [d.seq, d.attempt, d.providerCallId ?? null, d.error ?? null])),
    callLeaseMs,
  );
}

export function recordUnreachable(sql: SqlStorage, seq: number, attempt: number, error: string): boolean {
  return changed(sql, "UPDATE calls SET error = ?3 WHERE seq = ?1 AND attempts = ?2 AND status = 'active' AND dial_confirmed = 0", seq, attempt, error);
}

export function unreachableError(sql: SqlStorage, seq: number, attempt: number): string | null {
  return (
    one<{ error: string }>(
      sql,
      "SELECT error FROM calls WHERE seq = ? AND attempts = ? AND status = 'active' AND dial_confirmed = 0 AND error IS NOT NULL",
      seq,
      attempt,
    )?.error ?? null
  );
}

/** How an active attempt ended (finish): `dueAt` > 0 schedules a callback then; `requested` marks one the recipient asked for. */
export type AttemptEnd = {
  status: CallStatus;
  outcome: string;
  endTime: number;
  duration: number | null;
  error: string | null;
  dueAt: number;
  requested?: boolean;
};

export function finish(sql: SqlStorage, seq: number, attempt: number, end: AttemptEnd): boolean {
  return changed(
    sql,
    `UPDATE calls SET status = ?3, outcome = ?4, end_time = ?5, duration = ?6, error = ?7, due_at = ?8, lease_expires_at = NULL, next_attempt_at = ?9,
         pass_base = CASE WHEN ?10 THEN attempts ELSE pass_base END, requested_callbacks = requested_callbacks + ?10
       WHERE seq = ?1 AND attempts = ?2 AND status = 'active'`,
    seq,
    attempt,
    end.status,
    end.outcome,
    end.endTime,
    end.duration,
    end.error,
    end.dueAt,
    end.dueAt > 0 ? isoMs(end.dueAt) : null,
    end.requested ? 1 : 0,
  );
}

/**
 * Handing attempts to the queue and taking them back: the dispatch marks
 * on each call, the outbox of jobs marked but not yet sent, and the
 * limiter leases freed here but not yet handed back. The bodies of
 * CallLedger's methods of the same names, as free functions of the
 * ledger's SqlStorage.
 * Each is documented on the method, the surface its callers read.
 */
import { batch } from "./batch";
import { changed, isoMs } from "./rows";

// ---- dispatch -----------------------------------------------------------

export function markDispatched(sql: SqlStorage, jobs: { seq: number; attempt: number }[], now: number): { seq: number; attempt: number }[] {
  if (batch(sql)?.status !== "processing") return [];
  const marked: { seq: number; attempt: number }[] = [];
  for (const j of jobs) {
    const ok = changed(
      sql,
      `UPDATE calls SET dispatched_attempt = ?2, dispatched_at = ?3
         WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2 - 1`,
      j.seq,
      j.attempt,
      now,
    );
    if (ok) {
      sql.exec("INSERT OR REPLACE INTO outbox (seq, attempt) VALUES (?, ?)", j.seq, j.attempt);
      marked.push(j);
    }
  }
  return marked;
}

export function outbox(sql: SqlStorage): { seq: number; attempt: number }[] {
  return sql.exec<{ seq: number; attempt: number }>("SELECT seq, attempt FROM outbox ORDER BY seq").toArray();
}

export function clearOutbox(sql: SqlStorage, jobs: { seq: number }[]): void {
  for (const j of jobs) sql.exec("DELETE FROM outbox WHERE seq = ?", j.seq);
}

export function deferCalls(sql: SqlStorage, items: { seq: number; dueAt: number }[]): void {
  for (const i of items) {
    sql.exec(
      "UPDATE calls SET due_at = ?2, next_attempt_at = ?3 WHERE seq = ?1 AND status = 'waiting' AND dispatched_attempt = attempts",
      i.seq,
      i.dueAt,
      isoMs(i.dueAt),
    );
  }
}

export function touchDispatched(sql: SqlStorage, jobs: { seq: number; attempt: number }[], now: number): void {
  for (const j of jobs) {
    sql.exec(
      "UPDATE calls SET dispatched_at = ?3 WHERE seq = ?1 AND status = 'waiting' AND dispatched_attempt = ?2 AND attempts = ?2 - 1",
      j.seq,
      j.attempt,
      now,
    );
  }
}

export function reclaimStaleDispatches(sql: SqlStorage, before: number): { seq: number; attempt: number }[] {
  return sql
    .exec<{ seq: number; attempt: number }>(
      `UPDATE calls INDEXED BY calls_dispatched SET dispatched_attempt = attempts, due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END
         WHERE status = 'waiting' AND dispatched_attempt > attempts AND dispatched_at <= ?
         RETURNING seq, dispatched_attempt + 1 AS attempt`,
      before,
    )
    .toArray();
}

// ---- pending limiter releases -------------------------------------------

export function addReleases(sql: SqlStorage, leases: string[]): void {
  for (const l of leases) sql.exec("INSERT OR IGNORE INTO releases (lease) VALUES (?)", l);
}

export function releases(sql: SqlStorage): string[] {
  return sql
    .exec<{ lease: string }>("SELECT lease FROM releases")
    .toArray()
    .map((r) => r.lease);
}

export function clearReleases(sql: SqlStorage, leases: string[]): void {
  for (const l of leases) sql.exec("DELETE FROM releases WHERE lease = ?", l);
}

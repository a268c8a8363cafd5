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

export function markDispatched(sql: SqlStorage, jobs: { seq: number; attempt: number; to?: string | null }[], now: number): { seq: number; attempt: number }[] {
  if (batch(sql)?.status !== "processing") return [];
  const marked: { seq: number; attempt: number }[] = [];
  for (const j of jobs) {
    const ok = changed(
      sql,
      `UPDATE calls SET dispatched_attempt = ?2, dispatched_at = ?3, dial_to = ?4, wait_reason = NULL
         WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2 - 1`,
      j.seq,
      j.attempt,
      now,
      j.to ?? null,
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

export function deferCalls(sql: SqlStorage, items: { seq: number; dueAt: number; reason: string }[]): void {
  for (const i of items) {
    sql.exec(
      "UPDATE calls SET due_at = ?2, next_attempt_at = ?3, wait_reason = ?4 WHERE seq = ?1 AND status = 'waiting' AND dispatched_attempt = attempts",
      i.seq,
      i.dueAt,
      isoMs(i.dueAt),
      i.reason,
    );
  }
}

export function holdDispatched(sql: SqlStorage, seq: number, attempt: number, until: number, reason: string): boolean {
  return changed(
    sql,
    `UPDATE calls SET dispatched_attempt = ?2 - 1, due_at = ?3, next_attempt_at = ?4, wait_reason = ?5
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
    seq,
    attempt,
    until,
    isoMs(until),
    reason,
  );
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

/**
 * Limiter leases freed here but not yet handed back (returned with the
 * next limiter call), each marked with what its attempt did: 0 freed
 * without a call, 1 ended, 2 ended answered. The limiter counts the ended
 * ones in the health of the number they called from.
 */
export class PendingReleases {
  constructor(private readonly sql: SqlStorage) {}

  add(leases: string[], outcome: "freed" | "ended" | "answered" = "freed"): void {
    const mark = outcome === "answered" ? 2 : outcome === "ended" ? 1 : 0;
    for (const l of leases) {
      this.sql.exec(
        "INSERT INTO releases (lease, answered) VALUES (?, ?) ON CONFLICT (lease) DO UPDATE SET answered = max(answered, excluded.answered)",
        l,
        mark,
      );
    }
  }

  list(): { leases: string[]; ended: string[]; answered: string[] } {
    const rows = this.sql.exec<{ lease: string; answered: number }>("SELECT lease, answered FROM releases").toArray();
    return {
      leases: rows.map((r) => r.lease),
      ended: rows.filter((r) => r.answered >= 1).map((r) => r.lease),
      answered: rows.filter((r) => r.answered === 2).map((r) => r.lease),
    };
  }

  clear(leases: string[]): void {
    for (const l of leases) this.sql.exec("DELETE FROM releases WHERE lease = ?", l);
  }
}

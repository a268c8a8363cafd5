/**
 * Handing attempts to the queue and taking them back: the dispatch marks
 * on each call, the outbox of jobs marked but not yet sent, and the
 * limiter leases freed here but not yet handed back. The bodies of
 * CallLedger's methods of the same names, as free functions of the
 * ledger's SqlStorage.
 * Each is documented on the method, the surface its callers read.
 */
import { connected } from "../../domain/outcome";
import type { Outcome } from "../../domain/vocabulary";
import { leaseId } from "../../lib/lease";
import { batch } from "./batch";
import { changed, isoMs, one } from "./rows";

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
    if (ok) marked.push({ seq: j.seq, attempt: j.attempt });
  }
  if (marked.length > 0) sql.exec("INSERT INTO outbox_slices (jobs) VALUES (?)", JSON.stringify(marked.map((j) => [j.seq, j.attempt])));
  return marked;
}

/** Jobs marked dispatched in one step, kept until they are on the queue: one row a slice, so a job costs no row of its own. */
export type OutboxSlice = { id: number; jobs: { seq: number; attempt: number }[] };

export function outbox(sql: SqlStorage): OutboxSlice[] {
  return sql
    .exec<{ id: number; jobs: string }>("SELECT id, jobs FROM outbox_slices ORDER BY id")
    .toArray()
    .map((r) => ({ id: r.id, jobs: (JSON.parse(r.jobs) as [number, number][]).map(([seq, attempt]) => ({ seq, attempt })) }));
}

export function clearOutbox(sql: SqlStorage, id: number): void {
  sql.exec("DELETE FROM outbox_slices WHERE id = ?", id);
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

/** `inFlight`: the seqs that may hold a job (the ledger's in-flight list); each is checked again on its row. */
export function reclaimStaleDispatches(sql: SqlStorage, inFlight: { seq: number }[], before: number): { seq: number; attempt: number }[] {
  if (inFlight.length === 0) return [];
  return sql
    .exec<{ seq: number; attempt: number }>(
      `UPDATE calls SET dispatched_attempt = attempts, due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END
         WHERE seq IN (SELECT value FROM json_each(?1)) AND status = 'waiting' AND dispatched_attempt > attempts AND dispatched_at <= ?2
         RETURNING seq, dispatched_attempt + 1 AS attempt`,
      JSON.stringify(inFlight.map((j) => j.seq)),
      before,
    )
    .toArray();
}

// ---- pending limiter releases -------------------------------------------

/** What is owed to the limiter: every lease (`leases`), of which `ended` were calls (and `answered` connected); `rows` and `refs` are for clear(). */
export type PendingList = { leases: string[]; ended: string[]; answered: string[]; rows: string[]; refs: string[] };

/**
 * Limiter leases freed here but not yet handed back (returned with the
 * next limiter call). An attempt that ended is named by the counters
 * trigger in the batch row's `ended_leases`, in the UPDATE it already
 * makes, so an ended call costs no row of its own; its history line says
 * whether it connected. Leases freed without a call (a claim undone, a
 * job taken back) are rows of `releases`, each marked with what its
 * attempt did: 0 freed without a call, 1 ended, 2 ended answered. The
 * limiter counts the ended ones in the health of the number they called from.
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

  /** Whether anything is owed (a cheap check: the tick idles only when nothing is). */
  pending(): boolean {
    return one(this.sql, "SELECT 1 AS x FROM releases UNION ALL SELECT 1 FROM batch WHERE id = 1 AND ended_leases != '[]' LIMIT 1") !== null;
  }

  list(batchId: string): PendingList {
    const rows = this.sql.exec<{ lease: string; answered: number }>("SELECT lease, answered FROM releases").toArray();
    const ends = this.sql
      .exec<{ ref: string; seq: number; attempt: number; outcome: string | null }>(
        `SELECT e.value AS ref, e.value ->> 0 AS seq, e.value ->> 1 AS attempt,
           (SELECT outcome FROM attempt_log a WHERE a.seq = e.value ->> 0 AND a.attempt = e.value ->> 1) AS outcome
         FROM batch, json_each(batch.ended_leases) AS e WHERE batch.id = 1`,
      )
      .toArray();
    const endLease = (e: { seq: number; attempt: number }) => leaseId(batchId, e.seq, e.attempt);
    return {
      leases: [...rows.map((r) => r.lease), ...ends.map(endLease)],
      ended: [...rows.filter((r) => r.answered >= 1).map((r) => r.lease), ...ends.map(endLease)],
      answered: [
        ...rows.filter((r) => r.answered === 2).map((r) => r.lease),
        ...ends.filter((e) => e.outcome && connected(e.outcome as Outcome)).map(endLease),
      ],
      rows: rows.map((r) => r.lease),
      refs: ends.map((e) => e.ref),
    };
  }

  /** Forgets what `list` returned, once the limiter has it (entries the trigger added since stay). */
  clear(listed: PendingList): void {
    for (const l of listed.rows) this.sql.exec("DELETE FROM releases WHERE lease = ?", l);
    if (listed.refs.length === 0) return;
    this.sql.exec(
      `UPDATE batch SET ended_leases = (SELECT json_group_array(json(e.value)) FROM json_each(ended_leases) AS e
         WHERE e.value NOT IN (SELECT value FROM json_each(?1))) WHERE id = 1`,
      JSON.stringify(listed.refs),
    );
  }
}

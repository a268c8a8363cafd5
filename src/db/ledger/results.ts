/**
 * The agent's side of the ledger: each attempt's result merged across its
 * reports, what the batch does about it (a requested callback, an opt-out
 * still to be carried to the workspace's do-not-call list), each finished
 * attempt's history, and the counters the triggers keep. Every write is
 * conditional on the state it expects, so a replayed report changes nothing.
 */
import type { CallOutcome } from "../../domain/vocabulary";
import { isoMs, one, type AttemptRow, type CallRow, type ResultCounters, type ResultRow } from "./rows";
import { OUTCOME_COUNTERS } from "./schema";

/** The fields of one report, as the ledger merges them: absent fields keep what earlier reports said. */
export type ResultFields = {
  disposition?: string;
  summary?: string;
  sentiment?: string;
  data?: Record<string, string | number | boolean | null>;
  transcriptKey?: string;
  recordingUrl?: string;
  callbackAt?: number;
  optOut?: true;
};

export type StoredResult = ResultRow & { callback_state: string | null };

/** Data field names kept for export columns, in first-seen order: more than this stay in results.jsonl only. */
export const MAX_DATA_FIELDS = 200;

/** Labels /status shows, the largest first. */
export const MAX_DISPOSITIONS_SHOWN = 100;

/** A correlated subquery giving a call's shown result as JSON text (`result_json`), one primary-key lookup. */
export const RESULT_JSON = `(SELECT json_object('seq', r.seq, 'attempt', r.attempt, 'disposition', r.disposition, 'summary', r.summary,
  'sentiment', r.sentiment, 'data', r.data, 'transcript_key', r.transcript_key, 'recording_url', r.recording_url,
  'callback_at', r.callback_at, 'opt_out', r.opt_out, 'received_at', r.received_at, 'updated_at', r.updated_at, 'revision', r.revision)
  FROM results AS r WHERE r.seq = calls.seq AND r.attempt = calls.result_attempt) AS result_json`;

/** A row read with RESULT_JSON, its result parsed into `result`. */
export function withResult<T extends { result_json?: string | null }>(row: T): Omit<T, "result_json"> & { result: ResultRow | null } {
  const { result_json, ...rest } = row;
  return { ...rest, result: result_json ? (JSON.parse(result_json) as ResultRow) : null };
}

/**
 * A report merged over the stored result: a field the report leaves out
 * keeps its value, `data` merges by name, `optOut` never goes back. Null if
 * it changes nothing (then nothing is written). Shared by the batch's
 * results and its test calls'.
 */
export function mergedResult(prev: StoredResult | null, f: ResultFields, seq: number, attempt: number, now: number): StoredResult | null {
  const data = f.data || prev?.data ? JSON.stringify({ ...(prev?.data ? (JSON.parse(prev.data) as object) : {}), ...(f.data ?? {}) }) : null;
  const next: StoredResult = {
    seq,
    attempt,
    disposition: f.disposition ?? prev?.disposition ?? null,
    summary: f.summary ?? prev?.summary ?? null,
    sentiment: f.sentiment ?? prev?.sentiment ?? null,
    data,
    transcript_key: f.transcriptKey ?? prev?.transcript_key ?? null,
    recording_url: f.recordingUrl ?? prev?.recording_url ?? null,
    callback_at: f.callbackAt ?? prev?.callback_at ?? null,
    callback_state: prev?.callback_state ?? null,
    opt_out: f.optOut || prev?.opt_out ? 1 : 0,
    received_at: prev?.received_at ?? now,
    updated_at: now,
    revision: (prev?.revision ?? 0) + 1,
  };
  const fields = ["disposition", "summary", "sentiment", "data", "transcript_key", "recording_url", "callback_at", "opt_out"] as const;
  return prev && fields.every((k) => prev[k] === next[k]) ? null : next;
}

export class ResultLedger {
  constructor(private readonly sql: SqlStorage) {}

  get(seq: number, attempt: number): StoredResult | null {
    return one<StoredResult>(this.sql, "SELECT * FROM results WHERE seq = ? AND attempt = ?", seq, attempt);
  }

  /**
   * Merges a report into the attempt's result: a field the report leaves out
   * keeps its value, `data` merges by name, `optOut` never goes back. A
   * report that changes nothing writes nothing. The call shows the latest
   * attempt's result and disposition (the trigger counts dispositions).
   */
  merge(row: CallRow, attempt: number, f: ResultFields, now: number): { result: StoredResult; changed: boolean } {
    const prev = this.get(row.seq, attempt);
    const next = mergedResult(prev, f, row.seq, attempt, now);
    if (!next) return { result: prev!, changed: false };
    this.sql.exec(
      `INSERT OR REPLACE INTO results (seq, attempt, disposition, summary, sentiment, data, transcript_key, recording_url,
         callback_at, callback_state, opt_out, received_at, updated_at, revision)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      next.seq,
      attempt,
      next.disposition,
      next.summary,
      next.sentiment,
      next.data,
      next.transcript_key,
      next.recording_url,
      next.callback_at,
      next.callback_state,
      next.opt_out,
      next.received_at,
      next.updated_at,
      next.revision,
    );
    for (const name of Object.keys(f.data ?? {})) {
      this.sql.exec(
        `INSERT OR IGNORE INTO data_fields (name, ord) SELECT ?1, (SELECT count(*) FROM data_fields)
           WHERE (SELECT count(*) FROM data_fields) < ?2`,
        name,
        MAX_DATA_FIELDS,
      );
    }
    // The call shows its latest attempt's result; an older attempt's late report updates only its own.
    const shown = attempt >= (row.result_attempt ?? 0);
    const disposition = shown && next.disposition !== null ? next.disposition : row.disposition;
    const optedOut = next.opt_out === 1 ? 1 : row.opted_out;
    const resultAttempt = Math.max(row.result_attempt ?? 0, attempt);
    if (disposition !== row.disposition || optedOut !== row.opted_out || resultAttempt !== row.result_attempt) {
      this.sql.exec("UPDATE calls SET disposition = ?2, opted_out = ?3, result_attempt = ?4 WHERE seq = ?1", row.seq, disposition, optedOut, resultAttempt);
    }
    return { result: next, changed: true };
  }

  setCallbackState(seq: number, attempt: number, state: "pending" | "scheduled" | "ignored"): void {
    this.sql.exec("UPDATE results SET callback_state = ?3 WHERE seq = ?1 AND attempt = ?2 AND callback_state IS NOT ?3", seq, attempt, state);
  }

  /**
   * A finished call waits again for the attempt its recipient asked for:
   * only if `attempt` was its last, nothing is on the queue for it, and its
   * requested callbacks are under `max`. The callback starts a fresh
   * smart-callback sequence (pass_base), so an unanswered callback is retried
   * as the batch's config says.
   */
  requestCallback(seq: number, attempt: number, dueAt: number, max: number): boolean {
    return (
      this.sql.exec(
        `UPDATE calls SET status = 'waiting', outcome = 'callback_requested', due_at = ?3, next_attempt_at = ?4, pass_base = attempts,
           requested_callbacks = requested_callbacks + 1, error = NULL
         WHERE seq = ?1 AND attempts = ?2 AND status IN ('completed', 'failed', 'waiting') AND dispatched_attempt = attempts
           AND requested_callbacks < ?5`,
        seq,
        attempt,
        dueAt,
        isoMs(dueAt),
        max,
      ).rowsWritten > 0
    );
  }

  /** A requested callback still waiting (not yet handed to the queue) moves to the time a later report asks for. */
  moveCallback(seq: number, attempt: number, dueAt: number): boolean {
    return (
      this.sql.exec(
        `UPDATE calls SET due_at = ?3, next_attempt_at = ?4
         WHERE seq = ?1 AND attempts = ?2 AND status = 'waiting' AND outcome = 'callback_requested' AND dispatched_attempt = attempts AND due_at != ?3`,
        seq,
        attempt,
        dueAt,
        isoMs(dueAt),
      ).rowsWritten > 0
    );
  }

  // ---- opt-outs still to be carried to the workspace's do-not-call list -------

  addOptOut(seq: number, attempt: number, phone: string, at: number): void {
    this.sql.exec("INSERT OR IGNORE INTO optouts (seq, attempt, phone, at) VALUES (?, ?, ?, ?)", seq, attempt, phone, at);
  }

  optOuts(): { seq: number; attempt: number; phone: string; at: number }[] {
    return this.sql.exec<{ seq: number; attempt: number; phone: string; at: number }>("SELECT * FROM optouts ORDER BY at LIMIT 100").toArray();
  }

  clearOptOut(seq: number, attempt: number): void {
    this.sql.exec("DELETE FROM optouts WHERE seq = ? AND attempt = ?", seq, attempt);
  }

  // ---- history and counters -------------------------------------------------

  /**
   * Writes a finished attempt's line of history from its call row (once per
   * attempt): the caller ID its pool chose (else `from`, the agent's), and
   * the number it called.
   */
  logAttempt(seq: number, attempt: number, outcome: string, from: string | null): void {
    this.sql.exec(
      `INSERT OR IGNORE INTO attempt_log (seq, attempt, from_number, to_number, start_time, end_time, outcome, duration, error, provider_call_id)
       SELECT seq, ?2, coalesce(dial_from, ?3), coalesce(dial_to, phone_number), start_time, end_time, ?4, duration, error, provider_call_id
         FROM calls WHERE seq = ?1`,
      seq,
      attempt,
      from,
      outcome,
    );
  }

  transcriptKeys(seq: number): Record<number, string> {
    const rows = this.sql
      .exec<{ attempt: number; key: string }>("SELECT attempt, transcript_key AS key FROM results WHERE seq = ? AND transcript_key IS NOT NULL", seq)
      .toArray();
    return Object.fromEntries(rows.map((r) => [r.attempt, r.key]));
  }

  attempts(seq: number): AttemptRow[] {
    return this.sql.exec<AttemptRow>("SELECT * FROM attempt_log WHERE seq = ? ORDER BY attempt", seq).toArray();
  }

  /** Every finished attempt of the calls seq ∈ (after, last], grouped by call (an export page's history in one query). */
  attemptsBetween(after: number, last: number): Map<number, AttemptRow[]> {
    const out = new Map<number, AttemptRow[]>();
    for (const a of this.sql.exec<AttemptRow>("SELECT * FROM attempt_log WHERE seq > ? AND seq <= ? ORDER BY seq, attempt", after, last)) {
      const list = out.get(a.seq) ?? [];
      list.push(a);
      out.set(a.seq, list);
    }
    return out;
  }

  counters(): ResultCounters {
    const b = one<Record<string, number>>(this.sql, `SELECT ${OUTCOME_COUNTERS.map((o) => `outcome_${o}`).join(", ")} FROM batch WHERE id = 1`);
    const outcomes = Object.fromEntries(OUTCOME_COUNTERS.map((o) => [o, Number(b?.[`outcome_${o}`] ?? 0)])) as Record<CallOutcome, number>;
    const rows = this.sql
      .exec<{ label: string; n: number }>("SELECT label, n FROM disposition_counts WHERE n > 0 ORDER BY n DESC, label LIMIT ?", MAX_DISPOSITIONS_SHOWN)
      .toArray();
    return { outcomes, dispositions: Object.fromEntries(rows.map((r) => [r.label, r.n])) };
  }

  /** Calls whose latest disposition is `label`. */
  dispositionCount(label: string): number {
    return Number(one<{ n: number }>(this.sql, "SELECT n FROM disposition_counts WHERE label = ?", label)?.n ?? 0);
  }

  dataFields(): string[] {
    return this.sql
      .exec<{ name: string }>("SELECT name FROM data_fields ORDER BY ord")
      .toArray()
      .map((r) => r.name);
  }
}

/**
 * The ledger's row types, and the two ways its statements are read: the
 * first row of a query, or whether a conditional write changed a row.
 */
import type { BatchStatus, CallOutcome, CallStatus } from "../../domain/vocabulary";

export type CallRow = {
  seq: number;
  phone_number: string;
  metadata: string;
  status: CallStatus;
  outcome: string | null;
  attempts: number;
  next_attempt_at: string | null;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  error: string | null;
  dispatched_attempt: number;
  dispatched_at: number | null;
  pass_base: number;
  due_at: number;
  provider_call_id: string | null;
  lease_expires_at: number | null;
  /** The latest disposition an agent reported for this recipient (any attempt), or null. */
  disposition: string | null;
  /** The attempt whose result `result` is: the latest attempt with one. */
  result_attempt: number | null;
  /** Callbacks the recipient asked for on a call that were scheduled (capped by maxRequestedCallbacks). */
  requested_callbacks: number;
  /** 1 once the recipient asked on a call never to be called again. */
  opted_out: number;
  /** JSON array of the recipient's numbers (phone_number first) when the row had phone_number_2…5; null: phone_number only. */
  numbers: string | null;
  /** The number the current (or last) attempt calls; null: phone_number. */
  dial_to: string | null;
  /** The caller ID the current (or last) attempt uses; null: none chosen (no pool). */
  dial_from: string | null;
  /** Why a waiting call is held past its time: contact_policy, no_enabled_number, number_daily_limit, calling_window; null otherwise. */
  wait_reason: string | null;
  /** That attempt's result, on the reads the API shows (absent where a read does not join it). */
  result?: ResultRow | null;
};

/** A calls row as SQLite returns it (the API's reads add `result`). */
export type StoredCall = Omit<CallRow, "result">;

/** An agent's result for one attempt, merged across its reports. */
export type ResultRow = {
  seq: number;
  attempt: number;
  disposition: string | null;
  summary: string | null;
  sentiment: string | null;
  /** JSON object text: field name → string | number | boolean | null. */
  data: string | null;
  /** R2 key (CSV_BUCKET) of the transcript JSON, or null. */
  transcript_key: string | null;
  recording_url: string | null;
  /** Epoch ms the recipient asked to be called back at, or null. */
  callback_at: number | null;
  opt_out: number;
  received_at: number;
  updated_at: number;
  /** 1 for the first report, +1 for each report that changed something: call.result's event id. */
  revision: number;
};

/** One finished attempt of a call, as its history shows it. */
export type AttemptRow = {
  seq: number;
  attempt: number;
  from_number: string | null;
  /** The number this attempt called (one of the recipient's numbers); null in history written before several numbers per recipient. */
  to_number: string | null;
  start_time: number | null;
  end_time: number | null;
  outcome: string;
  duration: number | null;
  error: string | null;
  provider_call_id: string | null;
};

/** Calls by their current outcome, and by the latest disposition their agent reported. */
export type ResultCounters = {
  outcomes: Record<CallOutcome, number>;
  dispositions: Record<string, number>;
};

/** A batch's counters and times: kept by its ledger, mirrored in its D1 summary row. */
export type BatchProgress = {
  total_calls: number;
  waiting_count: number;
  active_count: number;
  completed_count: number;
  failed_count: number;
  cancelled_count: number;
  total_duration_ms: number;
  start_time: number | null;
  last_completed_time: number | null;
  completed_time: number | null;
  /** Why a paused batch is paused: manual, failure_rate, voicemail_rate, budget (absent in summaries and ledgers from before). */
  paused_reason?: string | null;
};

/** The batch as its object knows it: status, counters and times. */
export type LedgerBatch = BatchProgress & {
  status: BatchStatus;
  pass: number;
  version: number;
  /** Pauses the batch's stop rules made, and how many of them a batch.paused event was handed over for (absent before stop rules). */
  auto_pauses?: number;
  pauses_announced?: number;
  /** Minutes billed (each ended attempt's duration rounded up) and attempts ended, kept by the counters trigger (absent before budgets). */
  billed_minutes?: number;
  attempts_ended?: number;
};

/** An active attempt whose lease ran out: `phone_number` is the number it called, `dial_from` its caller ID. */
export type ExpiredAttempt = { seq: number; attempts: number; phone_number: string; dial_from: string | null; start_time: number | null; confirmed: boolean };

/** A call ready for its next attempt: `numbers` is the recipient's list (JSON) when it has more than phone_number. */
export type Candidate = { seq: number; attempts: number; phone: string; numbers: string | null; tz: string | null };

/** ISO 8601 UTC with milliseconds: the one format of next_attempt_at. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** The first row of a query, or null. */
export function one<T>(sql: SqlStorage, query: string, ...params: SqlStorageValue[]): T | null {
  return (sql.exec(query, ...params).toArray()[0] as T | undefined) ?? null;
}

/** Runs a conditional write; true if it changed a row. */
export function changed(sql: SqlStorage, query: string, ...params: SqlStorageValue[]): boolean {
  return sql.exec(query, ...params).rowsWritten > 0;
}

/** How much of a row's metadata an excerpt reads: its first `columns` values, each cut to `chars` characters. */
export type MetadataExcerpt = { columns: number; chars: number };

/**
 * The ledger's row types, and the two ways its statements are read: the
 * first row of a query, or whether a conditional write changed a row.
 */
import type { BatchStatus, CallStatus } from "../../domain/vocabulary";

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
};

/** The batch as its object knows it: status, counters and times. */
export type LedgerBatch = BatchProgress & {
  status: BatchStatus;
  pass: number;
  version: number;
};

export type ExpiredAttempt = { seq: number; attempts: number; phone_number: string; start_time: number | null; confirmed: boolean };

export type Candidate = { seq: number; attempts: number; phone: string; tz: string | null };

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

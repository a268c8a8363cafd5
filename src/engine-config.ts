/**
 * Every timing of the engine in one place: the operator-tunable ones come
 * from Worker vars, the rest are constants chosen here.
 */
export type EngineConfig = {
  /** How long an active call may go without a final status before it is resolved as failed and its slot freed. */
  callLeaseMs: number;
  /** How long a reserved slot waits for its dial to start before it lapses. */
  reserveTtlMs: number;
  /** A dispatched job not claimed within this long is treated as lost and dispatched again. */
  dispatchStaleMs: number;
  /** While calls are in flight, the scheduler looks at the batch at least this often, even if no call-ended poke arrives. */
  heartbeatMs: number;
};

/** Most jobs handed to the queue in one tick (one sendBatch). */
export const MAX_SLICE = 100;
/** Calls ending together coalesce into one scheduler tick per this long. */
export const POKE_COALESCE_MS = 100;
/** A running batch's D1 summary (counters) is written at most this often; status changes are written at once. */
export const SUMMARY_FLUSH_MS = 1_000;
/** Workspace limits, timezone and webhook URL are re-read from D1 at most this often per batch. */
export const WORKSPACE_REFRESH_MS = 5_000;
/** Longest a job waits at the rate gate before it goes back on the queue. */
export const MAX_GATE_WAIT_MS = 20_000;
/** Rows per call page the object returns to results.csv. */
export const EXPORT_PAGE_ROWS = 1_000;
/** An unpublished batch (its upload still running) is looked at again after this long. */
export const UNPUBLISHED_RECHECK_MS = 1_000;
/** An upload that never published within this long was abandoned: the sweep (or the object) drops it. */
export const ABANDONED_UPLOAD_MS = 60 * 60 * 1000;

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallback * 1000;
}

export function engineConfig(env: Pick<Env, "CALL_LEASE_SECONDS" | "DISPATCH_STALE_SECONDS">): EngineConfig {
  const callLeaseMs = seconds(env.CALL_LEASE_SECONDS, 3600);
  const dispatchStaleMs = seconds(env.DISPATCH_STALE_SECONDS, 300);
  return { callLeaseMs, reserveTtlMs: dispatchStaleMs, dispatchStaleMs, heartbeatMs: 60_000 };
}

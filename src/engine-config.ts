/**
 * The engine's timings that steer dispatch, leases and the batch's clock:
 * the operator-tunable ones come from Worker vars, the rest are constants
 * chosen here. A constant that belongs to one rule stays beside it (the
 * wake back-off in domain/wake.ts, the limiter's window, the live feed's
 * pacing, the idempotency key's lease).
 */
export type EngineConfig = {
  /** How long an active call may go without a final status before it is resolved as failed and its slot freed. */
  callLeaseMs: number;
  /** How long a reserved slot waits for its dial to start before it lapses. */
  reserveTtlMs: number;
  /**
   * A dispatched job not heard of within this long (no claim, no visit to
   * the rate gate) is treated as lost and dispatched again. A twin message
   * is harmless: only one claim of an attempt can succeed.
   */
  dispatchStaleMs: number;
  /** While calls are in flight, the scheduler looks at the batch at least this often, even if no call-ended poke arrives. */
  heartbeatMs: number;
  /**
   * Waiting calls a cancel writes as cancelled per step: the cancel request
   * writes one slice, each following tick of the batch's clock one more
   * (they count as cancelled from the cancel on). Bounds the cancel's answer
   * and each tick whatever the batch's size. CANCEL_SLICE_CALLS, optional.
   */
  cancelSliceCalls: number;
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
/**
 * A claimed attempt is dialled within this long of its claim or not at all:
 * a consumer that finds the deadline passed gives the claim back instead.
 */
export const DIAL_DEADLINE_MS = 20_000;
/** Longest a provider's create request may take (the providers' fetch timeout). */
export const DIAL_TIMEOUT_MS = 15_000;
/**
 * A claimed attempt whose dial is not confirmed (the provider's answer, or
 * any status report) within this long of its claim was lost with the
 * process that claimed it: the provider is asked, or the attempt ends as
 * failed with its fate unknown. Longer than the deadline plus the timeout,
 * so a live consumer can never dial after this.
 */
export const DIAL_CONFIRM_MS = 60_000;
/** How long a limiter reservation waits for its job's claim before it lapses. */
export const RESERVE_TTL_MS = 300_000;
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

/**
 * A cancel's slice unless CANCEL_SLICE_CALLS says otherwise: ~10 ms of
 * SQLite a step locally (each call row, its index entries and the counters
 * trigger), so a cancel answers within ~100 ms and a 200,000-call batch
 * settles in ~3 s of ticks (scripts/bench-cancel.mjs).
 */
export const CANCEL_SLICE_CALLS = 1_000;

/** The engine's settings; CANCEL_SLICE_CALLS is not in wrangler.toml (tests set it on the object's env to slice small batches). */
export function engineConfig(env: Pick<Env, "CALL_LEASE_SECONDS" | "DISPATCH_STALE_SECONDS"> & { CANCEL_SLICE_CALLS?: string }): EngineConfig {
  const callLeaseMs = seconds(env.CALL_LEASE_SECONDS, 3600);
  const dispatchStaleMs = seconds(env.DISPATCH_STALE_SECONDS, 30);
  const slice = Math.floor(Number(env.CANCEL_SLICE_CALLS));
  const cancelSliceCalls = Number.isFinite(slice) && slice > 0 ? slice : CANCEL_SLICE_CALLS;
  return { callLeaseMs, reserveTtlMs: Math.max(RESERVE_TTL_MS, dispatchStaleMs), dispatchStaleMs, heartbeatMs: 60_000, cancelSliceCalls };
}

/**
 * When a batch's scheduler must look again: the earliest of everything
 * that can happen next, never in the past. Pure, so every case is a unit
 * test; the object passes in what its ledger says.
 */
export type WakeInput = {
  now: number;
  /** The earliest waiting callback or window-deferred call (epoch ms), if any. */
  callbackDue: number | null;
  /** The earliest lease expiry of an active call. */
  leaseExpires: number | null;
  /** The oldest dispatch not yet claimed: it goes stale `dispatchStaleMs` later. */
  oldestDispatch: number | null;
  dispatchStaleMs: number;
  /** More calls are due right now than this tick could hand out: look again after `retryAfterMs`. */
  moreDue: boolean;
  retryAfterMs: number;
  /** Calls are in flight: their ends poke the object; this is the safety net if a poke is lost. */
  anyActive: boolean;
  heartbeatMs: number;
  /** The batch's D1 summary is behind: flush it after `summaryFlushMs`. */
  summaryBehind: boolean;
  summaryFlushMs: number;
  /** Leases freed here still wait to be returned to the limiter. */
  releasesPending: boolean;
};

/** The soonest a tick may follow another. */
export const MIN_WAKE_GAP_MS = 10;

export function nextWake(w: WakeInput): number | null {
  const times: number[] = [];
  if (w.callbackDue !== null) times.push(w.callbackDue);
  if (w.leaseExpires !== null) times.push(w.leaseExpires);
  if (w.oldestDispatch !== null) times.push(w.oldestDispatch + w.dispatchStaleMs);
  if (w.moreDue) times.push(w.now + w.retryAfterMs);
  if (w.anyActive) times.push(w.now + w.heartbeatMs);
  if (w.summaryBehind) times.push(w.now + w.summaryFlushMs);
  if (w.releasesPending) times.push(w.now + MIN_WAKE_GAP_MS);
  if (times.length === 0) return null;
  return Math.max(w.now + MIN_WAKE_GAP_MS, Math.min(...times));
}

/**
 * When a batch's scheduler must look again: the earliest of everything
 * that can happen next, never in the past. Pure, so every case is a unit
 * test; the object passes in what its ledger says.
 */
export type WakeInput = {
  now: number;
  /** The earliest waiting callback or window-deferred call not yet handed to the queue (epoch ms), if any. */
  callbackDue: number | null;
  /** The earliest lease expiry of an active call. */
  leaseExpires: number | null;
  /** The oldest dispatch not yet claimed (or last heard of): it goes stale `dispatchStaleMs` later. */
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
  /**
   * Ticks in a row that changed nothing. Work that was due already and
   * still is (this tick could not do it) is looked at again after a delay
   * that doubles with each such tick, so an object that cannot make
   * progress backs off instead of spinning.
   */
  idleTicks: number;
};

/** The soonest a tick may follow another. */
export const MIN_WAKE_GAP_MS = 10;
/** First delay for work that is overdue but could not be done; doubles per idle tick. */
export const OVERDUE_BACKOFF_MS = 100;
/** Longest delay for overdue work: pokes (a call ending, a resume) come sooner anyway. */
export const MAX_OVERDUE_BACKOFF_MS = 10_000;

export function overdueBackoff(idleTicks: number): number {
  return Math.min(MAX_OVERDUE_BACKOFF_MS, OVERDUE_BACKOFF_MS * 2 ** Math.min(Math.max(idleTicks, 0), 16));
}

export function nextWake(w: WakeInput): number | null {
  const overdueAt = w.now + Math.max(MIN_WAKE_GAP_MS, overdueBackoff(w.idleTicks));
  const times: number[] = [];
  // Something that was due by now and is still there is overdue: back off instead of waking at once.
  const due = (t: number) => times.push(t <= w.now ? overdueAt : t);
  if (w.callbackDue !== null) due(w.callbackDue);
  if (w.leaseExpires !== null) due(w.leaseExpires);
  if (w.oldestDispatch !== null) due(w.oldestDispatch + w.dispatchStaleMs);
  if (w.moreDue) times.push(w.now + w.retryAfterMs);
  if (w.anyActive) times.push(w.now + w.heartbeatMs);
  if (w.summaryBehind) times.push(w.now + w.summaryFlushMs);
  if (w.releasesPending) times.push(w.now + MIN_WAKE_GAP_MS);
  if (times.length === 0) return null;
  return Math.max(w.now + MIN_WAKE_GAP_MS, Math.min(...times));
}

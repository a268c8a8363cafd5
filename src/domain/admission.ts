/**
 * How many of a batch's jobs may wait on the shared call queue at once.
 * Every batch of every workspace shares one queue, first in first out: a
 * batch that hands it minutes of work makes every later batch wait behind
 * it. So a batch admits only what will be taken off the queue soon: about
 * ADMIT_TARGET_MS of its own claim rate (Little's law: jobs waiting = rate
 * × wait, so each batch's jobs wait about that long whatever the load).
 * Alone, its claims keep up and the allowance grows with them each round;
 * with many batches on a saturated queue, each keeps about half a second of
 * its share queued, so a newcomer's first job waits about that long. Until
 * this instance has seen a claim it admits one slice (the floor, while the
 * queue is busy: queueBusy); never fewer than ADMIT_MIN, so a batch whose
 * claims stopped (paused, or starved) can start again. A rate is only an
 * estimate — just after a consumer batch's claims land together it runs
 * high, and 8 batches' high estimates once held 2 s of jobs on the queue —
 * so the queue's own word bounds it: while its oldest job has waited past
 * the target and the batch's own latest claims were slow (queueCongested),
 * every batch keeps only the floor on it.
 * The target must exceed the queue's own delivery time, or a batch alone
 * would hold itself to the floor.
 */

/** A batch keeps about this long of its claims' pace on the queue. */
export const ADMIT_TARGET_MS = 500;
/** A batch may always keep this many jobs on the queue. */
export const ADMIT_MIN = 10;
/** Before any claim is seen (a new batch, a new instance): one slice, so a batch alone starts at full speed. */
export const ADMIT_START = 100;
/** And never more than this (a workspace's whole concurrency at the most). */
export const ADMIT_MAX = 10_000;
/** Claims are counted over this long (less right after the first: at least RATE_MIN_WINDOW_MS). */
const RATE_WINDOW_MS = 1_000;
const RATE_MIN_WINDOW_MS = 100;

/** The jobs a batch's consumers claimed lately (memory only). */
export class ClaimRate {
  private marks: { at: number; n: number }[] = [];
  private first: number | null = null;
  private wait: { at: number; ms: number } | null = null;

  /** `n` jobs claimed at `at`; `waitMs`: how long the freshest of them had waited since it was sent (null: not known). */
  note(n: number, at: number, waitMs: number | null = null): void {
    if (n <= 0) return;
    this.first ??= at;
    this.marks.push({ at, n });
    if (waitMs !== null) this.wait = { at, ms: waitMs };
  }

  /** How long the latest claimed jobs had waited on the queue, if claimed within the last RATE_WINDOW_MS; else null. */
  lastWait(now: number): number | null {
    return this.wait && this.wait.at > now - RATE_WINDOW_MS ? this.wait.ms : null;
  }

  /** Claims a second over the last RATE_WINDOW_MS; null before the first claim. */
  perSecond(now: number): number | null {
    if (this.first === null) return null;
    this.marks = this.marks.filter((m) => m.at > now - RATE_WINDOW_MS);
    const window = Math.min(RATE_WINDOW_MS, Math.max(RATE_MIN_WINDOW_MS, now - this.first));
    return (this.marks.reduce((s, m) => s + m.n, 0) * 1000) / window;
  }
}

/**
 * What the shared queue holds now, as its `metrics()` answers (null: it
 * could not say): a batch that has seen no claim yet admits one slice
 * only if the queue is not already busy — holding a slice's worth, or a
 * message older than the target — else the floor, so batches starting
 * together, or one starting while others dial, do not pile their first
 * slices up ahead of each other.
 */
export type QueueBacklog = { backlogCount: number; oldestMessageTimestamp?: Date | number | string | null };

export function queueBusy(backlog: QueueBacklog | null, now: number): boolean {
  if (!backlog || backlog.backlogCount <= 0) return false;
  const oldest = backlog.oldestMessageTimestamp ? new Date(backlog.oldestMessageTimestamp).getTime() : Number.NaN;
  return backlog.backlogCount >= ADMIT_START || (Number.isFinite(oldest) && now - oldest > ADMIT_TARGET_MS);
}

/**
 * A batch's own jobs count as slow once its latest claims had waited past
 * half the target: its claims tell late (they report jobs sent a wait ago),
 * so it looks at half, not the whole.
 */
export const SLOW_CLAIM_MS = ADMIT_TARGET_MS / 2;

export function ownJobsSlow(ownWaitMs: number | null): boolean {
  return ownWaitMs !== null && ownWaitMs > SLOW_CLAIM_MS;
}

/**
 * Once a batch's claims are coming, the queue is congested when its oldest
 * job has waited longer than the target: the batches on it together hold
 * more than they should (each batch's estimate of its own pace runs high
 * just after a consumer batch's claims land at once), and every batch then
 * keeps only the floor on it until the queue has caught up. This bounds the
 * wait of a newcomer's first jobs by the target, whatever the others'
 * estimates. The batch's own latest claims must be slow too (`ownWaitMs`,
 * ClaimRate.lastWait; ownJobsSlow): an old message that is not in the way —
 * one held back for a delayed retry, say — does not slow a batch whose jobs
 * are flowing.
 */
export function queueCongested(backlog: QueueBacklog | null, now: number, ownWaitMs: number | null): boolean {
  if (!ownJobsSlow(ownWaitMs)) return false;
  if (!backlog || backlog.backlogCount <= 0 || !backlog.oldestMessageTimestamp) return false;
  const oldest = new Date(backlog.oldestMessageTimestamp).getTime();
  return Number.isFinite(oldest) && now - oldest > ADMIT_TARGET_MS;
}

/** The allowance at a claim rate (null: none seen yet; then one slice, or the floor while the queue is busy). */
export function allowanceFor(perSecond: number | null, busy = false): number {
  if (perSecond === null) return busy ? ADMIT_MIN : ADMIT_START;
  return Math.min(ADMIT_MAX, Math.max(ADMIT_MIN, Math.ceil((perSecond * ADMIT_TARGET_MS) / 1000)));
}

/** How many more jobs the batch may hand to the queue now. */
export function admissionRoom(allowance: number, inFlight: number): number {
  return Math.max(0, allowance - inFlight);
}

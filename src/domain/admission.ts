/**
 * How many of a batch's jobs may wait on the shared call queue at once.
 * Every batch of every workspace shares one queue, first in first out: a
 * batch that hands it minutes of work makes every later batch wait behind
 * it. So a batch admits only what is being taken off the queue soon. Its
 * allowance follows how long its oldest unclaimed job has waited: while
 * jobs are claimed quickly the allowance doubles (up to the most any
 * workspace could start), once the oldest has waited past the target it
 * halves (never below one slice). With one batch the queue drains as fast
 * as the consumers go; with many, each keeps about a target's worth of
 * work in it, so a newcomer's first job waits about that long.
 */

/** The oldest unclaimed job may wait about this long before the batch admits less. */
export const ADMIT_TARGET_MS = 500;
/** A batch may always keep one slice on the queue. */
export const ADMIT_MIN = 100;
/** And never more than this (a workspace's whole concurrency at the most). */
export const ADMIT_MAX = 10_000;

/**
 * The allowance after a look at the queue: `oldestWaitMs` is how long the
 * oldest of the batch's unclaimed jobs has waited (null: none is waiting).
 */
export function nextAdmission(allowance: number, oldestWaitMs: number | null): number {
  if (oldestWaitMs === null || oldestWaitMs <= ADMIT_TARGET_MS / 2) return Math.min(ADMIT_MAX, allowance * 2);
  if (oldestWaitMs > ADMIT_TARGET_MS) return Math.max(ADMIT_MIN, Math.floor(allowance / 2));
  return allowance;
}

/** How many more jobs the batch may hand to the queue now. */
export function admissionRoom(allowance: number, inFlight: number): number {
  return Math.max(0, allowance - inFlight);
}

// @ts-check
// How the rate chart cuts time into bars: the bucket follows the span of the calls'
// end times (seconds for a batch of a minute or two, minutes up to two hours, hours
// beyond), so a short batch is not one bar and a long one is not thousands of them.

/** At most this many bars; past the largest bucket, the latest ones are kept. */
export const MAX_BARS = 60;

/** @typedef {"second" | "minute" | "hour"} BucketUnit */

/**
 * Each unit's bucket sizes, smallest first, and the longest span it is used for.
 * @type {{ unit: BucketUnit, ms: number, upTo: number, steps: number[] }[]}
 */
const UNITS = [
  { unit: "second", ms: 1000, upTo: 2 * 60_000, steps: [1, 2, 5, 10] },
  { unit: "minute", ms: 60_000, upTo: 2 * 3600_000, steps: [1, 2, 5] },
  { unit: "hour", ms: 3600_000, upTo: Number.POSITIVE_INFINITY, steps: [1, 2, 3, 6, 12, 24] },
];

/**
 * @typedef {object} Buckets
 * @property {BucketUnit} unit
 * @property {number} step units per bucket (1, 2, 5…)
 * @property {number[]} starts each bucket's start, epoch ms
 * @property {number[]} counts the calls that ended in each
 */

/**
 * Counts end times per bucket, from the first bucket with one to the last; null when there are none.
 * @param {number[]} endTimes epoch ms
 * @param {number} [offsetMs] the local time's offset from UTC, so minutes and hours start on the local clock's
 * @returns {Buckets | null}
 */
export function rateBuckets(endTimes, offsetMs = 0) {
  if (!endTimes.length) return null;
  const lo = Math.min(...endTimes);
  const hi = Math.max(...endTimes);
  const { unit, ms, steps } = UNITS.find((u) => hi - lo <= u.upTo) ?? /** @type {(typeof UNITS)[number]} */ (UNITS.at(-1));
  /** @param {number} size @param {number} t */
  const index = (size, t) => Math.floor((t + offsetMs) / size);
  const step = steps.find((s) => index(s * ms, hi) - index(s * ms, lo) < MAX_BARS) ?? /** @type {number} */ (steps.at(-1));
  const size = step * ms;
  const last = index(size, hi);
  const first = Math.max(index(size, lo), last - MAX_BARS + 1);
  const counts = Array.from({ length: last - first + 1 }, () => 0);
  for (const t of endTimes) {
    const i = index(size, t) - first;
    if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
  }
  return { unit, step, starts: counts.map((_, i) => (first + i) * size - offsetMs), counts };
}

/**
 * "second", "5 seconds", "minute", "2 hours": what one bar covers, after "per".
 * @param {Pick<Buckets, "unit" | "step">} buckets
 */
export const bucketName = ({ unit, step }) => (step === 1 ? unit : `${step} ${unit}s`);

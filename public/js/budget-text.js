// @ts-check
// What the console says about a batch's minutes: the estimate a dry run and a draft carry (a
// range, and what it is based on) and the minutes billed against its budget. No DOM here.

/** @typedef {import("./types.js").Estimate} Estimate */

/**
 * A figure as a person reads it: whole numbers grouped, others to one decimal.
 * @param {number} n
 */
const figure = (n) => (Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 1 }));

/**
 * "1–3", or "2" when both ends read the same (0.59–0.6 is "0.6", not "0.6–0.6").
 * @param {{ low: number, high: number }} r
 */
export const rangeText = (r) => {
  const [low, high] = [figure(r.low), figure(r.high)];
  return low === high ? low : `${low}–${high}`;
};

/**
 * "3 calls", "1 call", "1–3 attempts": a range with its unit, singular only for exactly one.
 * @param {{ low: number, high: number }} r
 * @param {string} one
 * @param {string} many
 */
const counted = (r, one, many) => `${rangeText(r)} ${r.low === 1 && r.high === 1 ? one : many}`;

/**
 * "Estimated 120–540 minutes: 120 calls × 1–3 attempts × 1–3 minutes each."
 * @param {Estimate} e
 */
export function estimateText(e) {
  const calls = counted({ low: e.calls, high: e.calls }, "call", "calls");
  const attempts = counted(e.attemptsPerCall, "attempt", "attempts");
  const each = counted(e.minutesPerAttempt, "minute", "minutes");
  return `Estimated ${counted(e.minutes, "minute", "minutes")}: ${calls} × ${attempts} × ${each} each.`;
}

/**
 * The estimate's basis: the server's own sentence, else one from the figures it gives.
 * @param {Estimate} e
 */
export function basisText(e) {
  if (e.note) return e.note;
  return e.basis === "agent_history"
    ? `Based on the agent's last ${figure(e.basedOnAttempts)} finished attempts.`
    : "A default: the agent has too few finished attempts to go by.";
}

/**
 * "12 of 100 minutes billed", "12 minutes billed (no budget)"; null when the server says nothing of minutes.
 * @param {number | null | undefined} billed
 * @param {number | null | undefined} max
 */
export function billedText(billed, max) {
  if (billed === undefined || billed === null) return null;
  const unit = (/** @type {number} */ n) => (n === 1 ? "minute" : "minutes");
  return max ? `${figure(billed)} of ${figure(max)} ${unit(max)} billed` : `${figure(billed)} ${unit(billed)} billed (no budget)`;
}

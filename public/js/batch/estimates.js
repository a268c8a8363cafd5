// @ts-check
// The two figures the page works out itself: calls finished per second lately, and the time to finish;
// for a batch that has finished, its average rate over the run and when it finished.

import { finishedOf, fmtDuration, fmtNumber, fmtTime } from "../format.js";
import { FINAL } from "./final.js";

/** @typedef {import("../types.js").Batch} Batch */
/** @typedef {import("../types.js").StatusBody} StatusBody */
/** @typedef {import("./ledger.js").LedgerCall} LedgerCall */

/** The rate is read over the last two minutes watched. */
const WINDOW_MS = 120_000;

/** The finished count as seen while the page is open. */
export function rateSamples() {
  /** @type {{ t: number, finished: number }[]} */
  const samples = [];
  return {
    /** @param {StatusBody} status */
    add(status) {
      const now = Date.now();
      samples.push({ t: now, finished: finishedOf(status) });
      while (samples.length > 2 && (samples[0]?.t ?? now) < now - WINDOW_MS) samples.shift();
    },
    /**
     * Calls finished per second: over the last two minutes watched (to now, so a stall shows), else since the first dial.
     * @param {StatusBody} status
     */
    perSecond(status) {
      const now = Date.now();
      const first = samples.find((s) => s.t > now - WINDOW_MS);
      const span = first ? now - first.t : 0;
      if (first && span >= 10_000) return ((finishedOf(status) - first.finished) * 1000) / span;
      const since = status.startTime ? (status.completedTime ?? now) - status.startTime : 0;
      return since > 0 && finishedOf(status) > 0 ? (finishedOf(status) * 1000) / since : 0;
    },
  };
}

/**
 * Calls finished per second over the batch's whole run (first dial to finish): a figure
 * that stays put once the batch has finished, where the live rate would decay to 0.
 * @param {StatusBody} status
 */
export function averageRate(status) {
  const { startTime, completedTime } = status;
  if (!startTime || !completedTime || completedTime <= startTime) return 0;
  return (finishedOf(status) * 1000) / (completedTime - startTime);
}

/**
 * "about 3 min 20 s", "Paused", "Not started (a draft)", "Starts …"; calls waiting for a callback are due at
 * their own time, not at the dialling rate, so they are counted apart (from `calls`).
 * @param {StatusBody} status a batch that has not finished
 * @param {Batch | null} batch
 * @param {LedgerCall[]} calls
 * @param {number} rate calls finished per second
 */
export function timeToFinish(status, batch, calls, rate) {
  if (status.status === "paused") return "Paused";
  if (status.status === "draft") return "Not started (a draft)";
  if (status.status === "queued" && batch?.scheduledAt) return `Starts ${fmtTime(batch.scheduledAt)}`;
  const callbacks = calls.filter((c) => c.status === "waiting" && c.nextAttemptAt);
  const fresh = status.total - finishedOf(status) - callbacks.length;
  const later = callbacks.length
    ? `${fmtNumber(callbacks.length)} ${callbacks.length === 1 ? "callback" : "callbacks"} due from ${fmtTime(callbacks.map((c) => c.nextAttemptAt).sort()[0])}`
    : "";
  if (fresh <= 0) return later || "—";
  const now = rate > 0 ? `about ${fmtDuration(fresh / rate)}` : "— (waiting for calls to finish)";
  return later ? `${now}, then ${later}` : now;
}

/** @typedef {{ rateLabel: string, rate: number, finishLabel: string, finish: string }} RateAndFinish the Progress card's last two figures, labelled */

/**
 * While the batch runs: the current rate and the estimated time to finish. Once it has
 * finished: its average rate and when it finished.
 * @param {StatusBody} status
 * @param {Batch | null} batch
 * @param {LedgerCall[]} calls
 * @param {{ perSecond: (status: StatusBody) => number }} samples the live rate (rateSamples())
 * @returns {RateAndFinish}
 */
export function rateAndFinish(status, batch, calls, samples) {
  if (FINAL.has(status.status)) {
    return { rateLabel: "Average rate", rate: averageRate(status), finishLabel: "Finished at", finish: fmtTime(status.completedTime) };
  }
  const rate = samples.perSecond(status);
  return { rateLabel: "Current rate", rate, finishLabel: "Estimated time to finish", finish: timeToFinish(status, batch, calls, rate) };
}

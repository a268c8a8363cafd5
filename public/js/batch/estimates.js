// @ts-check
// The two figures the page works out itself: calls finished per second lately, and the time to finish.

import { finishedOf, fmtDuration, fmtNumber, fmtTime } from "../ui.js";
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
 * "about 3 min 20 s", "Paused", "Finished …"; calls waiting for a callback are due at
 * their own time, not at the dialling rate, so they are counted apart (from `calls`).
 * @param {StatusBody} status
 * @param {Batch | null} batch
 * @param {LedgerCall[]} calls
 * @param {number} rate calls finished per second
 */
export function timeToFinish(status, batch, calls, rate) {
  if (FINAL.has(status.status)) return status.completedTime ? `Finished ${fmtTime(status.completedTime)}` : "Finished";
  if (status.status === "paused") return "Paused";
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

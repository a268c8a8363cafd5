// @ts-check
// Per-call end times for the calls-per-minute chart, and the calls waiting for a
// callback for the time to finish: neither has a counter in /status (outcomes and
// dispositions do, and their charts read those). So the page reads the batch's
// calls once, up to LEDGER_PAGES × 100 of them, then keeps this map current from
// `call` events (or /status's recent_calls when polling), and reads it once more
// when the batch ends. For a bigger batch the rate chart says it covers a sample.

import { request } from "../api.js";

/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("../types.js").CallPage} CallPage */
/** @typedef {Pick<Call, "status" | "outcome" | "endTime" | "attempts" | "nextAttemptAt">} LedgerCall what the page keeps of a call */

/** The calls-per-minute chart and the time to finish read at most this many pages of 100 calls. */
const LEDGER_PAGES = 10;

/**
 * Within one attempt: not dialled yet, then being dialled, then ended (final, or waiting for a callback).
 * @param {LedgerCall} c
 */
const stage = (c) => (c.status === "active" ? 1 : c.status === "waiting" && !c.outcome ? 0 : 2);

/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal ends reads when the page closes
 */
export function callLedger(base, signal) {
  /** @type {Map<string, LedgerCall>} */
  const ledger = new Map();
  let complete = false;

  /**
   * Keeps the newer of two views of a call (a page read can race a `call` event).
   * @param {Call} c
   */
  function upsert(c) {
    const old = ledger.get(c.jobId);
    if (old && (old.attempts > c.attempts || (old.attempts === c.attempts && stage(old) > stage(c)))) return;
    if (!old && ledger.size >= LEDGER_PAGES * 100) return;
    ledger.set(c.jobId, { status: c.status, outcome: c.outcome, endTime: c.endTime, attempts: c.attempts, nextAttemptAt: c.nextAttemptAt });
  }

  /** Reads the batch's calls from the first page, as far as LEDGER_PAGES. */
  async function load() {
    for (let page = 1; page <= LEDGER_PAGES; page++) {
      /** @type {CallPage} */
      const res = await request(`${base}/calls?page=${page}&limit=100`, { signal });
      for (const c of res.calls) upsert(c);
      complete = !res.pagination.hasNext;
      if (!res.pagination.hasNext) break;
    }
  }

  return {
    upsert,
    load,
    /** Every call held. */
    calls: () => [...ledger.values()],
    /** Whether that is every call of the batch (else a sample of it). */
    complete: () => complete,
  };
}

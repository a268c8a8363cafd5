// @ts-check
// What the batch page says about rows added and test calls placed, and when a test call may
// still change. No DOM here (test/public runs it in Node).

import { fmtNumber } from "../format.js";

/** @typedef {import("../types.js").AppendRowsResponse} AppendRowsResponse */
/** @typedef {import("../types.js").TestCall} TestCall */

/**
 * "Added 3 (1 duplicate, 0 on the do-not-call list)."
 * @param {AppendRowsResponse} r
 */
export const addedText = (r) =>
  `Added ${fmtNumber(r.added)} (${fmtNumber(r.duplicates)} ${r.duplicates === 1 ? "duplicate" : "duplicates"}, ` +
  `${fmtNumber(r.suppressed)} on the do-not-call list).`;

/** How long after an answered call ends the list waits for the agent's result (it is reported after the call). */
const RESULT_WAIT_MS = 60_000;

/**
 * Whether a test call may still change: it is going on, or it was answered and its result is still to come.
 * @param {TestCall} c
 * @param {number} now epoch ms
 */
export const unsettled = (c, now) =>
  c.status === "active" || (c.status === "completed" && c.outcome === "answered" && !c.result && now - Number(c.endTime ?? 0) < RESULT_WAIT_MS);

/**
 * "interested — Wants a demo on Tuesday (positive) · plan: pro": the agent's result in one cell.
 * @param {TestCall["result"]} result
 */
export function testResultText(result) {
  if (!result) return "—";
  const head = [result.disposition, result.summary].filter(Boolean).join(" — ");
  const sentiment = result.sentiment ? ` (${result.sentiment})` : "";
  const data = Object.entries(result.data ?? {}).map(([k, v]) => `${k}: ${v === null ? "—" : String(v)}`);
  return [`${head || "a result"}${sentiment}`, ...data].join(" · ");
}

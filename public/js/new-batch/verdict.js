// @ts-check
// What an upload's check says: the counts, the estimate of minutes, and the invalid rows (from a
// dry run's 200 or a 400's details). The batch page's "Add rows" shows a 400's rows the same way.

import { basisText, estimateText } from "../budget-text.js";
import { fmtNumber, h, table } from "../ui.js";

/** @typedef {import("../types.js").RowError} RowError */
/** @typedef {import("../types.js").StartBatchResponse} StartBatchResponse */

/**
 * @param {string} label
 * @param {number | undefined} value
 */
const num = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value === undefined ? "—" : fmtNumber(value)));

/**
 * The invalid rows of a check or an upload: a table of the first ones, and how many there are in all.
 * @param {unknown} details a 400's or a dry run's details (anything else: no rows)
 * @param {number | undefined} [invalidRows] how many rows were invalid, when the server counted them
 */
export function rowErrors(details, invalidRows) {
  /** @type {RowError[]} */
  const list = Array.isArray(details) ? details : [];
  const rows = list.map((d) => [String(d.row), d.column ?? "—", d.value ?? "—", d.message]);
  return [
    rows.length ? table("Invalid rows", ["Line", "Column", "Value", "Message"], rows) : null,
    rows.length && (invalidRows ?? 0) > rows.length
      ? h("p", { class: "hint" }, `Showing the first ${rows.length} of ${fmtNumber(invalidRows)} invalid rows.`)
      : null,
  ].filter((el) => el !== null);
}

/**
 * The dry run's verdict: the numbers, the estimate of minutes, and the invalid rows.
 * @param {Partial<Omit<StartBatchResponse, "details">> & { details?: unknown }} result
 * @param {boolean} ok
 */
export function verdict(result, ok) {
  const e = ok ? result.estimate : null;
  return [
    h("p", { class: ok ? "ok" : "" }, ok ? result.message : "The file can't be started as it is."),
    h(
      "dl",
      { class: "stats" },
      num("Rows to call", result.totalCalls),
      num("Duplicates removed", result.duplicatesRemoved),
      num("Suppressed", result.suppressed),
      num("Invalid rows", result.invalidRows),
    ),
    e ? h("div", { "data-testid": "estimate", class: "preview" }, h("p", {}, estimateText(e)), h("p", { class: "hint" }, basisText(e))) : null,
    ...rowErrors(result.details, result.invalidRows),
  ].filter((el) => el !== null);
}

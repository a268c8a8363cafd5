// @ts-check
// How a call's fields read on the page, shared by the calls table and a call's detail.

/** @typedef {import("../types.js").Call} Call */

/**
 * The person's name from the row's first_name and last_name columns, or "" when it has neither.
 * @param {Pick<Call, "metadata">} call
 */
export function personName({ metadata }) {
  return [metadata?.first_name, metadata?.last_name]
    .map((s) => s?.trim())
    .filter(Boolean)
    .join(" ");
}

/**
 * "no answer", "callback requested"; "—" for none.
 * @param {string | null | undefined} outcome
 */
export const outcomeText = (outcome) => outcome?.replaceAll("_", " ") ?? "—";

/** Columns the calls table shows in their own cells (Number, Name), so not again among the fields. */
const OWN_COLUMNS = new Set(["phone_number", "first_name", "last_name"]);

/**
 * The row's other CSV columns for the calls table: the first `max` that have a value, each
 * value cut to `chars` characters with "…" (a call's detail has them all, whole), and how
 * many more there are.
 * @param {Record<string, string>} metadata
 * @param {number} [max]
 * @param {number} [chars]
 * @returns {{ shown: [string, string][], more: number }}
 */
export function csvFields(metadata, max = 4, chars = 40) {
  const filled = Object.entries(metadata ?? {}).filter(([k, v]) => !OWN_COLUMNS.has(k) && v.trim() !== "");
  /** @type {[string, string][]} */
  const shown = filled.slice(0, max).map(([k, v]) => {
    const points = [...v.trim()];
    return [k, points.length > chars ? `${points.slice(0, chars).join("")}…` : points.join("")];
  });
  return { shown, more: filled.length - shown.length };
}

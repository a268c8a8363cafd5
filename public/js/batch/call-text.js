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

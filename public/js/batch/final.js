// @ts-check

/**
 * Batch statuses after which nothing more happens, until a retry.
 * @type {ReadonlySet<import("../types.js").BatchStatusName>}
 */
export const FINAL = new Set(["completed", "cancelled", "failed"]);

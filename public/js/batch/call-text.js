// @ts-check
// How a call's fields read on the page, shared by the calls table and a call's detail.

import { formatMoment } from "../calling-window.js";

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

/**
 * A call as /calls and its detail show it now; the fields the API added for number pools
 * and contact policies are optional here, so a reply from before them still reads.
 * @typedef {Call & { waitReason?: string | null, phoneNumbers?: string[] }} HeldCall
 */

/** Why a waiting call is held (the API's waitReason): a few words for the table, a sentence for its detail. */
const WAIT_REASONS = /** @type {Record<string, [string, string]>} */ ({
  contact_policy: ["contact policy", "Another attempt now would break the workspace's contact policy (its attempts per number, or the gap between them)."],
  no_enabled_number: ["no enabled number", "Every number of the agent is disabled: enable one on the agent's page and the call goes ahead."],
  number_daily_limit: ["numbers' daily limit", "Every number the agent could call from has made its calls for the day."],
  calling_window: ["calling window", "The recipient's calling window is closed (its hours, days or blackout dates)."],
});

/**
 * The reason in words: "contact policy"; an unknown one as the API spells it, without underscores.
 * @param {string} reason
 */
export const waitReasonWords = (reason) => WAIT_REASONS[reason]?.[0] ?? reason.replaceAll("_", " ");

/**
 * The reason as a sentence, for a call's detail.
 * @param {string} reason
 */
export const waitReasonSentence = (reason) => WAIT_REASONS[reason]?.[1] ?? `Held: ${waitReasonWords(reason)}.`;

/**
 * Why a held call waits and until when, in the viewer's own time: "contact policy — next attempt
 * Tue 09:00" (with the date when it's more than six days off); null when the call is not waiting
 * or nothing holds it.
 * @param {Pick<HeldCall, "status" | "waitReason" | "nextAttemptAt">} call
 * @param {number} [now] epoch ms
 * @param {string} [tz] the viewer's IANA zone
 */
export function heldFor(call, now = Date.now(), tz = Intl.DateTimeFormat().resolvedOptions().timeZone) {
  if (call.status !== "waiting" || !call.waitReason) return null;
  const at = call.nextAttemptAt ? Date.parse(call.nextAttemptAt) : Number.NaN;
  const when = Number.isNaN(at) ? "" : ` — next attempt ${formatMoment(at, tz, now)}`;
  return `${waitReasonWords(call.waitReason)}${when}`;
}

/**
 * A held call's status in words: "waiting: contact policy — next attempt Tue 09:00"; null when not held.
 * @param {Pick<HeldCall, "status" | "waitReason" | "nextAttemptAt">} call
 * @param {number} [now] epoch ms
 * @param {string} [tz] the viewer's IANA zone
 */
export function waitText(call, now, tz) {
  const held = heldFor(call, now, tz);
  return held === null ? null : `waiting: ${held}`;
}

/** @typedef {import("../types.js").AttemptRecord & { to?: string | null }} Dial an attempt with the number it called (absent in a reply from before) */

/**
 * "+14155550100 → +12125550101": the caller ID an attempt used and the recipient's number it called.
 * @param {Dial} a
 */
export const dialText = (a) => (a.to ? `${a.from ?? "—"} → ${a.to}` : (a.from ?? "—"));

// @ts-check
// How numbers, times and durations read on the page. No DOM here: these run in plain Node's tests too.

/** @typedef {import("./types.js").Counts} Counts */

/** @param {number | null | undefined} n */
export const fmtNumber = (n) => (n ?? 0).toLocaleString();

/**
 * ISO string or epoch ms → the person's local date and time; "—" for none.
 * @param {string | number | null | undefined} t
 */
export function fmtTime(t) {
  if (t === null || t === undefined || t === "") return "—";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Seconds → "1 h 4 min", "3 min 20 s", "12 s".
 * @param {number} seconds
 */
export function fmtDuration(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/**
 * Calls that are done for good: completed + failed + cancelled.
 * @param {Counts} p
 */
export const finishedOf = (p) => p.completed + p.failed + (p.cancelled ?? 0);

/**
 * datetime-local value (the person's local time) → `YYYY-MM-DDTHH:MM:SSZ`, or "" when empty.
 * @param {string} value
 */
export function localToUtc(value) {
  if (!value) return "";
  const d = new Date(value); // no zone in the string: read as local time
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * An ISO time → a datetime-local value in the person's local time (to the minute), "" for none.
 * @param {string | null | undefined} iso
 */
export function utcToLocal(iso) {
  const d = new Date(iso ?? "");
  if (!iso || Number.isNaN(d.getTime())) return "";
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

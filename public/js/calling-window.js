// @ts-check
// A batch's calling window in the browser: the New batch form's fields read into the API's
// callingWindow, and when a recipient would first be called (the preview). The rules are the
// server's (src/domain/calling-window.ts), done with Intl only, so plain Node tests this module
// against the server's nextOpening.

/** The API's day names, Monday first as the form lists them. */
export const DAYS = /** @type {const} */ (["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
const DAY_NUMBER = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** Where the preview can put a recipient: [name, IANA zone]; "" is the person's own zone. */
export const PLACES = /** @type {const} */ ([
  ["London", "Europe/London"],
  ["New York", "America/New_York"],
  ["Los Angeles", "America/Los_Angeles"],
  ["Berlin", "Europe/Berlin"],
  ["Tokyo", "Asia/Tokyo"],
  ["Sydney", "Australia/Sydney"],
  ["Your time zone", ""],
]);

/**
 * A calling window as the API takes it (the form always sends timezone "recipient").
 * @typedef {{ start: string, end: string, days?: readonly string[], blackoutDates?: readonly string[], timezone?: string }} CallingWindow
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Past this, a window is taken never to open (blackout dates cover at most 366 days). */
const SEARCH_DAYS = 400;

/** @type {Map<string, Intl.DateTimeFormat>} */
const clocks = new Map();

/**
 * The wall clock at `at` in `tz`, to the minute, as epoch ms of that date and time in UTC.
 * @param {number} at
 * @param {string} tz
 */
function wall(at, tz) {
  let clock = clocks.get(tz);
  if (!clock) {
    const numeric = /** @type {const} */ ("2-digit");
    clock = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: numeric, day: numeric, hour: numeric, minute: numeric });
    clocks.set(tz, clock);
  }
  /** @type {Record<string, number>} */
  const p = {};
  for (const part of clock.formatToParts(at)) p[part.type] = Number(part.value);
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute ?? 0);
}

/**
 * How far `tz` is ahead of UTC at `at`, in ms.
 * @param {number} at
 * @param {string} tz
 */
const offset = (at, tz) => wall(at, tz) - Math.floor(at / MINUTE) * MINUTE;

/** @param {string} hhmm */
const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether a call may be made at `at` in `tz`: the local weekday is one of the days, the local time
 * is in [start, end), and the day isn't a blackout date. An overnight window (end before start)
 * belongs to the day it starts on, so its early hours are the previous day's.
 * @param {CallingWindow} window
 * @param {string} tz
 * @param {number} at
 */
function isOpen(window, tz, at) {
  const w = wall(at, tz);
  const date = Math.floor(w / DAY) * DAY;
  const minute = (w - date) / MINUTE;
  const start = minutes(window.start);
  const end = minutes(window.end);
  const days = new Set((window.days ?? DAYS).map((d) => DAY_NUMBER[/** @type {keyof DAY_NUMBER} */ (d)]));
  const blackout = new Set(window.blackoutDates ?? []);
  /** @param {number} day midnight of a local date, as UTC */
  const opens = (day) => days.has(new Date(day).getUTCDay()) && !blackout.has(new Date(day).toISOString().slice(0, 10));
  if (start < end) return minute >= start && minute < end && opens(date);
  if (minute >= start) return opens(date);
  return minute < end && opens(date - DAY);
}

/**
 * The first minute in (a, b] whose offset is `after` (a clock change between a and b).
 * @param {number} a
 * @param {number} b
 * @param {number} after
 * @param {string} tz
 */
function clockChange(a, b, after, tz) {
  let lo = Math.floor(a / MINUTE);
  let hi = Math.floor(b / MINUTE);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offset(mid * MINUTE, tz) === after) hi = mid;
    else lo = mid;
  }
  return hi * MINUTE;
}

/**
 * When a recipient in `tz` would first be called by a batch starting at `from` (epoch ms): `from`
 * itself if the window is open then, else its next opening, to the minute; null if it doesn't open
 * within 400 days.
 *
 * A window opens only where the wall clock reaches its start or jumps (a clock change), so each
 * day of the search looks at those moments alone, never minute by minute.
 * @param {CallingWindow} window
 * @param {string} tz
 * @param {number} from
 * @returns {number | null}
 */
export function firstOpening(window, tz, from) {
  if (isOpen(window, tz, from)) return from;
  const start = minutes(window.start) * MINUTE;
  for (let a = from, i = 0; i < SEARCH_DAYS; a += DAY, i++) {
    const b = a + DAY;
    const offsets = new Set([offset(a, tz), offset(b, tz)]);
    const moments = offsets.size > 1 ? [clockChange(a, b, offset(b, tz), tz)] : [];
    // The local dates around [a, b], each with its start at either offset (one may not exist, or both).
    for (let date = Math.floor(wall(a, tz) / DAY - 1) * DAY; date <= wall(b, tz) + DAY; date += DAY) {
      for (const o of offsets) moments.push(date + start - o);
    }
    const open = moments.filter((t) => t > from && t >= a && t <= b && isOpen(window, tz, t));
    if (open.length) return Math.min(...open);
  }
  return null;
}

/**
 * "Tue 09:00" in `tz`, with the date ("Tue 5 Jan 09:00") when it's more than six days after `from`.
 * @param {number} at
 * @param {string} tz
 * @param {number} from
 */
export function formatMoment(at, tz, from) {
  const far = at - from > 6 * DAY;
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone: tz,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return `${p.weekday}${far ? ` ${p.day} ${p.month}` : ""} ${p.hour}:${p.minute}`;
}

/**
 * The preview's sentence.
 * @param {CallingWindow | null} window null: the batch has none
 * @param {string} placeTz the zone of one of the PLACES, or "" for the person's own
 * @param {number | null} startAt the batch's start time (epoch ms), null for "now"
 * @param {string} [localTz] the person's zone (the runtime's)
 */
export function previewText(window, placeTz, startAt, localTz = Intl.DateTimeFormat().resolvedOptions().timeZone) {
  const from = startAt ?? Date.now();
  if (!window) {
    return `No calling window: calls start at the start time (${startAt === null ? "as soon as you start the batch" : `${formatMoment(from, localTz, from)} your time`}).`;
  }
  const place = placeTz ? PLACES.find(([, tz]) => tz === placeTz)?.[0] : undefined;
  const tz = place ? placeTz : localTz;
  const first = firstOpening(window, tz, from);
  const who = `A recipient in ${place ?? "your time zone"}`;
  if (first === null) return `${who} would not be called in the next year: the window's days are all blackout dates.`;
  const local = formatMoment(first, tz, from);
  const yours = formatMoment(first, localTz, from);
  return place && yours !== local ? `${who} would first be called ${local} local (${yours} your time).` : `${who} would first be called ${local}.`;
}

/**
 * Blackout dates as typed (separated by commas or spaces) → the real YYYY-MM-DD dates, sorted,
 * once each, and the entries that aren't.
 * @param {string} text
 */
export function parseDates(text) {
  const entries = text.split(/[\s,;]+/).filter(Boolean);
  const isReal = (/** @type {string} */ s) => {
    const d = new Date(`${s}T00:00:00Z`);
    // Date takes "2026-02-30" as 2 March: a real date reads back as itself.
    return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  };
  return { dates: [...new Set(entries.filter(isReal))].sort(), invalid: entries.filter((s) => !isReal(s)) };
}

/**
 * The form's window fields → the callingWindow to send (null when none is set, or when one is wrong)
 * and what is wrong, by field, in words for the person.
 * @param {{ from: string, to: string, days: string[], blackout: string }} fields
 */
export function readWindow({ from, to, days, blackout }) {
  const { dates, invalid } = parseDates(blackout);
  /** @type {{ times?: string, days?: string, blackout?: string }} */
  const errors = {};
  if (days.length === 0) errors.days = "Choose at least one day.";
  if (invalid.length) errors.blackout = `Not a date (use YYYY-MM-DD): ${invalid.join(", ")}.`;
  else if (dates.length > 366) errors.blackout = `At most 366 dates (${dates.length} given).`;
  if (!from && !to && days.length === DAYS.length && !blackout.trim()) return { window: null, errors };
  if (!from || !to) errors.times = "Give both times, from and to.";
  else if (from === to) errors.times = "From and to must differ (a to before the from runs overnight).";
  if (Object.keys(errors).length) return { window: null, errors };
  /** @type {CallingWindow} */
  const window = { start: from, end: to, days: DAYS.filter((d) => days.includes(d)), timezone: "recipient" };
  if (dates.length) window.blackoutDates = dates;
  return { window, errors };
}

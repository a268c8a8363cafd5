import * as z from "zod";
import { isSupportedRegion } from "./phone";
import { isIanaTimeZone } from "./timezone";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const DAY_INDEX: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MINUTE = 60_000;
const DAY_MS = 86_400_000;
/** Public holidays for a year and then some; each one can push an opening by a day, so the search grows with them. */
export const MAX_BLACKOUT_DATES = 366;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "use HH:MM, 24-hour");

/** A real calendar date, YYYY-MM-DD (no 30 February). */
const LocalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD")
  .refine(
    (s) => {
      const t = Date.parse(`${s}T00:00:00Z`); // NaN for month 13; 30 February rolls over to March, caught below
      return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
    },
    { message: "is not a date on the calendar" },
  );

/** The hours of a window: a start, an end (before the start: it runs overnight) and the days it opens on. */
const HOURS = {
  start: HHMM,
  end: HHMM,
  days: z
    .array(z.enum(DAYS))
    .min(1)
    .default([...DAYS]),
};
const distinctEnds = (w: { start: string; end: string }) => w.start !== w.end;
const DISTINCT = { message: "start and end must differ", path: ["end"] };

const WindowHoursSchema = z.object(HOURS).strict().refine(distinctEnds, DISTINCT);
export type WindowHours = z.infer<typeof WindowHoursSchema>;

export const CallingWindowSchema = z
  .object({
    ...HOURS,
    timezone: z
      .string()
      .refine((tz) => tz === "recipient" || isIanaTimeZone(tz), { message: 'use "recipient" or an IANA time zone such as "America/New_York"' })
      .default("recipient"),
    /** The recipient's local dates with no calling (public holidays); sorted, each once. */
    blackoutDates: z
      .array(LocalDate)
      .max(MAX_BLACKOUT_DATES)
      .transform((dates) => [...new Set(dates)].sort())
      .optional(),
    /** Other hours for recipients whose number is in a country (ISO 3166 alpha-2). */
    overrides: z
      .record(z.string(), WindowHoursSchema)
      .superRefine((byCountry, ctx) => {
        for (const country of Object.keys(byCountry)) {
          if (!/^[A-Z]{2}$/.test(country) || !isSupportedRegion(country)) {
            ctx.addIssue({ code: "custom", path: [country], message: "is not a country: use an ISO 3166 alpha-2 code such as GB" });
          }
        }
      })
      .optional(),
  })
  .strict()
  .refine(distinctEnds, DISTINCT);
export type CallingWindow = z.infer<typeof CallingWindowSchema>;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Local weekday (0 = Sunday), date (YYYY-MM-DD) and minute of the day at `at` in `tz`. */
function localTime(at: number, tz: string): { day: number; date: string; minute: number } {
  const parts = formatter(tz).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const day = DAY_INDEX[get("weekday").slice(0, 3).toLowerCase()] ?? 0;
  return { day, date: `${get("year")}-${get("month")}-${get("day")}`, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

/** The calendar date before `date` (YYYY-MM-DD). */
function dayBefore(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/** The hours that apply to a recipient in `country` (the batch's, unless an override names that country). */
export function hoursFor(window: CallingWindow, country: string | null | undefined): WindowHours {
  return (country ? window.overrides?.[country] : undefined) ?? window;
}

/**
 * Whether `at` falls inside the window in `tz` for a recipient in `country`.
 * A window whose end is before its start runs overnight and belongs to the
 * day it starts on: its early hours are the day before's, and a blackout
 * date closes the night that starts on it.
 */
export function isOpen(window: CallingWindow, tz: string, at: number, country?: string | null): boolean {
  return openState(window, tz, at, country) === "open";
}

/** Open, closed, or closed because the local day is a blackout date and nothing before its midnight can open. */
function openState(window: CallingWindow, tz: string, at: number, country?: string | null): "open" | "closed" | "blackout" {
  const hours = hoursFor(window, country);
  const { day, date, minute } = localTime(at, tz);
  const start = toMinutes(hours.start);
  const end = toMinutes(hours.end);
  const days = new Set(hours.days.map((d) => DAY_INDEX[d]));
  const blackout = new Set(window.blackoutDates ?? []);
  // The day whose window this moment would belong to: today's, or yesterday's overnight tail.
  const tail = start > end && minute < end;
  const owner = tail ? dayBefore(date) : date;
  const inHours = start < end ? minute >= start && minute < end : tail || minute >= start;
  const onDay = days.has(tail ? (day + 6) % 7 : day);
  if (inHours && onDay && !blackout.has(owner)) return "open";
  // Later today the moments belong to today (blacked out) or to yesterday's tail, which is closed
  // now and stays so: nothing opens before the next local midnight.
  return blackout.has(date) ? "blackout" : "closed";
}

/**
 * The first moment at or after `from` when the window is open in `tz` for a
 * recipient in `country` (to the minute), or `from` itself when it is open
 * now. Steps 15 minutes at a time and skips a blackout day whole, over 8
 * days plus one for each blackout date.
 */
export function nextOpening(window: CallingWindow, tz: string, from: number, country?: string | null): number {
  if (openState(window, tz, from, country) === "open") return from;
  const horizon = from + (8 + (window.blackoutDates?.length ?? 0)) * DAY_MS;
  let t = Math.ceil(from / MINUTE) * MINUTE;
  while (t < horizon) {
    const state = openState(window, tz, t, country);
    if (state === "open") {
      let exact = t;
      while (exact - MINUTE > from && isOpen(window, tz, exact - MINUTE, country)) exact -= MINUTE;
      return exact;
    }
    t = state === "blackout" ? nextLocalDay(t, tz) : t + 15 * MINUTE;
  }
  return from + DAY_MS;
}

/**
 * The first minute of the next local day after `t`, or a moment at most
 * 15 minutes before it: 24 hours of local minutes ahead, less the hour a
 * 23-hour day lacks when that passes midnight (a 25-hour day lands an hour
 * short, still on the same date, and is skipped again from there).
 */
function nextLocalDay(t: number, tz: string): number {
  const { date, minute } = localTime(t, tz);
  const ahead = t + (24 * 60 - minute) * MINUTE;
  const hourLess = ahead - 60 * MINUTE;
  return localTime(hourLess, tz).date !== date ? hourLess : ahead;
}

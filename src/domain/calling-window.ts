import type { CallingWindow } from "./batch-options";

const DAY_INDEX: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", weekday: "short", hour: "2-digit", minute: "2-digit" });
    formatters.set(tz, f);
  }
  return f;
}

/** Local weekday (0 = Sunday) and minute of the day at `at` in `tz`. */
function localTime(at: number, tz: string): { day: number; minute: number } {
  const parts = formatter(tz).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const day = DAY_INDEX[get("weekday").slice(0, 3).toLowerCase()] ?? 0;
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/** Whether `at` falls inside the window in `tz`. A window whose end is before its start runs overnight. */
export function isOpen(window: CallingWindow, tz: string, at: number): boolean {
  const { day, minute } = localTime(at, tz);
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  const days = new Set(window.days.map((d) => DAY_INDEX[d]));
  if (start < end) return days.has(day) && minute >= start && minute < end;
  // overnight: the evening part belongs to today, the early part to yesterday's window
  if (minute >= start) return days.has(day);
  return minute < end && days.has((day + 6) % 7);
}

/**
 * The first moment at or after `from` when the window is open in `tz`
 * (to the minute), or `from` itself when it is open now. Searches 8 days.
 */
export function nextOpening(window: CallingWindow, tz: string, from: number): number {
  if (isOpen(window, tz, from)) return from;
  let t = Math.ceil(from / 60_000) * 60_000;
  // Step by 15 minutes, then back up to the exact minute.
  for (let i = 0; i < 8 * 24 * 4; i++, t += 15 * 60_000) {
    if (isOpen(window, tz, t)) {
      let exact = t;
      while (exact - 60_000 > from && isOpen(window, tz, exact - 60_000)) exact -= 60_000;
      return exact;
    }
  }
  return from + 24 * 3_600_000;
}

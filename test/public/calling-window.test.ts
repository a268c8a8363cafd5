import { describe, expect, it } from "vitest";
import { firstOpening, formatMoment, parseDates, previewText, readWindow } from "../../public/js/calling-window.js";
import { type CallingWindow, nextOpening } from "../../src/domain/calling-window";

const DAY = 86_400_000;
const utc = (s: string) => Date.parse(s);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const ALL = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as CallingWindow["days"];
const win = (w: Partial<CallingWindow>): CallingWindow => ({ start: "09:00", end: "17:00", days: ALL, timezone: "recipient", ...w });

describe("the console's first opening, by the rules", () => {
  // 2026-12-01 is a Tuesday; New York is five hours behind UTC in December.
  it("is the start itself when the window is open then, else the next start on an allowed day", () => {
    const w = win({ days: ["mon", "tue", "wed", "thu", "fri"] });
    expect(firstOpening(w, "America/New_York", utc("2026-12-01T15:00:30Z"))).toBe(utc("2026-12-01T15:00:30Z"));
    expect(iso(firstOpening(w, "America/New_York", utc("2026-12-01T13:00:00Z")))).toBe("2026-12-01T14:00:00.000Z");
    expect(iso(firstOpening(w, "America/New_York", utc("2026-12-05T02:00:00Z")))).toBe("2026-12-07T14:00:00.000Z"); // Fri night → Monday
  });

  it("skips blackout dates (the recipient's), and a blackout closes the night that starts on it", () => {
    expect(iso(firstOpening(win({ blackoutDates: ["2026-12-01", "2026-12-02"] }), "Europe/London", utc("2026-12-01T08:00:00Z")))).toBe(
      "2026-12-03T09:00:00.000Z",
    );
    // 23:30 on 30 November in New York is already 1 December in London: the date is the recipient's.
    expect(firstOpening(win({ start: "20:00", end: "23:59", blackoutDates: ["2026-12-01"] }), "America/New_York", utc("2026-12-01T04:30:00Z"))).toBe(
      utc("2026-12-01T04:30:00Z"),
    );
    // Tuesday nights only, and Tuesday 1 December is a blackout date: its small hours on Wednesday are closed too.
    const night = win({ start: "22:00", end: "06:00", days: ["tue"], blackoutDates: ["2026-12-01"] });
    expect(iso(firstOpening(night, "UTC", utc("2026-12-01T21:00:00Z")))).toBe("2026-12-08T22:00:00.000Z");
    expect(iso(firstOpening(win({ start: "22:00", end: "06:00", days: ["tue"] }), "UTC", utc("2026-12-02T01:00:00Z")))).toBe("2026-12-02T01:00:00.000Z");
  });

  it("opens at a spring-forward jump into the window, and again after a fall-back hour leaves it", () => {
    // London, 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens; the window opens at the jump.
    expect(iso(firstOpening(win({ start: "01:30", end: "03:00" }), "Europe/London", utc("2026-03-29T00:10:00Z")))).toBe("2026-03-29T01:00:00.000Z");
    // 25 October 2026: 02:00 BST goes back to 01:00 GMT, before the window's 01:30, which comes round again.
    expect(iso(firstOpening(win({ start: "01:30", end: "03:00" }), "Europe/London", utc("2026-10-25T01:05:00Z")))).toBe("2026-10-25T01:30:00.000Z");
    // Its first 01:47 (BST) opens the window for 13 minutes before the clocks go back: that is the first call.
    expect(iso(firstOpening(win({ start: "01:47", end: "08:26" }), "Europe/London", utc("2026-10-24T23:30:00Z")))).toBe("2026-10-25T00:47:00.000Z");
  });

  it("finds the next day's opening from the last seconds of a blackout day, and a midnight window after a 23-hour blackout day", () => {
    expect(iso(firstOpening(win({ blackoutDates: ["2026-12-01"] }), "UTC", utc("2026-12-01T23:59:30Z")))).toBe("2026-12-02T09:00:00.000Z");
    // London's 29 March 2026 is 23 hours long; 00:00 on the 30th is 23:00 UTC on the 29th.
    const w = win({ start: "00:00", end: "00:45", blackoutDates: ["2026-03-29"] });
    expect(iso(firstOpening(w, "Europe/London", utc("2026-03-29T00:30:00Z")))).toBe("2026-03-29T23:00:00.000Z");
  });

  it("is null when no day opens within a year (every allowed day blacked out)", () => {
    const mondays = Array.from({ length: 60 }, (_, i) => iso(utc("2026-11-30") + i * 7 * DAY)!.slice(0, 10));
    expect(firstOpening(win({ days: ["mon"], blackoutDates: mondays }), "UTC", utc("2026-11-29T00:00:00Z"))).toBeNull();
  });
});

/** mulberry32: the same cases on every run, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ZONES = [
  "Europe/London",
  "America/New_York",
  "America/Los_Angeles",
  "Europe/Berlin",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Asia/Kolkata",
  "Australia/Lord_Howe",
];
/** Clock changes, where the two ways of finding an opening can part: London and New York, spring and autumn, and Sydney's. */
const CLOCK_CHANGES = [
  "2026-03-29T01:00:00Z",
  "2026-10-25T01:00:00Z",
  "2026-03-08T07:00:00Z",
  "2026-11-01T06:00:00Z",
  "2026-04-04T16:00:00Z",
  "2026-10-03T16:00:00Z",
].map(utc);
const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

/**
 * A window and a start time. Ends fall on a quarter hour and windows last 15 minutes or more: the server
 * looks every 15 minutes, so an open spell shorter than that (a 10-minute window, or the 10 minutes a
 * fall-back hour leaves of 00:30–01:10) can slip between its looks; the console's answer is exact.
 */
function randomCase(next: () => number): { window: CallingWindow; tz: string; from: number } {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const end = Math.floor(next() * 96) * 15;
  const start = (end - 15 - Math.floor(next() * (24 * 60 - 30)) + 24 * 60) % (24 * 60); // 15 min to 23 h 45 before the end
  const days = next() < 0.3 ? ALL : ALL.filter(() => next() < 0.4);
  const around = next() < 0.7 ? pick(CLOCK_CHANGES) : utc("2026-01-01T00:00:00Z") + next() * 365 * DAY;
  const from = Math.floor(around + (next() - 0.5) * 8 * DAY);
  const blackoutDates = Array.from({ length: Math.floor(next() * next() * 12) }, () => iso(from + (next() * 20 - 1) * DAY)!.slice(0, 10));
  const window = win({ start: hhmm(start), end: hhmm(end), days: days.length ? days : ["wed"] });
  if (blackoutDates.length) window.blackoutDates = [...new Set(blackoutDates)].sort();
  return { window, tz: pick(ZONES), from };
}

describe("the console's first opening agrees with the server's nextOpening", () => {
  it("over 2,000 windows (overnight, few days, blackout dates) and start times around clock changes, to the minute", () => {
    const next = random(17);
    const differ: string[] = [];
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const { window, tz, from } = randomCase(next);
      const ours = firstOpening(window, tz, from);
      const server = nextOpening(window, tz, from);
      // The server looks 8 days ahead plus one a blackout date, then says "in a day"; ours looks 400 days.
      const horizon = from + (8 + (window.blackoutDates?.length ?? 0)) * DAY;
      const expected = ours === null || ours >= horizon ? from + DAY : ours;
      if (server !== expected) differ.push(`${JSON.stringify(window)} in ${tz} from ${iso(from)}: console ${iso(ours)}, server ${iso(server)}`);
      else compared++;
    }
    expect(differ).toEqual([]);
    expect(compared).toBe(2000);
  });

  it("and the cases above are such cases: overnight windows, single days, blackouts, both sides of each clock change", () => {
    const next = random(17);
    const cases = Array.from({ length: 2000 }, () => randomCase(next));
    const overnight = cases.filter((c) => c.window.end < c.window.start);
    expect(overnight.length).toBeGreaterThan(500);
    expect(cases.filter((c) => c.window.days.length === 1).length).toBeGreaterThan(100);
    expect(
      cases.filter((c) => c.window.blackoutDates && firstOpening({ ...c.window, blackoutDates: [] }, c.tz, c.from) !== firstOpening(c.window, c.tz, c.from))
        .length,
    ).toBeGreaterThan(100);
    for (const change of CLOCK_CHANGES) {
      expect(cases.filter((c) => c.from < change && firstOpening(c.window, c.tz, c.from)! > change).length).toBeGreaterThan(20);
    }
  });
});

describe("the New batch form's window fields", () => {
  const fields = { from: "", to: "", days: [...ALL], blackout: "" };

  it("send no window when none is set, and every field of one that is", () => {
    expect(readWindow(fields)).toEqual({ window: null, errors: {} });
    expect(readWindow({ ...fields, from: "22:00", to: "06:00", days: ["sun", "mon"], blackout: " 2026-12-26, 2026-12-25,2026-12-26 " })).toEqual({
      window: { start: "22:00", end: "06:00", days: ["mon", "sun"], timezone: "recipient", blackoutDates: ["2026-12-25", "2026-12-26"] },
      errors: {},
    });
  });

  it("name what is wrong: no day, dates that aren't, a missing or equal time", () => {
    expect(readWindow({ ...fields, from: "09:00", to: "17:00", days: [] }).errors).toEqual({ days: "Choose at least one day." });
    const dates = readWindow({ ...fields, from: "09:00", to: "17:00", blackout: "2026-12-25, 2026-02-30, 25/12/2026, 2026-13-01" });
    expect(dates).toEqual({ window: null, errors: { blackout: "Not a date (use YYYY-MM-DD): 2026-02-30, 25/12/2026, 2026-13-01." } });
    expect(readWindow({ ...fields, blackout: "2026-12-25" }).errors).toEqual({ times: "Give both times, from and to." });
    expect(readWindow({ ...fields, from: "09:00" }).errors).toEqual({ times: "Give both times, from and to." });
    expect(readWindow({ ...fields, from: "09:00", to: "09:00" }).errors.times).toMatch(/must differ/);
    const many = Array.from({ length: 367 }, (_, i) => iso(utc("2027-01-01") + i * DAY)!.slice(0, 10)).join(",");
    expect(readWindow({ ...fields, from: "09:00", to: "17:00", blackout: many }).errors).toEqual({ blackout: "At most 366 dates (367 given)." });
  });

  it("parse blackout dates separated by commas or spaces, each once, in order", () => {
    expect(parseDates("2027-01-01 2026-12-25;2026-12-25")).toEqual({ dates: ["2026-12-25", "2027-01-01"], invalid: [] });
    expect(parseDates("")).toEqual({ dates: [], invalid: [] });
  });
});

describe("the preview's sentence", () => {
  // Monday 30 November 2026, 08:00 in Kolkata (02:30 UTC); London is on GMT.
  const from = utc("2026-11-30T02:30:00Z");
  const KOLKATA = "Asia/Kolkata";

  it("says when a recipient there is first called, there and in the person's own time", () => {
    const w = win({ days: ["tue", "wed"], blackoutDates: ["2026-12-01"] });
    expect(previewText(w, "Europe/London", from, KOLKATA)).toBe("A recipient in London would first be called Wed 09:00 local (Wed 14:30 your time).");
    // 1 December is a blackout date in Kolkata too.
    expect(previewText(w, "", from, KOLKATA)).toBe("A recipient in your time zone would first be called Wed 09:00.");
    const never = win({ days: ["mon"], blackoutDates: Array.from({ length: 60 }, (_, i) => iso(from + i * 7 * DAY)!.slice(0, 10)) });
    expect(previewText(never, "Europe/London", from, KOLKATA)).toMatch(/^A recipient in London would not be called in the next year/);
  });

  it("gives the date as well when the first call is more than six days after the start", () => {
    expect(formatMoment(from + 6 * DAY, "UTC", from)).toBe("Sun 02:30");
    expect(formatMoment(from + 7 * DAY, "UTC", from)).toBe("Mon 7 Dec 02:30");
    // Monday 18:00 in London is past Monday's window: the next is a week on.
    expect(previewText(win({ days: ["mon"] }), "Europe/London", utc("2026-11-30T18:00:00Z"), KOLKATA)).toBe(
      "A recipient in London would first be called Mon 7 Dec 09:00 local (Mon 7 Dec 14:30 your time).",
    );
  });

  it("says calls start at the start time when there is no window", () => {
    expect(previewText(null, "Europe/London", from, KOLKATA)).toBe("No calling window: calls start at the start time (Mon 08:00 your time).");
    expect(previewText(null, "Europe/London", null, KOLKATA)).toBe("No calling window: calls start at the start time (as soon as you start the batch).");
  });
});

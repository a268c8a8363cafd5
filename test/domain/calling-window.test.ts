import { describe, expect, it } from "vitest";
import { parseBatchOptions } from "../../src/domain/batch-options";
import { type CallingWindow, CallingWindowSchema, isOpen, nextOpening } from "../../src/domain/calling-window";

const window = (w: Record<string, unknown>): CallingWindow => CallingWindowSchema.parse({ start: "09:00", end: "17:00", ...w });
const utc = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString();
/** The form's error for a callingWindow, as an upload would get it. */
const refusal = (w: Record<string, unknown>) => {
  const r = parseBatchOptions({ agentId: "a", callingWindow: JSON.stringify({ start: "09:00", end: "17:00", ...w }) }, new Date());
  return r.ok ? null : r.error;
};

describe("callingWindow: what a form may say", () => {
  it("keeps blackout dates sorted and each once, and leaves them out when not given", () => {
    expect(window({ blackoutDates: ["2026-12-26", "2026-12-25", "2026-12-26"] }).blackoutDates).toEqual(["2026-12-25", "2026-12-26"]);
    expect(window({}).blackoutDates).toBeUndefined();
    expect(window({}).overrides).toBeUndefined();
  });

  it.each([
    ["a date not on the calendar", { blackoutDates: ["2026-02-30"] }, "blackoutDates.0"],
    ["a month 13", { blackoutDates: ["2026-13-01"] }, "blackoutDates.0"],
    ["a date with a time", { blackoutDates: ["2026-12-25T00:00:00Z"] }, "blackoutDates.0"],
    ["more than 366 dates", { blackoutDates: Array.from({ length: 367 }, (_, i) => iso(utc("2027-01-01") + i * 86_400_000).slice(0, 10)) }, "blackoutDates"],
    ["a country in lower case", { overrides: { gb: { start: "10:00", end: "18:00" } } }, "overrides.gb"],
    ["a code that is no country", { overrides: { UK: { start: "10:00", end: "18:00" } } }, "overrides.UK"],
    ["an override with start = end", { overrides: { GB: { start: "10:00", end: "10:00" } } }, "overrides.GB.end"],
    ["an override with no days", { overrides: { GB: { start: "10:00", end: "18:00", days: [] } } }, "overrides.GB.days"],
    ["an override with a field it does not have", { overrides: { GB: { start: "10:00", end: "18:00", timezone: "Europe/London" } } }, "overrides.GB"],
  ])("refuses %s with a 400 naming the field", (_, w, field) => {
    const r = refusal(w);
    expect(r?.code).toBe("invalid_calling_window");
    expect(r?.message).toContain(field);
  });
});

describe("callingWindow: when it is open", () => {
  // 2027-01-04 is a Monday. London is on GMT in January, New York five hours behind.
  it("closes a blackout date and opens the next day", () => {
    const w = window({ blackoutDates: ["2027-01-04"] });
    expect(isOpen(w, "Europe/London", utc("2027-01-04T10:00:00Z"))).toBe(false);
    expect(iso(nextOpening(w, "Europe/London", utc("2027-01-04T10:00:00Z")))).toBe("2027-01-05T09:00:00.000Z");
    // the date is the recipient's: 23:30 in New York on the 3rd is the 4th in London, not in New York
    expect(isOpen(window({ start: "20:00", end: "23:59", blackoutDates: ["2027-01-04"] }), "America/New_York", utc("2027-01-04T04:30:00Z"))).toBe(true);
  });

  it("skips a run of blackout dates longer than a week", () => {
    const dates = Array.from({ length: 12 }, (_, i) => iso(utc("2026-12-24") + i * 86_400_000).slice(0, 10)); // 24 Dec … 4 Jan
    const opens = nextOpening(window({ blackoutDates: dates }), "America/New_York", utc("2026-12-23T23:00:00Z"));
    expect(iso(opens)).toBe("2027-01-05T14:00:00.000Z"); // Tuesday 5 January, 09:00 in New York
  });

  it("closes the whole night that starts on a blackout date, and only that night", () => {
    const night = window({ start: "22:00", end: "06:00", blackoutDates: ["2027-01-05"] });
    // Monday night's tail on Tuesday morning is open; Tuesday night, evening and tail, is closed
    expect(isOpen(night, "UTC", utc("2027-01-05T03:00:00Z"))).toBe(true);
    expect(isOpen(night, "UTC", utc("2027-01-05T23:00:00Z"))).toBe(false);
    expect(isOpen(night, "UTC", utc("2027-01-06T03:00:00Z"))).toBe(false);
    expect(iso(nextOpening(night, "UTC", utc("2027-01-05T07:00:00Z")))).toBe("2027-01-06T22:00:00.000Z");
  });

  it("uses a country's override for its recipients and the batch's hours for everyone else", () => {
    const w = window({ days: ["mon", "tue", "wed", "thu", "fri"], overrides: { GB: { start: "10:00", end: "18:00", days: ["sat"] } } });
    const monday9 = utc("2027-01-04T09:00:00Z");
    expect(isOpen(w, "Europe/London", monday9, "GB")).toBe(false);
    expect(iso(nextOpening(w, "Europe/London", monday9, "GB"))).toBe("2027-01-09T10:00:00.000Z"); // Saturday 10:00
    expect(isOpen(w, "Europe/London", monday9, "FR")).toBe(true);
    expect(isOpen(w, "Europe/London", monday9, null)).toBe(true);
  });

  it("finds the exact minute across a daylight-saving change next to a blackout date", () => {
    // Europe/London goes to BST at 01:00 UTC on Sunday 28 March 2027; Saturday 27 is blacked out
    const w = window({ start: "00:30", end: "03:00", blackoutDates: ["2027-03-27"] });
    expect(iso(nextOpening(w, "Europe/London", utc("2027-03-26T04:00:00Z")))).toBe("2027-03-28T00:30:00.000Z");
    expect(iso(nextOpening(w, "Europe/London", utc("2027-03-28T03:00:00Z")))).toBe("2027-03-28T23:30:00.000Z"); // Monday 00:30 BST
  });

  it("does not skip the day after a blackout when asked in its last minute", () => {
    const w = window({ start: "00:00", end: "01:00", blackoutDates: ["2027-01-04"] });
    expect(iso(nextOpening(w, "UTC", utc("2027-01-04T23:59:30Z")))).toBe("2027-01-05T00:00:00.000Z");
  });

  it("lands on the next local midnight after a 23-hour blackout day", () => {
    // 29 March 2026 is 23 hours long in London (clocks go forward at 01:00 GMT); the next day opens at 00:00 BST
    const w = window({ start: "00:00", end: "00:45", blackoutDates: ["2026-03-29"] });
    expect(iso(nextOpening(w, "Europe/London", utc("2026-03-29T00:30:00Z")))).toBe("2026-03-29T23:00:00.000Z");
  });

  it("answers from itself when open, and a minute-exact opening otherwise", () => {
    const w = window({});
    const at = utc("2027-01-04T12:34:56Z");
    expect(nextOpening(w, "UTC", at)).toBe(at);
    expect(iso(nextOpening(w, "UTC", utc("2027-01-04T08:59:30Z")))).toBe("2027-01-04T09:00:00.000Z");
  });
});

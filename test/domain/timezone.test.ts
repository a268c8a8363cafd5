import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { TIME_ZONE_LINKS, TimeZoneReader, UNLISTED_LOOKUPS, isIanaTimeZone } from "../../src/domain/timezone";

// Every Intl lookup is a DateTimeFormat built with a timeZone: counted.
const formats = vi.spyOn(Intl, "DateTimeFormat");
const asked = () => formats.mock.calls.map((c) => (c[1] as Intl.DateTimeFormatOptions | undefined)?.timeZone);
afterAll(() => formats.mockRestore());

const canonical = Intl.supportedValuesOf("timeZone");

/** A reader that has spent its lookups on unlisted names: from then on it asks Intl only about listed names and offsets. */
function spentReader(): TimeZoneReader {
  const reader = new TimeZoneReader();
  for (let i = 0; i < UNLISTED_LOOKUPS; i++) reader.read(`America/Spent${i}`);
  return reader;
}

// Deterministic PRNG so a failure names a reproducible input.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("TimeZoneReader", () => {
  beforeEach(() => {
    formats.mockClear();
  });

  it("accepts every canonical name in any case without asking Intl, as Intl does", () => {
    const reader = new TimeZoneReader();
    const spellings = canonical.flatMap((z) => [z, z.toLowerCase(), z.toUpperCase()]);
    expect(spellings.filter((z) => !reader.read(z))).toEqual([]);
    expect(formats).not.toHaveBeenCalled();
    expect(spellings.filter((z) => !isIanaTimeZone(z))).toEqual([]);
  });

  it("gives Intl's answer for each listed link, asking once per file whatever its case", () => {
    const reader = new TimeZoneReader();
    const wrong = TIME_ZONE_LINKS.filter((z) => reader.read(z) !== isIanaTimeZone(z));
    expect(wrong).toEqual([]);
    formats.mockClear();
    for (const z of ["US/Eastern", "us/eastern", "US/EASTERN"]) expect(reader.read(z)).toBe(true);
    expect(new TimeZoneReader().read("us/eastern")).toBe(true);
    expect(asked()).toEqual(["us/eastern"]);
    // The list holds no typos: this runtime knows every name but workerd's Factory.
    expect(TIME_ZONE_LINKS.filter((z) => !isIanaTimeZone(z) && z !== "Factory")).toEqual([]);
  });

  it("misses no name Intl accepts among near misses of the names it knows", { timeout: 60_000 }, () => {
    const names = [...canonical, ...TIME_ZONE_LINKS];
    const areas = [...new Set(names.filter((z) => z.includes("/")).map((z) => z.slice(0, z.indexOf("/"))))];
    const candidates = new Set<string>();
    for (const z of names) {
      const parts = z.split("/");
      for (let i = 1; i < parts.length; i++) {
        candidates.add(parts.slice(i).join("/"));
        candidates.add(parts.slice(0, i).join("/"));
      }
      for (const area of areas) candidates.add(`${area}/${parts.at(-1)}`);
      candidates.add(z.replaceAll("_", " ").replaceAll(" ", ""));
      candidates.add(`Etc/${z}`);
      candidates.add(`${z}/`);
    }
    const reader = spentReader();
    const wrong = [...candidates].filter((z) => reader.read(z) !== isIanaTimeZone(z));
    expect(wrong).toEqual([]);
    expect(candidates.size).toBeGreaterThan(5000);
  });

  it("agrees with Intl on random mutations of known names, refusing most without asking it", { timeout: 60_000 }, () => {
    const rand = rng(5);
    const names = [...canonical, ...TIME_ZONE_LINKS];
    const alphabet = "abcxyzAZ_/-+019:.";
    const values = Array.from({ length: 5000 }, () => {
      const z = names[Math.floor(rand() * names.length)]!;
      const at = Math.floor(rand() * (z.length + 1));
      const c = alphabet[Math.floor(rand() * alphabet.length)]!;
      return rand() < 0.4 ? z.slice(0, at) + c + z.slice(at) : rand() < 0.5 ? z.slice(0, at) + z.slice(at + 1) : z.slice(0, at) + c + z.slice(at + 1);
    });
    const reader = spentReader();
    formats.mockClear();
    const answers = values.map((z) => reader.read(z));
    const lookups = formats.mock.calls.length;
    expect(values.filter((z, i) => answers[i] !== isIanaTimeZone(z)).slice(0, 20)).toEqual([]);
    expect(answers.filter(Boolean).length).toBeGreaterThan(100);
    expect(lookups).toBeLessThan(250);
  });

  it("asks about UTC offsets once per sign and form, and refuses offsets out of range without asking", () => {
    const reader = new TimeZoneReader();
    const offsets = ["+05:30", "+01:00", "+23:59", "-0800", "-1130", "\u221205", "\u221211", "+00"];
    const answers = offsets.map((z) => reader.read(z));
    expect(answers).toEqual(offsets.map((z) => isIanaTimeZone(z)));
    formats.mockClear();
    const second = new TimeZoneReader();
    for (const z of offsets) {
      reader.read(z);
      second.read(z);
    }
    expect(asked()).toEqual(["+05:30", "-0800", "\u221205", "+00"]);
    formats.mockClear();
    const outOfRange = ["+24:00", "+05:60", "+5:30", "+05:3", "+053", "+05:30:00", "05:00"];
    expect(outOfRange.map((z) => reader.read(z))).toEqual(outOfRange.map(() => false));
    expect(formats).not.toHaveBeenCalled();
    expect(outOfRange.filter((z) => isIanaTimeZone(z))).toEqual([]);
  });

  it(`asks about at most ${UNLISTED_LOOKUPS} unlisted names under a known area per file, and refuses other unknown values without asking`, () => {
    const reader = new TimeZoneReader();
    const junk = Array.from({ length: 300 }, (_, i) => `America/Nowhere${i}`);
    expect(junk.filter((z) => reader.read(z))).toEqual([]);
    expect(asked()).toEqual(junk.slice(0, UNLISTED_LOOKUPS));
    formats.mockClear();
    expect(reader.read("America/Nowhere1")).toBe(false);
    expect(reader.readIfCheap("America/Nowhere299")).toBe(false);
    for (const z of ["Zone/123", "Mars/Base", "Nowhere", "not a zone", "x".repeat(65), "America/New York", "", "Amérique/Paris"])
      expect(reader.read(z), z).toBe(false);
    expect(formats).not.toHaveBeenCalled();
    // A listed name is still asked about once the budget is spent.
    expect(reader.read("US/Pacific")).toBe(true);
    expect(asked()).toEqual(["US/Pacific"]);
  });

  it("answers readIfCheap only when no lookup is needed", () => {
    const reader = new TimeZoneReader();
    expect(reader.readIfCheap("Europe/Paris")).toBe(true);
    expect(reader.readIfCheap("Zone/1")).toBe(false);
    expect(reader.readIfCheap("US/Eastern")).toBeUndefined();
    expect(reader.readIfCheap("America/Nowhere")).toBeUndefined();
    expect(reader.readIfCheap("+05:30")).toBeUndefined();
    expect(formats).not.toHaveBeenCalled();
    reader.read("US/Eastern");
    expect(reader.readIfCheap("US/EASTERN")).toBe(true);
  });
});

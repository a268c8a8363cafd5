import parsePhoneNumberFromString, { getCountries, getExampleNumber } from "libphonenumber-js/min";
import type { CountryCode } from "libphonenumber-js/min";
import metadata from "libphonenumber-js/min/metadata";
import examples from "libphonenumber-js/mobile/examples";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { PhoneReader, toE164, withoutInvisible } from "../../src/domain/phone";

// The library's general path, counted: the module under test and the oracle below share it.
vi.mock("libphonenumber-js/min", async (importOriginal) => {
  const lib = await importOriginal<typeof import("libphonenumber-js/min")>();
  return { ...lib, default: vi.fn(lib.default) };
});
const libraryCalls = vi.mocked(parsePhoneNumberFromString);

/** What the library's general path says: the reference toE164 must match. */
function oracle(raw: string, country: string): string | null {
  const p = parsePhoneNumberFromString(raw, country as CountryCode);
  return p?.isValid() ? p.number : null;
}

// Deterministic PRNG so a failure names a reproducible input.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function variants(nsn: string, cc: string, rand: () => number): string[] {
  const d = (i: number) => String(Math.floor(rand() * 10)).repeat(i);
  const tail = nsn.slice(0, -4) + d(1) + d(1) + d(1) + d(1);
  const pos = Math.floor(rand() * nsn.length);
  const mutated = nsn.slice(0, pos) + d(1) + nsn.slice(pos + 1);
  const out: string[] = [];
  for (const n of [nsn, tail, mutated, nsn + d(1), nsn.slice(0, -1)]) {
    out.push(
      `+${cc}${n}`,
      `+${cc} ${n.slice(0, 3)} ${n.slice(3)}`,
      n,
      `0${n}`,
      `(${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`,
      `00${cc}${n}`,
      `1${n}`,
      `${n.slice(0, 3)}.${n.slice(3)}`,
    );
  }
  return out;
}

describe("toE164", () => {
  // Tens of thousands of calls into the library's general path: seconds on a busy machine.
  it("agrees with libphonenumber's general path on every country's numbers in many shapes", { timeout: 60_000 }, () => {
    const rand = rng(42);
    let compared = 0;
    const mismatches: string[] = [];
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      for (let k = 0; k < 6; k++) {
        for (const raw of variants(example.nationalNumber, example.countryCallingCode, rand)) {
          for (const def of [country, "US", "GB"]) {
            compared++;
            const want = oracle(raw, def);
            const got = toE164(raw, def);
            if (got !== want && mismatches.length < 20) mismatches.push(`${JSON.stringify(raw)} in ${def}: got ${got}, want ${want}`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(50_000);
  });

  it("normalises the usual US shapes", () => {
    for (const raw of ["+1 212 555 0123", "(212) 555-0123", "212-555-0123", "212.555.0123", "+12125550123", "1-212-555-0123", " 2125550123 "]) {
      expect(toE164(raw, "US"), raw).toBe("+12125550123");
    }
  });

  it("rejects what is not a phone number", () => {
    for (const raw of ["", "   ", "abc", "12", "+", "+999 123", "555-0123", "2125550123456789012", "+1 212 555 012"]) {
      expect(toE164(raw, "US"), raw).toBeNull();
    }
  });

  it("reads numbers without + in the default country", () => {
    expect(toE164("020 7946 0958", "GB")).toBe("+442079460958");
    expect(toE164("030 123456", "DE")).toBe(oracle("030 123456", "DE"));
  });

  it("ignores invisible characters: zero-width spaces, bidirectional marks and isolates, the BOM, the soft hyphen", () => {
    for (const raw of [
      "\u200F+1 212 555 0123",
      "+1 212\u200B555\u200C0123",
      "\u202A+12125550123\u202C",
      "\u2066(212) 555-0123\u2069",
      "\uFEFF212.555.0123",
      "212\u00AD555\u20600123\u200E",
      "+1 212\u200F555 0123",
    ]) {
      expect(toE164(raw, "US"), JSON.stringify(raw)).toBe("+12125550123");
    }
    expect(withoutInvisible("\u202E+1 212\u200B555 0123\u2069")).toBe("+1 212555 0123");
    expect(withoutInvisible("Ann")).toBe("Ann");
  });

  it("reads full-width and Arabic-Indic digits and the full-width plus as their ASCII forms, without the library's general path", () => {
    const wide = (s: string) => s.replace(/[0-9+]/g, (c) => (c === "+" ? "\uFF0B" : String.fromCharCode(0xff10 + Number(c))));
    const arabic = (s: string) => s.replace(/[0-9]/g, (c) => String.fromCharCode(0x0660 + Number(c)));
    const persian = (s: string) => s.replace(/[0-9]/g, (c) => String.fromCharCode(0x06f0 + Number(c)));
    const mismatches: string[] = [];
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      const intl = `+${example.countryCallingCode} ${example.nationalNumber}`;
      const national = example.nationalNumber;
      for (const [raw, ascii] of [
        [wide(intl), intl],
        [arabic(intl), intl],
        [wide(national), national],
        [persian(national), national],
      ] as const) {
        const want = oracle(ascii, country);
        if (toE164(raw, country) !== want) mismatches.push(`${raw} in ${country}: got ${toE164(raw, country)}, want ${want}`);
      }
    }
    expect(mismatches).toEqual([]);
    libraryCalls.mockClear();
    expect(toE164("\uFF0B\uFF11 \uFF12\uFF11\uFF12 \uFF15\uFF15\uFF15 \uFF10\uFF11\uFF12\uFF13", "US")).toBe("+12125550123");
    expect(libraryCalls).not.toHaveBeenCalled();
  });

  it("does not read a full-width plus as the library's general path does (as a second calling code)", () => {
    const raw = "\uFF0B\uFF14\uFF19 \uFF11\uFF15\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18\uFF19";
    expect(oracle(raw, "DE")).toBe("+494915123456789");
    expect(toE164(raw, "DE")).toBe("+4915123456789");
  });
});

describe("values too short to be a number", () => {
  beforeEach(() => {
    libraryCalls.mockClear();
  });

  it("are refused without the library's general path", () => {
    for (const raw of ["1", "12", "123", "+1", "+12", "(1) 2-3", "n/a", "N/A", "-", "#N/A", "unknown", "\uFF11\uFF12", "tel:12", "x".repeat(300)]) {
      expect(toE164(raw, "US"), raw).toBeNull();
    }
    expect(libraryCalls).not.toHaveBeenCalled();
  });

  it("are what the library refuses too: no numbering plan has a number under 4 digits", { timeout: 60_000 }, () => {
    let shortest = Infinity;
    for (const plan of Object.values(metadata.countries) as unknown[][]) {
      for (const n of (plan[3] as number[] | undefined) ?? []) shortest = Math.min(shortest, n);
    }
    expect(shortest).toBe(4);
    // Every value of 1–3 digits, in the countries whose national-prefix rules add digits among others.
    const countries = ["US", "GB", "DE", "FR", "NU", "SH", "TK", "AG", "SM", "NF", "BR", "AR", "JP", "GA", "MG", "CC", "IM"];
    const accepted: string[] = [];
    for (let n = 0; n < 1110; n++) {
      const digits = n < 10 ? String(n) : n < 110 ? String(n - 10).padStart(2, "0") : String(n - 110).padStart(3, "0");
      for (const raw of [digits, `+${digits}`]) {
        for (const c of countries) if (oracle(raw, c) !== null) accepted.push(`${raw} in ${c}`);
      }
    }
    expect(accepted).toEqual([]);
  });
});

describe("PhoneReader", () => {
  beforeEach(() => {
    libraryCalls.mockClear();
  });

  it("gives toE164's answers, asking the library once for a value it needs that comes again", () => {
    const reader = new PhoneReader("US");
    for (let i = 0; i < 50; i++) {
      // "1 …" carries the national prefix: only the library's general path reads it.
      expect(reader.read("1 212 555 0123")).toBe("+12125550123");
      expect(reader.read("1 212 555 01")).toBeNull();
      expect(reader.read("+1 212 555 0123")).toBe("+12125550123");
    }
    expect(libraryCalls).toHaveBeenCalledTimes(2);
  });

  it("answers readIfCheap without the library: undefined until a value needing it has been read", () => {
    const reader = new PhoneReader("GB");
    expect(reader.readIfCheap("020 7946 0958")).toBeUndefined();
    expect(reader.readIfCheap("+44 20 7946 0958")).toBe("+442079460958");
    expect(reader.readIfCheap("12")).toBeNull();
    expect(libraryCalls).not.toHaveBeenCalled();
    expect(reader.read("020 7946 0958")).toBe("+442079460958");
    expect(reader.readIfCheap("020 7946 0958")).toBe("+442079460958");
    expect(libraryCalls).toHaveBeenCalledTimes(1);
  });

  it("keeps a bounded memo: the oldest values are forgotten, long ones never kept", () => {
    const reader = new PhoneReader("US");
    const value = (i: number) => `1 ${String(2_000_000_000 + i)}`;
    for (let i = 0; i < 5000; i++) reader.read(value(i));
    expect(reader.readIfCheap(value(0))).toBeUndefined();
    expect(reader.readIfCheap(value(4999))).toBeNull();
    const long = `1 212 555 0123${" ".repeat(60)}x`;
    reader.read(long);
    expect(reader.readIfCheap(long)).toBeUndefined();
  });
});

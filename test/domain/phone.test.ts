import parsePhoneNumberFromString, { getCountries, getCountryCallingCode, getExampleNumber } from "libphonenumber-js/min";
import type { CountryCode } from "libphonenumber-js/min";
import metadata from "libphonenumber-js/min/metadata";
import examples from "libphonenumber-js/mobile/examples";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { toE164, withoutInvisible } from "../../src/domain/phone";

// The library's general path, counted: the module under test must never need it.
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

/**
 * Runs every case through toE164 (which must never call the library's
 * general path), then through the library: the mismatches (at most 20),
 * and how many the library found valid (so a corpus of only junk shows).
 */
function compare(cases: [raw: string, country: string][]): { mismatches: string[]; valid: number } {
  libraryCalls.mockClear();
  const got = cases.map(([raw, country]) => toE164(raw, country));
  expect(libraryCalls).not.toHaveBeenCalled();
  const mismatches: string[] = [];
  let valid = 0;
  cases.forEach(([raw, country], i) => {
    const want = oracle(raw, country);
    if (want !== null) valid++;
    if (got[i] !== want && mismatches.length < 20) mismatches.push(`${JSON.stringify(raw)} in ${country}: got ${got[i]}, want ${want}`);
  });
  return { mismatches, valid };
}

const digitsOf = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");
const pickOf =
  (rand: () => number) =>
  <T>(list: readonly T[]): T =>
    list[Math.floor(rand() * list.length)]!;

// Every country whose numbers share calling code 1 (NANP).
const NANP = [
  "US",
  "CA",
  "AG",
  "AI",
  "AS",
  "BB",
  "BM",
  "BS",
  "DM",
  "DO",
  "GD",
  "GU",
  "JM",
  "KN",
  "KY",
  "LC",
  "MP",
  "MS",
  "PR",
  "SX",
  "TC",
  "TT",
  "VC",
  "VG",
  "VI",
];

describe("toE164 without the library's general path", () => {
  it("agrees with it on NANP numbers whose area code or exchange starts with 0 or 1, in every NANP country", { timeout: 60_000 }, () => {
    const rand = rng(7);
    const pick = pickOf(rand);
    const cases: [string, string][] = [];
    for (let k = 0; k < 12_000; k++) {
      const area = rand() < 0.6 ? pick(["0", "1"]) + digitsOf(rand, 2) : String(2 + Math.floor(rand() * 8)) + digitsOf(rand, 2);
      const exchange = rand() < 0.6 ? pick(["0", "1"]) + digitsOf(rand, 2) : String(2 + Math.floor(rand() * 8)) + digitsOf(rand, 2);
      const line = digitsOf(rand, 4);
      const ten = area + exchange + line;
      const shape = pick([
        ten,
        `1${ten}`,
        `1 ${ten}`,
        `+1${ten}`,
        `+1 1${ten}`,
        `+11${ten}`,
        `011${ten}`,
        `011 1${ten}`,
        `(${area}) ${exchange}-${line}`,
        `1-${area}-${exchange}-${line}`,
        exchange + line, // seven digits: some NANP countries add their area code
        `1${exchange}${line}`,
        ten + digitsOf(rand, 1),
        `1${ten}${digitsOf(rand, 1)}`,
      ]);
      cases.push([shape, pick(NANP)]);
    }
    const { mismatches, valid } = compare(cases);
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(500);
  });

  it("agrees with it on digits behind national, international and calling-code prefixes, in every country", { timeout: 60_000 }, () => {
    const rand = rng(11);
    const pick = pickOf(rand);
    const countries = getCountries();
    const cases: [string, string][] = [];
    for (const country of countries) {
      const cc = getCountryCallingCode(country);
      const example = getExampleNumber(country, examples)?.nationalNumber ?? digitsOf(rand, 9);
      for (let k = 0; k < 40; k++) {
        const prefix = pick([
          "",
          "0",
          "00",
          "011",
          "1",
          "8",
          "810",
          "0011",
          cc,
          `+${cc}`,
          `00${cc}`,
          `011${cc}`,
          `0${cc}`,
          `${cc}0`,
          "+",
          "+1",
          "+44",
          "+7",
          "+800",
        ]);
        const body =
          rand() < 0.4 ? digitsOf(rand, 1 + Math.floor(rand() * 22)) : rand() < 0.5 ? example : example.slice(0, -3) + digitsOf(rand, Math.floor(rand() * 6));
        cases.push([prefix + body, rand() < 0.6 ? country : pick(countries)]);
      }
    }
    const { mismatches, valid } = compare(cases);
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(1000);
  });

  it("reads the non-geographic calling codes (+800 freephone, +870 Inmarsat, +979 premium, …) as the library does", () => {
    expect(toE164("+800 1234 5678", "US")).toBe("+80012345678");
    expect(toE164("+979 123456789", "GB")).toBe("+979123456789");
    const rand = rng(13);
    const cases: [string, string][] = [];
    for (const cc of ["800", "808", "870", "878", "881", "882", "883", "888", "979"]) {
      for (let k = 0; k < 300; k++) cases.push([`+${cc} ${digitsOf(rand, 4 + Math.floor(rand() * 10))}`, "US"]);
    }
    const { mismatches, valid } = compare(cases);
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(100);
  });

  it("agrees with it on extensions, letters, separators and junk around or inside a number", { timeout: 60_000 }, () => {
    const rand = rng(17);
    const pick = pickOf(rand);
    const run = (parts: readonly string[], max: number) => Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(parts)).join("");
    const numbers = [
      "+1 212 555 0123",
      "212-555-0123",
      "(212) 555 0123",
      "2125550123",
      "+44 20 7946 0958",
      "020 7946 0958",
      "+49 30 123456",
      "1 212 555 0123",
      "123",
      "+7 912 345 67 89",
    ];
    // Every extension label, in other cases too, and characters whose upper case is ASCII (ſ, ı) or that are near one (İ, K).
    const labels = [
      ...["ext", "EXT", "Ext", "xt", "extn", "extension", "extensio", "extensió", "extensio\u0301", "ext.", "ext:", "x", "X", "#", "＃"],
      ...["~", "～", "int", "INT", "ｉｎｔ", "ｘ", "Ｘ", "ｅｘｔ", "ＥＸＴｎ", "доб", "ДОБ", "anexo", "ANEXO", ";ext=", ";EXT=", ";", ",", ",,", ",,,"],
      ...["", "-", " - ", "ſ", "ı", "İnt", "\u212Axt", "a", "e x t", ";isub=", ";isub=12", "z", "tel:"],
    ];
    const separators = [" ", "\u00A0", "\t", ",", "-", ".", ":", "．", "/", "(", ")", "~", "\u3000", "[", "]", "\u2010"];
    const cases: [string, string][] = [];
    for (let k = 0; k < 40_000; k++) {
      let s =
        (rand() < 0.2 ? pick(["tel:", "x", "Tel: ", "#", ";", "mobile "]) : "") + (rand() < 0.8 ? pick(numbers) : digitsOf(rand, Math.floor(rand() * 12)));
      s +=
        run(separators, 3) +
        pick(labels) +
        run(separators, 3) +
        (rand() < 0.3 ? pick(labels) : "") +
        digitsOf(rand, pick([0, 1, 5, 6, 7, 9, 10, 15, 16, 20, 21]));
      s += pick(["", "", "#", "##", " ", "x", "#1", " (home)"]);
      if (rand() < 0.2) {
        const at = Math.floor(rand() * s.length);
        s = s.slice(0, at) + pick([...separators, ...labels]) + s.slice(at);
      }
      cases.push([s.trim(), pick(["US", "GB", "DE", "RU", "BR", "AR", "JP"])]);
    }
    const { mismatches, valid } = compare(cases);
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(1000);
  });

  it("agrees with it on long values built to make regular expressions backtrack", { timeout: 60_000 }, () => {
    const rand = rng(19);
    const pick = pickOf(rand);
    const cases: [string, string][] = [];
    for (let k = 0; k < 200; k++) {
      const filler = pick([",", " ", "-", " ,", "\t", "1", "x", "  -", ", ", "1 "]).repeat(10 + Math.floor(rand() * 110));
      const value = `${pick(["+1 212 555 0123", "2125550123", "+44 20 7946 0958"])}${filler}${pick(["", "z", "5", "x5", ",5", "#", "5#", "ext 5", "- 12#", "z1"])}`;
      cases.push([value.slice(0, 250), "US"]);
    }
    const { mismatches, valid } = compare(cases);
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(20);
  });

  it("reads an RFC 3966 phone-context as the library does when its check of it starts afresh, every time", () => {
    // The library checks the context with global regular expressions whose lastIndex outlives the
    // call: after accepting "+1" it refuses it on its next call. A context neither accepts resets both.
    const fresh = (raw: string, country: string) => {
      oracle("1;phone-context=%", "US");
      return oracle(raw, country);
    };
    expect([oracle("tel:212-555-0123;phone-context=+1", "GB"), oracle("tel:212-555-0123;phone-context=+1", "GB")]).toEqual(["+12125550123", null]);
    const rand = rng(23);
    const pick = pickOf(rand);
    let valid = 0;
    const mismatches: string[] = [];
    libraryCalls.mockClear();
    for (let k = 0; k < 3000; k++) {
      const number = pick(["212-555-0123", "2125550123", "+1-212-555-0123", "7946 0958", "0958", "x", "", "20 7946 0958 ext 5", "212;isub=5"]);
      const context = pick([
        "+1",
        "+44",
        "+44-20",
        "+1(212)",
        "example.com",
        "1.example.com",
        "ex-1.",
        "1-2.com",
        "+",
        "%",
        "",
        "com.",
        "1..com",
        "+1x",
        "a--1",
      ]);
      const raw = `${pick(["tel:", "", "TEL:", "x tel:"])}${number};phone-context=${context}${pick(["", ";isub=1", ";ext=2", ";tel:1"])}`;
      const country = pick(["US", "GB", "DE"]);
      const got = [toE164(raw, country), toE164(raw, country)];
      const want = fresh(raw, country);
      if (want !== null) valid++;
      if ((got[0] !== want || got[1] !== want) && mismatches.length < 20) mismatches.push(`${JSON.stringify(raw)} in ${country}: got ${got}, want ${want}`);
    }
    expect(mismatches).toEqual([]);
    expect(valid).toBeGreaterThan(100);
  });
});

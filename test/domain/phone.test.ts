import parsePhoneNumberFromString, { getCountries, getExampleNumber } from "libphonenumber-js/min";
import type { CountryCode } from "libphonenumber-js/min";
import examples from "libphonenumber-js/mobile/examples";
import { describe, expect, it } from "vitest";
import { toE164 } from "../../src/domain/phone";

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
  it("agrees with libphonenumber's general path on every country's numbers in many shapes", () => {
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
});

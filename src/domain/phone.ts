import parsePhoneNumberFromString, { Metadata, getCountryCallingCode, isSupportedCountry } from "libphonenumber-js/min";
import type { CountryCode } from "libphonenumber-js/min";

/*
 * Phone numbers are normalised to E.164 with libphonenumber-js's "min"
 * metadata. Its general path (parse, then isValid) costs ~15 µs a number,
 * mostly because it compiles its regular expressions on every call. For the
 * shapes that make up nearly every CSV ("+<digits>" or national digits, with
 * spaces, dots, dashes or brackets) this module computes the same answer from
 * the same metadata with the regular expressions compiled once; anything
 * else goes through the library unchanged. test/domain/phone.test.ts checks
 * the two paths agree on a wide corpus.
 */

const SIMPLE_SHAPE = /^\+?[0-9 ().-]+$/;
const NON_DIGITS = /[^0-9]/g;
const FIXED_LINE = "FIXED_LINE";
// libphonenumber's order of non-fixed-line types (getNumberType).
const OTHER_TYPES = ["MOBILE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL"] as const;

type TypeRule = { re: RegExp; lengths: number[] | undefined };
type Plan = {
  country: string;
  nationalNumber: RegExp;
  hasTypes: boolean;
  leadingDigits: RegExp | undefined;
  nationalPrefix: RegExp | undefined;
  fixedLine: TypeRule | undefined;
  mobileIsFixedLine: boolean;
  others: TypeRule[];
};

// Narrow view of the library's Metadata class: only what this module reads.
type MetadataView = {
  selectNumberingPlan(country: string): void;
  nationalNumberPattern(): string;
  hasTypes(): boolean;
  leadingDigits(): string | undefined;
  nationalPrefixForParsing(): string | undefined;
  type(t: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
  hasCallingCode(cc: string): boolean;
  getCountryCodesForCallingCode(cc: string): string[] | undefined;
};

const metadata = new Metadata() as unknown as MetadataView;
const plans = new Map<string, Plan>();
const callingCodes = new Map<string, string>();

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function typeRule(t: string): TypeRule | undefined {
  const def = metadata.type(t);
  if (!def?.pattern()) return undefined;
  return { re: whole(def.pattern()), lengths: def.possibleLengths() };
}

function plan(country: string): Plan {
  let p = plans.get(country);
  if (p) return p;
  metadata.selectNumberingPlan(country);
  const leading = metadata.leadingDigits();
  const prefix = metadata.nationalPrefixForParsing();
  const mobile = metadata.type("MOBILE");
  p = {
    country,
    nationalNumber: whole(metadata.nationalNumberPattern()),
    hasTypes: metadata.hasTypes(),
    leadingDigits: leading ? new RegExp(leading) : undefined,
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    fixedLine: typeRule(FIXED_LINE),
    mobileIsFixedLine: !mobile || mobile.pattern() === "",
    others: OTHER_TYPES.map(typeRule).filter((r): r is TypeRule => r !== undefined),
  };
  plans.set(country, p);
  return p;
}

function matchesType(nsn: string, rule: TypeRule | undefined): boolean {
  if (!rule) return false;
  if (rule.lengths && !rule.lengths.includes(nsn.length)) return false;
  return rule.re.test(nsn);
}

/** Same decision as libphonenumber's getNumberType(...) !== undefined. */
function hasNumberType(nsn: string, p: Plan): boolean {
  if (!p.nationalNumber.test(nsn)) return false;
  if (matchesType(nsn, p.fixedLine)) return true;
  for (const rule of p.others) if (matchesType(nsn, rule)) return true;
  return false;
}

/**
 * Same decision as libphonenumber's getCountryByCallingCode. `typed` says
 * the country was chosen because the number matched one of its types, i.e.
 * it is already known to be valid there.
 */
function countryFor(cc: string, nsn: string): { country: string; typed: boolean } | undefined {
  const countries = metadata.getCountryCodesForCallingCode(cc);
  if (!countries) return undefined;
  if (countries.length === 1) return { country: countries[0]!, typed: false };
  for (const c of countries) {
    const p = plan(c);
    if (p.leadingDigits) {
      if (nsn.search(p.leadingDigits) === 0) return { country: c, typed: false };
    } else if (hasNumberType(nsn, p)) {
      return { country: c, typed: true };
    }
  }
  return undefined;
}

/**
 * Same decision as parse(...).isValid(): the exact country by calling code,
 * else the default country for a national number, else the calling code's main country.
 */
function isValidNsn(cc: string, nsn: string, nationalDefault: string | undefined): boolean {
  const found = countryFor(cc, nsn);
  const country = found?.country ?? nationalDefault ?? metadata.getCountryCodesForCallingCode(cc)?.[0];
  if (!country) return false;
  const p = plan(country);
  if (!p.hasTypes) return p.nationalNumber.test(nsn);
  return found?.typed === true || hasNumberType(nsn, p);
}

function callingCodeOf(country: string): string {
  let cc = callingCodes.get(country);
  if (cc === undefined) {
    cc = getCountryCallingCode(country as CountryCode);
    callingCodes.set(country, cc);
  }
  return cc;
}

export function isSupportedRegion(country: string): boolean {
  return isSupportedCountry(country);
}

function viaLibrary(raw: string, defaultCountry: string): string | null {
  const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * The number in E.164 form, or null when it is not a valid phone number.
 * `defaultCountry` (ISO 3166 alpha-2, already checked by the caller) applies
 * to numbers written without a leading `+`.
 */
export function toE164(raw: string, defaultCountry: string): string | null {
  const input = raw.trim();
  if (input.length === 0) return null;
  if (!SIMPLE_SHAPE.test(input)) return viaLibrary(input, defaultCountry);

  const digits = input.replace(NON_DIGITS, "");
  if (digits.length < 3 || digits.length > 17) return viaLibrary(input, defaultCountry);

  const international = input.charCodeAt(0) === 43; /* + */
  let cc: string | undefined;
  let nsn: string;
  if (international) {
    for (let len = 1; len <= 3 && !cc; len++) {
      const candidate = digits.slice(0, len);
      if (metadata.hasCallingCode(candidate)) cc = candidate;
    }
    if (!cc) return null;
    nsn = digits.slice(cc.length);
  } else {
    cc = callingCodeOf(defaultCountry);
    nsn = digits;
  }

  // A national prefix, an international dialling prefix, or a calling code
  // written without its "+" needs the library's rules for stripping it;
  // leave those numbers to it.
  const country = metadata.getCountryCodesForCallingCode(cc)?.[0];
  if (!country) return null;
  const main = plan(international ? country : defaultCountry);
  if (main.nationalPrefix?.test(nsn)) return viaLibrary(input, defaultCountry);
  if (!international && (digits.charCodeAt(0) === 48 /* 0 */ || digits.startsWith(cc))) return viaLibrary(input, defaultCountry);

  return isValidNsn(cc, nsn, international ? undefined : defaultCountry) ? `+${cc}${nsn}` : null;
}

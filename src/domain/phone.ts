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
 *
 * A value is read without its invisible characters, with full-width and
 * Arabic-Indic digits as ASCII; one with fewer than 4 digits is refused
 * without asking the library (junk such as `1`, `n/a` or `-` would cost its
 * general path every time). PhoneReader adds a bounded memo of the library's
 * answers for one file.
 */

const SIMPLE_SHAPE = /^\+?[0-9 ().-]+$/;
const NON_DIGITS = /[^0-9]/g;

/**
 * Fewer digits than this can never make a valid number: no numbering plan
 * has a national significant number shorter than 4 digits (the metadata's
 * possible lengths), the library reads a number's digits only out of what
 * was written, and the national-prefix rules that add digits (e.g. SM's
 * `0549`) only do so to a captured run of 5 or more.
 */
const MIN_DIGITS = 4;
/** libphonenumber refuses any text longer than this without reading it (MAX_INPUT_STRING_LENGTH). */
const MAX_INPUT_CHARS = 250;

/**
 * Characters that mean nothing in a phone number but ride along in pasted
 * text, unseen: the soft hyphen, zero-width spaces and joiners, the
 * left-to-right and right-to-left marks (U+200B–U+200F), bidirectional
 * embeddings and overrides (U+202A–U+202E), the word joiner and invisible
 * operators (U+2060–U+2064), bidirectional isolates (U+2066–U+2069) and the
 * zero-width no-break space (U+FEFF, the BOM).
 */
const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
/** Full-width plus and digits, Arabic-Indic and Eastern Arabic-Indic digits: the library reads them as ASCII. */
const WIDE = /[\uFF0B\uFF10-\uFF19\u0660-\u0669\u06F0-\u06F9]/g;

function asciiOf(c: string): string {
  const k = c.charCodeAt(0);
  if (k === 0xff0b) return "+";
  return String.fromCharCode(48 + k - (k >= 0xff10 ? 0xff10 : k >= 0x06f0 ? 0x06f0 : 0x0660));
}

/** A loop, not a regular expression: it runs on every row, and most values are a few ASCII characters. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The value without its invisible characters (see INVISIBLE): what an error echoes back. */
export function withoutInvisible(raw: string): string {
  return isAscii(raw) ? raw : raw.replace(INVISIBLE, "");
}

/** What is read as the number: no invisible characters, full-width and Arabic-Indic digits as ASCII, trimmed. */
function cleaned(raw: string): string {
  return (isAscii(raw) ? raw : raw.replace(INVISIBLE, "").replace(WIDE, asciiOf)).trim();
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

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

function viaLibrary(input: string, defaultCountry: string): string | null {
  const parsed = parsePhoneNumberFromString(input, defaultCountry as CountryCode);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * The answer for a cleaned, non-empty value when it is cheap: too few
 * digits or too long (null), or the shapes the module computes itself.
 * undefined: only the library's general rules can tell.
 */
function quickE164(input: string, defaultCountry: string): string | null | undefined {
  if (input.length < MIN_DIGITS || input.length > MAX_INPUT_CHARS) return null;
  if (!SIMPLE_SHAPE.test(input)) return countDigits(input) < MIN_DIGITS ? null : undefined;

  const digits = input.replace(NON_DIGITS, "");
  if (digits.length < MIN_DIGITS) return null;
  if (digits.length > 17) return undefined;

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
  if (main.nationalPrefix?.test(nsn)) return undefined;
  if (!international && (digits.charCodeAt(0) === 48 /* 0 */ || digits.startsWith(cc))) return undefined;

  return isValidNsn(cc, nsn, international ? undefined : defaultCountry) ? `+${cc}${nsn}` : null;
}

/**
 * The number in E.164 form, or null when it is not a valid phone number.
 * `defaultCountry` (ISO 3166 alpha-2, already checked by the caller) applies
 * to numbers written without a leading `+`. Invisible characters (see
 * INVISIBLE) are ignored; full-width and Arabic-Indic digits and the
 * full-width plus count as their ASCII forms.
 */
export function toE164(raw: string, defaultCountry: string): string | null {
  // Fewer characters than MIN_DIGITS cannot hold that many digits (cleaning never lengthens a value).
  if (raw.length < MIN_DIGITS) return null;
  const input = cleaned(raw);
  const quick = quickE164(input, defaultCountry);
  return quick === undefined ? viaLibrary(input, defaultCountry) : quick;
}

/** Values longer than this are not memoised: the memo's size stays bounded by entries × this. */
const MEMO_KEY_CHARS = 64;
const MEMO_ENTRIES = 4096;

/**
 * toE164 for one file and default country, with the library's general path
 * (tens of µs a value, where the shapes computed here take about one)
 * memoised by the cleaned value: a file that repeats an odd value pays for
 * it once. The memo holds at most 4,096 values of at most 64 characters,
 * oldest dropped first.
 */
export class PhoneReader {
  private readonly memo = new Map<string, string | null>();

  constructor(readonly defaultCountry: string) {}

  /** Same answer as toE164(raw, defaultCountry). */
  read(raw: string): string | null {
    if (raw.length < MIN_DIGITS) return null;
    const input = cleaned(raw);
    const quick = quickE164(input, this.defaultCountry);
    if (quick !== undefined) return quick;
    const known = this.memo.get(input);
    if (known !== undefined) return known;
    const e164 = viaLibrary(input, this.defaultCountry);
    if (input.length <= MEMO_KEY_CHARS) {
      if (this.memo.size >= MEMO_ENTRIES) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(input, e164);
    }
    return e164;
  }

  /** read(raw) when that is cheap (no call into the library's general path); undefined otherwise. */
  readIfCheap(raw: string): string | null | undefined {
    if (raw.length < MIN_DIGITS) return null;
    const input = cleaned(raw);
    const quick = quickE164(input, this.defaultCountry);
    return quick !== undefined ? quick : this.memo.get(input);
  }
}

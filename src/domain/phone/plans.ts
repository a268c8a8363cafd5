import { Metadata } from "libphonenumber-js/min";

/*
 * The library's numbering plans, read once from its "min" metadata with
 * their regular expressions compiled once: by country, by calling code, and
 * the countries sharing a calling code.
 */

const FIXED_LINE = "FIXED_LINE";
// libphonenumber's order of non-fixed-line types (getNumberType).
const OTHER_TYPES = ["MOBILE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL"] as const;

type TypeRule = { re: RegExp; lengths: number[] | undefined };
export type Plan = {
  callingCode: string;
  nationalNumberPattern: string;
  nationalNumber: RegExp;
  possibleLengths: number[] | undefined;
  hasTypes: boolean;
  /** The library searches for it and asks whether the first match is at 0. */
  leadingDigitsPattern: string | undefined;
  /** Anchored at the start, as the library compiles it. */
  nationalPrefix: RegExp | undefined;
  transformRule: string | undefined;
  /** Anchored at the start: the library asks whether its search finds it at 0. */
  idd: RegExp | undefined;
  fixedLine: TypeRule | undefined;
  others: TypeRule[];
};

// Narrow view of the library's Metadata class: only what this module reads.
type MetadataView = {
  selectNumberingPlan(countryOrCallingCode: string): void;
  numberingPlan: {
    callingCode(): string;
    IDDPrefix(): string | undefined;
    nationalNumberPattern(): string;
    possibleLengths(): number[] | undefined;
    nationalPrefixForParsing(): string | undefined;
    nationalPrefixTransformRule(): string | undefined;
    leadingDigits(): string | undefined;
    hasTypes(): boolean;
    type(t: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
  };
  hasCallingCode(cc: string): boolean | undefined;
  getCountryCodesForCallingCode(cc: string): string[] | undefined;
};

const metadata = new Metadata() as unknown as MetadataView;

/** Whether the metadata knows a country calling code. */
export function isCallingCode(cc: string): boolean {
  return Boolean(metadata.hasCallingCode(cc));
}

/** By country, or by calling code for the non-geographic ones (+800, +870, …). */
const plans = new Map<string, Plan>();

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

// The plan asked for last: most calls ask for the file's default country again and again.
let lastPlan: Plan | undefined;
let lastPlanKey = "";

/** The plan the library selects for a country, or for a calling code (its main country, or a non-geographic plan). */
export function plan(key: string): Plan {
  if (key === lastPlanKey && lastPlan) return lastPlan;
  let p = plans.get(key);
  if (p) {
    lastPlanKey = key;
    lastPlan = p;
    return p;
  }
  metadata.selectNumberingPlan(key);
  const np = metadata.numberingPlan;
  const typeRule = (t: string): TypeRule | undefined => {
    const def = np.type(t);
    return def?.pattern() ? { re: whole(def.pattern()), lengths: def.possibleLengths() } : undefined;
  };
  const leading = np.leadingDigits();
  const prefix = np.nationalPrefixForParsing();
  const idd = np.IDDPrefix();
  p = {
    callingCode: np.callingCode(),
    nationalNumberPattern: np.nationalNumberPattern(),
    nationalNumber: whole(np.nationalNumberPattern()),
    possibleLengths: np.possibleLengths(),
    hasTypes: np.hasTypes(),
    leadingDigitsPattern: leading || undefined,
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    transformRule: np.nationalPrefixTransformRule() || undefined,
    idd: idd ? new RegExp(`^(?:${idd})`) : undefined,
    fixedLine: typeRule(FIXED_LINE),
    others: OTHER_TYPES.map(typeRule).filter((r): r is TypeRule => r !== undefined),
  };
  plans.set(key, p);
  return p;
}

function matchesType(nsn: string, rule: TypeRule | undefined): boolean {
  if (!rule) return false;
  if (rule.lengths && !rule.lengths.includes(nsn.length)) return false;
  return rule.re.test(nsn);
}

/** Same decision as getNumberType(...) !== undefined. */
function hasNumberType(nsn: string, p: Plan): boolean {
  if (!p.nationalNumber.test(nsn)) return false;
  if (matchesType(nsn, p.fixedLine)) return true;
  for (const rule of p.others) if (matchesType(nsn, rule)) return true;
  return false;
}

/**
 * The countries sharing a calling code, in the metadata's order, with their
 * plans; their leading-digit patterns as one expression (each country's as
 * group `c<index>`: the first that matches is the first in the list); all
 * their national number patterns as one (a number none of them fits is
 * valid nowhere under the code); and their distinct possible lengths.
 */
type Sharing = {
  countries: { country: string; plan: Plan }[];
  leading: RegExp | undefined;
  anyNationalNumber: RegExp;
  lengths: (number[] | undefined)[];
};
/** By calling code; null for a non-geographic one. */
const sharing = new Map<string, Sharing | null>();

export function sharingOf(cc: string): Sharing | undefined {
  const known = sharing.get(cc);
  if (known !== undefined) return known ?? undefined;
  const countries = metadata.getCountryCodesForCallingCode(cc)?.map((country) => ({ country, plan: plan(country) }));
  let found: Sharing | null = null;
  if (countries) {
    const alternatives = countries.flatMap(({ plan: p }, i) => (p.leadingDigitsPattern ? [`(?<c${i}>${p.leadingDigitsPattern})`] : []));
    const lengths = new Map(countries.map(({ plan: p }) => [JSON.stringify(p.possibleLengths ?? null), p.possibleLengths]));
    found = {
      countries,
      leading: alternatives.length > 0 ? new RegExp(`^(?:${alternatives.join("|")})`) : undefined,
      anyNationalNumber: whole(countries.map(({ plan: p }) => `(?:${p.nationalNumberPattern})`).join("|")),
      lengths: [...lengths.values()],
    };
  }
  sharing.set(cc, found);
  return found ?? undefined;
}

/** The plan the library selects for a calling code: its main country's, or the non-geographic plan. */
export function planForCallingCode(cc: string): Plan {
  const main = sharingOf(cc)?.countries[0];
  return main ? main.plan : plan(cc);
}

/**
 * getCountryByCallingCode: the first of the countries sharing the calling
 * code whose leading digits start the number, or (for a country without
 * them) whose types it matches. `typed` says the country was chosen because
 * the number matched one of its types, i.e. it is already known to be valid there.
 */
export function countryFor(cc: string, nsn: string): { country: string; typed: boolean } | undefined {
  const s = sharingOf(cc);
  if (!s) return undefined;
  const { countries } = s;
  if (countries.length === 1) return { country: countries[0]!.country, typed: false };
  let first = countries.length;
  const groups = nsn !== "" ? s.leading?.exec(nsn)?.groups : undefined;
  if (groups) {
    for (let i = 0; i < countries.length && first === countries.length; i++) if (groups[`c${i}`] !== undefined) first = i;
  }
  for (let i = 0; i < first; i++) {
    const { country, plan: p } = countries[i]!;
    if (!p.leadingDigitsPattern && hasNumberType(nsn, p)) return { country, typed: true };
  }
  return first < countries.length ? { country: countries[first]!.country, typed: false } : undefined;
}

export function isValidIn(nsn: string, p: Plan): boolean {
  return p.hasTypes ? hasNumberType(nsn, p) : p.nationalNumber.test(nsn);
}

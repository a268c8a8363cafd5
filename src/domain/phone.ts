import { Metadata, isSupportedCountry } from "libphonenumber-js/min";

/*
 * Phone numbers are normalised to E.164 with libphonenumber-js's "min"
 * metadata. Its general path (parsePhoneNumberFromString, then isValid)
 * costs 15–50 µs a value (it compiles its regular expressions on every call
 * and throws an Error for every value it refuses), and some of its regular
 * expressions backtrack: a crafted 250-character value costs it over a
 * millisecond. A file of distinct junk values could therefore cost minutes.
 *
 * So this module computes the library's answer itself, from the same
 * metadata, with every regular expression compiled once and no step
 * costlier than linear in the value's length: the text is read as the
 * library reads it (where the number starts and ends, whether it is
 * "viable", where an extension starts), and the digits are parsed as the
 * library parses them (international dialling prefix, calling code written
 * without "+", national prefix and its transform rules, the country among
 * those sharing a calling code, then the validity check). The library's
 * general path is never called. test/domain/phone.test.ts checks the two
 * agree on wide corpora of real and crafted values in every country. (For
 * an RFC 3966 `;phone-context=` the library's own answer depends on its
 * previous call; see numberText.)
 *
 * A value is read without its invisible characters, with full-width and
 * Arabic-Indic digits as ASCII; one with fewer than 4 digits is refused at
 * once.
 */

/**
 * Fewer digits than this can never make a valid number: no numbering plan
 * has a national significant number shorter than 4 digits (the metadata's
 * possible lengths), the library reads a number's digits only out of what
 * was written, and the national-prefix rules that add digits (e.g. SM's
 * `0549`) only do so to a captured run of 5 or more.
 */
const MIN_DIGITS = 4;
/** libphonenumber refuses any text longer than this without reading it (MAX_INPUT_STRING_LENGTH), unless it names a phone context. */
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

/**
 * What is read as the number: no invisible characters, full-width and
 * Arabic-Indic digits as ASCII, trimmed. Every digit the library knows
 * (VALID_DIGITS) and its full-width plus are ASCII from here on.
 */
function cleaned(raw: string): string {
  return (isAscii(raw) ? raw : raw.replace(INVISIBLE, "").replace(WIDE, asciiOf)).trim();
}

const isDigit = (c: number) => c >= 48 && c <= 57;

// ---------------------------------------------------------------------------
// How the library reads the text (parse.js parseInput, isViablePhoneNumber,
// extension/createExtensionPattern, constants.js), without its regular
// expressions: those backtrack on long runs of digits or separators.

/** VALID_PUNCTUATION: dashes, slashes, dots, white space, brackets and tildes. */
const PUNCTUATION = new Set(
  Array.from(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30FC\uFF0D\uFF0F/\uFF0E. \u00A0\u00AD\u200B\u2060\u3000()\uFF08\uFF09\uFF3B\uFF3D[]~\u2053\u223C\uFF5E",
    (c) => c.charCodeAt(0),
  ),
);
/** PUNCTUATION's ASCII members by code: most values are ASCII. */
const ASCII_PUNCTUATION = Array.from({ length: 128 }, (_, c) => PUNCTUATION.has(c));
const isPunctuation = (c: number) => (c < 128 ? ASCII_PUNCTUATION[c]! : PUNCTUATION.has(c));
/** The tildes of VALID_PUNCTUATION: `~` and `～` are also extension labels. */
const TILDES = new Set([0x7e, 0x2053, 0x223c, 0xff5e]);

/**
 * What a regular expression's `i` flag compares (ECMAScript's Canonicalize
 * without the `u` flag): the upper case of a character, unless that is not
 * one character or would take a non-ASCII character to ASCII.
 */
function canon(code: number): number {
  if (code < 128) return code >= 97 && code <= 122 ? code - 32 : code;
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const u = upper.charCodeAt(0);
  return code >= 128 && u < 128 ? code : u;
}

/** A run of `min`–`max` characters from `chars`, or one of `words` (compared as Canonicalize does). */
type Segment = { chars: string; min: number; max: number } | { words: number[][]; byLast: Map<number, number[]> };

const run = (chars: string, min: number, max: number): Segment => ({ chars, min, max });
function oneOf(...list: string[]): Segment {
  const words = list.map((w) => Array.from(w, (c) => canon(c.charCodeAt(0))));
  const byLast = new Map<number, number[]>();
  for (const [i, w] of words.entries()) {
    const last = w[w.length - 1]!;
    byLast.set(last, [...(byLast.get(last) ?? []), i]);
  }
  return { words, byLast };
}
const EXT_DIGITS = "0123456789";

/** The explicit extension labels: e?xt(?:ensi(?:o\u0301?|ó))?n? | ｅ?ｘｔｎ? | доб | anexo. */
const EXPLICIT_LABELS = oneOf(
  ...["", "e"].flatMap((e) => ["", "ensio", "ensio\u0301", "ensi\u00F3"].flatMap((mid) => ["", "n"].map((n) => `${e}xt${mid}${n}`))),
  "\uFF58\uFF54",
  "\uFF45\uFF58\uFF54",
  "\uFF58\uFF54\uFF4E",
  "\uFF45\uFF58\uFF54\uFF4E",
  "\u0434\u043E\u0431",
  "anexo",
);
const AFTER_LABEL = run(":.\uFF0E", 0, 1);
const SEPARATORS_AFTER_LABEL = run(" \u00A0\t,-", 0, Infinity);
const HASH = run("#", 0, 1);

/**
 * The six forms of an extension (createExtensionPattern), each matched to
 * the end of the text: `;ext=123`; `ext. 123` and its other explicit
 * labels; `x123`, `#123`, `~123`, `int 123`; American `- 123#`; `,,123` or
 * `;123` (auto-dialling); `,123`.
 */
const EXTENSIONS: Segment[][] = [
  [oneOf(";ext="), run(EXT_DIGITS, 1, 20)],
  [run(" \u00A0\t,", 0, Infinity), EXPLICIT_LABELS, AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 20), HASH],
  [
    run(" \u00A0\t,", 0, Infinity),
    oneOf("x", "\uFF58", "#", "\uFF03", "~", "\uFF5E", "int", "\uFF49\uFF4E\uFF54"),
    AFTER_LABEL,
    SEPARATORS_AFTER_LABEL,
    run(EXT_DIGITS, 1, 9),
    HASH,
  ],
  [run("- ", 1, Infinity), run(EXT_DIGITS, 1, 6), oneOf("#")],
  [run(" \u00A0\t", 0, Infinity), oneOf(",,", ";"), AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 15), HASH],
  [run(" \u00A0\t", 0, Infinity), run(",", 1, Infinity), AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 9), HASH],
];

/*
 * Matching the forms to the end of the text runs an automaton over the text
 * from its end, right to left. A state is a form, one of its segments and
 * how much of that segment has been read: a count (capped at the segment's
 * minimum when it has no maximum), or a word and how many of its last
 * characters matched (word 0: none yet); WHOLE says a form has been read
 * whole, i.e. an extension starts here. The sets of states met are made
 * deterministic as they are met (one step per character: a map lookup),
 * and there are a few hundred of them (DFA_STATES bounds the cache anyway).
 */
const WHOLE = -1;
const stateOf = (form: number, segment: number, word: number, k: number) => ((form * 8 + segment) * 64 + word) * 64 + k;

/** Adds the states for entering `segment` of `form` (right to left) to `into`. */
function enter(form: number, segment: number, into: Set<number>): void {
  if (segment < 0) {
    into.add(WHOLE);
    return;
  }
  const g = EXTENSIONS[form]![segment]!;
  into.add(stateOf(form, segment, 0, 0));
  if (!("words" in g) && g.min === 0) enter(form, segment - 1, into);
}

/** The states after reading `ch` (whose Canonicalize is `c`) to the left of `from`. */
function step(from: readonly number[], ch: string, c: number): Set<number> {
  const next = new Set<number>();
  for (const state of from) {
    if (state === WHOLE) continue;
    const k = state % 64;
    const word = Math.floor(state / 64) % 64;
    const segment = Math.floor(state / 4096) % 8;
    const form = Math.floor(state / 32768);
    const g = EXTENSIONS[form]![segment]!;
    if ("words" in g) {
      // A word is matched from its last character; word 0 is "none chosen yet".
      const candidates = word === 0 ? (g.byLast.get(c) ?? []) : g.words[word - 1]![g.words[word - 1]!.length - 1 - k] === c ? [word - 1] : [];
      const matched = word === 0 ? 1 : k + 1;
      for (const w of candidates) {
        if (matched === g.words[w]!.length) enter(form, segment - 1, next);
        else next.add(stateOf(form, segment, w + 1, matched));
      }
    } else if (k < g.max && g.chars.includes(ch)) {
      const count = g.max === Infinity ? Math.min(k + 1, g.min) : k + 1;
      next.add(stateOf(form, segment, 0, count));
      if (count >= g.min) enter(form, segment - 1, next);
    }
  }
  return next;
}

type DfaState = { states: number[]; whole: boolean; next: Map<number, DfaState | null> };
/** Sets of states met so far, by their sorted states. */
const dfa = new Map<string, DfaState>();
const DFA_STATES = 4096;

function dfaState(states: Set<number>): DfaState | null {
  if (states.size === 0) return null;
  const sorted = [...states].sort((x, y) => x - y);
  const key = sorted.join(",");
  let d = dfa.get(key);
  if (!d) {
    d = { states: sorted, whole: states.has(WHOLE), next: new Map() };
    if (dfa.size < DFA_STATES) dfa.set(key, d);
  }
  return d;
}

/** Characters some segment reads (by Canonicalize for words): any other one ends every match. */
const READ = new Set(EXTENSIONS.flat().flatMap((g) => ("words" in g ? g.words.flat() : Array.from(g.chars, (c) => c.charCodeAt(0)))));

const START = (() => {
  const states = new Set<number>();
  for (let f = 0; f < EXTENSIONS.length; f++) enter(f, EXTENSIONS[f]!.length - 1, states);
  return dfaState(states)!;
})();

/** Marks in `starts` every i where text.slice(i) is, whole, one of the forms of an extension. */
function markExtensionStarts(text: string, starts: Uint8Array): void {
  let d: DfaState | null = START;
  for (let at = text.length - 1; at >= 0 && d; at--) {
    const code = text.charCodeAt(at);
    if (!READ.has(code) && !READ.has(canon(code))) return;
    let to = d.next.get(code);
    if (to === undefined) {
      to = dfaState(step(d.states, text[at]!, canon(code)));
      if (dfa.size < DFA_STATES) d.next.set(code, to);
    }
    if (to?.whole) starts[at] = 1;
    d = to;
  }
}

const PHONE_CONTEXT = ";phone-context=";

/** RFC 3966 global-number-digits: `+`, then digits and visual separators (`-` `.` `(` `)`) with at least one digit. */
function isGlobalNumberDigits(s: string): boolean {
  if (s[0] !== "+") return false;
  let digit = false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digit = true;
    else if (c !== 45 && c !== 46 && c !== 40 && c !== 41) return false;
  }
  return digit;
}

/** A run of hyphens and digits that is empty or ends with a digit (the library's `((\-)*[0-9])*`). */
const isHyphenDigits = (s: string) => /^[-0-9]*$/.test(s) && (s === "" || isDigit(s.charCodeAt(s.length - 1)));

/**
 * The library's RFC 3966 domain name: labels of digits (its "alphanumeric"
 * is digits only) joined by hyphens, each followed by a dot, then a top
 * label of ASCII letters and hyphenated digits, then an optional dot.
 */
function isDomainName(s: string): boolean {
  const labels = (s.endsWith(".") ? s.slice(0, -1) : s).split(".");
  const top = labels.pop()!;
  const letters = /^[A-Za-z]+/.exec(top);
  if (!letters || !isHyphenDigits(top.slice(letters[0].length))) return false;
  return labels.every((l) => l !== "" && isDigit(l.charCodeAt(0)) && isHyphenDigits(l));
}

/**
 * The text the library reads the number from, or null when there is none
 * (extractFormattedPhoneNumberFromPossibleRfc3966NumberUri):
 * - with a `;phone-context=` (RFC 3966), the context when it is a global
 *   number, then what stands between `tel:` (or the start) and the context.
 *   The library checks the context with two global regular expressions
 *   whose lastIndex carries over from one call to the next, so it refuses
 *   a context it accepted on its previous call; this is its answer with
 *   both fresh.
 * - otherwise: from the first `+` or digit to the last digit or `#`, and
 *   nothing when the value is over 250 characters;
 * then cut at `;isub=`.
 */
function numberText(input: string): string | null {
  const at = input.indexOf(PHONE_CONTEXT);
  let text: string;
  if (at < 0) {
    if (input.length > MAX_INPUT_CHARS) return null;
    let from = 0;
    while (from < input.length && input[from] !== "+" && !isDigit(input.charCodeAt(from))) from++;
    let to = input.length;
    while (to > from && input[to - 1] !== "#" && !isDigit(input.charCodeAt(to - 1))) to--;
    text = input.slice(from, to);
  } else {
    const start = at + PHONE_CONTEXT.length;
    const end = input.indexOf(";", start);
    const context = input.substring(start, end >= 0 ? end : input.length);
    if (context === "" || !(isGlobalNumberDigits(context) || isDomainName(context))) return null;
    const tel = input.indexOf("tel:");
    // substring, as the library does: when `tel:` comes after the context, it reads what lies between them.
    text = (context[0] === "+" ? context : "") + input.substring(tel >= 0 ? tel + 4 : 0, at);
  }
  const isub = text.indexOf(";isub=");
  if (isub > 0) text = text.substring(0, isub);
  return text === "" ? null : text;
}

/**
 * What the library parses of the text: its `+` and digits
 * (parseIncompletePhoneNumber) before any extension, or null when it
 * refuses the text (isViablePhoneNumber, then extractExtension).
 */
function numberDigits(text: string): string | null {
  // Viable: exactly two digits, or an optional plus, then punctuation and
  // digits with at least 3 digits, then optionally an extension. `plain` is
  // where that run of punctuation and digits ends.
  if (text.length === 2 && isDigit(text.charCodeAt(0)) && isDigit(text.charCodeAt(1))) return text;
  const plus = text[0] === "+" ? 1 : 0;
  let plain = plus;
  let digits = plus ? "+" : "";
  let count = 0;
  let tilde = false;
  for (; plain < text.length; plain++) {
    const c = text.charCodeAt(plain);
    if (isDigit(c)) {
      digits += text[plain];
      count++;
    } else if (!isPunctuation(c)) break;
    else if (TILDES.has(c)) tilde = true;
  }
  // Every extension holds a character outside punctuation and digits, or a tilde.
  if (plain === text.length && !tilde) return count >= 3 ? digits : null;

  const starts = new Uint8Array(text.length + 1);
  markExtensionStarts(text, starts);
  let viable = plain === text.length && count >= 3;
  for (let j = plus, before = 0; !viable && j <= plain; j++) {
    if (starts[j] === 1 && before >= 3) viable = true;
    if (j < plain && isDigit(text.charCodeAt(j))) before++;
  }
  if (!viable) return null;
  // The number stops where the first extension starts; the library reads a "+" only as its first character.
  const end = starts.indexOf(1);
  digits = plus ? "+" : "";
  for (let i = 0; i < (end >= 0 ? end : text.length); i++) if (isDigit(text.charCodeAt(i))) digits += text[i];
  return digits;
}

// ---------------------------------------------------------------------------
// How the library parses the digits (parse.js parsePhoneNumber and the
// helpers it calls, then isValid), from the same metadata.

const FIXED_LINE = "FIXED_LINE";
// libphonenumber's order of non-fixed-line types (getNumberType).
const OTHER_TYPES = ["MOBILE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL"] as const;
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

type TypeRule = { re: RegExp; lengths: number[] | undefined };
type Plan = {
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
/** By country, or by calling code for the non-geographic ones (+800, +870, …). */
const plans = new Map<string, Plan>();

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

// The plan asked for last: most calls ask for the file's default country again and again.
let lastPlan: Plan | undefined;
let lastPlanKey = "";

/** The plan the library selects for a country, or for a calling code (its main country, or a non-geographic plan). */
function plan(key: string): Plan {
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

function sharingOf(cc: string): Sharing | undefined {
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
function planForCallingCode(cc: string): Plan {
  const main = sharingOf(cc)?.countries[0];
  return main ? main.plan : plan(cc);
}

/**
 * getCountryByCallingCode: the first of the countries sharing the calling
 * code whose leading digits start the number, or (for a country without
 * them) whose types it matches. `typed` says the country was chosen because
 * the number matched one of its types, i.e. it is already known to be valid there.
 */
function countryFor(cc: string, nsn: string): { country: string; typed: boolean } | undefined {
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

/** checkNumberLength without a type: IS_POSSIBLE, TOO_SHORT, TOO_LONG or INVALID_LENGTH. */
function lengthVerdict(nsn: string, lengths: number[] | undefined): "possible" | "short" | "long" | "invalid" {
  if (!lengths) return "possible";
  const n = nsn.length;
  if (lengths[0] === n) return "possible";
  if (lengths[0]! > n) return "short";
  if (lengths[lengths.length - 1]! < n) return "long";
  return lengths.indexOf(n, 1) >= 0 ? "possible" : "invalid";
}

/** isPossibleIncompleteNationalNumber is false: checkNumberLength says TOO_SHORT or INVALID_LENGTH. */
function tooShort(nsn: string, lengths: number[] | undefined): boolean {
  const verdict = lengthVerdict(nsn, lengths);
  return verdict === "short" || verdict === "invalid";
}

/** extractNationalNumber(number, undefined, metadata with plan `p` selected): strips a national prefix or carrier code the plan knows. */
function nationalOf(number: string, p: Plan): string {
  if (number === "" || !p.nationalPrefix) return number;
  const m = p.nationalPrefix.exec(number);
  if (!m) return number;
  const groups = m.length - 1;
  const captured = groups > 0 && Boolean(m[groups]);
  const nsn = p.transformRule && captured ? number.replace(p.nationalPrefix, p.transformRule) : number.slice(m[0].length);
  if (nsn === number) return number;
  // Not a prefix when the number fits the plan with it and not without it, or when too little would be left.
  if (p.nationalNumber.test(number) && !p.nationalNumber.test(nsn)) return number;
  if (p.possibleLengths) {
    // Checked against the country the number would belong to, or the plan's own lengths: when all the
    // candidates agree, which one it is does not matter.
    const own = tooShort(nsn, p.possibleLengths);
    const agree = (sharingOf(p.callingCode)?.lengths ?? []).every((l) => tooShort(nsn, l) === own);
    const country = agree ? undefined : countryFor(p.callingCode, nsn)?.country;
    if (agree ? own : tooShort(nsn, country ? plan(country).possibleLengths : p.possibleLengths)) return number;
  }
  return nsn;
}

/** The library's E.164 answer for a number's `+` and digits (parseIncompletePhoneNumber's output), or null. */
function e164Of(digits: string, defaultCountry: string): string | null {
  let number = digits;
  let international = number[0] === "+";
  let cc: string | undefined;
  const home = plan(defaultCountry);
  // nationalOf(digits, home), when it had to be worked out before the end.
  let national: string | undefined;

  if (!international) {
    // stripIddPrefix: the default country's international dialling prefix, unless a 0 follows it.
    const idd = home.idd?.exec(number);
    const rest = idd ? number.slice(idd[0].length) : number;
    if (rest !== "" && rest !== number && rest[0] !== "0") {
      number = `+${rest}`;
      international = true;
    } else if (number.startsWith(home.callingCode)) {
      // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: the calling code written without "+".
      const shorter = number.slice(home.callingCode.length);
      const withCode = nationalOf(number, home);
      national = withCode;
      if (
        (!home.nationalNumber.test(withCode) && home.nationalNumber.test(nationalOf(shorter, home))) ||
        lengthVerdict(withCode, home.possibleLengths) === "long"
      ) {
        cc = home.callingCode;
        number = shorter;
      }
    }
  }
  if (international) {
    if (number[1] === "0") return null;
    for (let i = 2; i - 1 <= MAX_LENGTH_COUNTRY_CODE && i <= number.length && !cc; i++) {
      const candidate = number.slice(1, i);
      if (metadata.hasCallingCode(candidate)) {
        cc = candidate;
        number = number.slice(i);
      }
    }
    if (!cc) return null;
  }

  let country: string | undefined;
  let p: Plan;
  if (cc) {
    p = planForCallingCode(cc);
  } else {
    country = defaultCountry;
    p = home;
    cc = home.callingCode;
  }
  if (number === "") return null;
  const nsn = p === home && number === digits && national !== undefined ? national : nationalOf(number, p);
  // Whichever country it is checked in, a number that fits no national number pattern under its calling code is not valid.
  if (sharingOf(cc)?.anyNationalNumber.test(nsn) === false) return null;
  const exact = countryFor(cc, nsn);
  if (exact) country = exact.country;
  if (nsn.length < MIN_LENGTH_FOR_NSN || nsn.length > MAX_LENGTH_FOR_NSN) return null;

  // isValid: the number's country if known, else its calling code's plan.
  const valid = exact?.typed === true || isValidIn(nsn, country ? plan(country) : planForCallingCode(cc));
  return valid ? `+${cc}${nsn}` : null;
}

function isValidIn(nsn: string, p: Plan): boolean {
  return p.hasTypes ? hasNumberType(nsn, p) : p.nationalNumber.test(nsn);
}

export function isSupportedRegion(country: string): boolean {
  return isSupportedCountry(country);
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
  const text = numberText(cleaned(raw));
  const digits = text === null ? null : numberDigits(text);
  if (digits === null || digits.length - (digits[0] === "+" ? 1 : 0) < MIN_DIGITS) return null;
  return e164Of(digits, defaultCountry);
}

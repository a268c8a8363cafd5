import { isDigit, isPunctuation, TILDES } from "./characters";
import { markExtensionStarts } from "./extension";

/*
 * How the library reads the text (parse.js parseInput, isViablePhoneNumber,
 * constants.js; extension.ts finds where an extension starts), without its
 * regular expressions: those backtrack on long runs of digits or separators.
 */

/** libphonenumber refuses any text longer than this without reading it (MAX_INPUT_STRING_LENGTH), unless it names a phone context. */
const MAX_INPUT_CHARS = 250;

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
export function numberText(input: string): string | null {
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
export function numberDigits(text: string): string | null {
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

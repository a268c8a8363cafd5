import { isSupportedCountry } from "libphonenumber-js/min";
import { cleaned } from "./characters";
import { numberDigits, numberText } from "./number-text";
import { e164Of } from "./parse";
import { countryFor, isCallingCode } from "./plans";

export { withoutInvisible } from "./characters";

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
 * The parts: characters.ts (what each character means: invisible, wide
 * digits, punctuation), number-text.ts (where the number is in the text and
 * whether it is viable), extension.ts (where an extension starts),
 * plans.ts (the metadata's numbering plans), parse.ts (the digits to E.164).
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

export function isSupportedRegion(country: string): boolean {
  return isSupportedCountry(country);
}

/**
 * The number in E.164 form, or null when it is not a valid phone number.
 * `defaultCountry` (ISO 3166 alpha-2, already checked by the caller) applies
 * to numbers written without a leading `+`. Invisible characters (see
 * INVISIBLE in characters.ts) are ignored; full-width and Arabic-Indic digits and the
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

/**
 * The country (ISO 3166 alpha-2) an E.164 number belongs to, as the library
 * would say: the calling code (1 to 3 digits; no code is the start of
 * another) and, where countries share it (+1, +7, +44…), the one whose
 * leading digits or number types fit. Null for a non-geographic number
 * (+800…) or one the metadata does not place.
 */
export function countryOf(e164: string): string | null {
  if (!/^\+\d{4,15}$/.test(e164)) return null;
  for (let n = 1; n <= 3; n++) {
    const cc = e164.slice(1, 1 + n);
    if (isCallingCode(cc)) {
      const found = countryFor(cc, e164.slice(1 + n))?.country;
      return found && found !== "001" ? found : null;
    }
  }
  return null;
}

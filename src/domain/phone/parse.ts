import { countryFor, isCallingCode, isValidIn, type Plan, plan, planForCallingCode, sharingOf } from "./plans";

/*
 * How the library parses the digits (parse.js parsePhoneNumber and the
 * helpers it calls, then isValid), from the same metadata.
 */

const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

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
export function e164Of(digits: string, defaultCountry: string): string | null {
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
      if (isCallingCode(candidate)) {
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

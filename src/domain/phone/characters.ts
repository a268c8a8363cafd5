/*
 * What the characters of a value mean before it is read: the invisible ones
 * are dropped, full-width and Arabic-Indic digits are ASCII, and the
 * library's punctuation (VALID_PUNCTUATION) may sit between digits.
 */

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
export function cleaned(raw: string): string {
  return (isAscii(raw) ? raw : raw.replace(INVISIBLE, "").replace(WIDE, asciiOf)).trim();
}

export const isDigit = (c: number) => c >= 48 && c <= 57;

/** VALID_PUNCTUATION: dashes, slashes, dots, white space, brackets and tildes. */
const PUNCTUATION = new Set(
  Array.from(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30FC\uFF0D\uFF0F/\uFF0E. \u00A0\u00AD\u200B\u2060\u3000()\uFF08\uFF09\uFF3B\uFF3D[]~\u2053\u223C\uFF5E",
    (c) => c.charCodeAt(0),
  ),
);
/** PUNCTUATION's ASCII members by code: most values are ASCII. */
const ASCII_PUNCTUATION = Array.from({ length: 128 }, (_, c) => PUNCTUATION.has(c));
export const isPunctuation = (c: number) => (c < 128 ? ASCII_PUNCTUATION[c]! : PUNCTUATION.has(c));
/** The tildes of VALID_PUNCTUATION: `~` and `～` are also extension labels. */
export const TILDES = new Set([0x7e, 0x2053, 0x223c, 0xff5e]);

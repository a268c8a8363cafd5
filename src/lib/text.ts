/**
 * A value shortened for an error message: at most `max` characters, then
 * "…". Never ends on half of a surrogate pair, which JSON would carry as a
 * lone surrogate.
 */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = value.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at NUL on purpose: any byte above 0x7f is non-ASCII.
const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes of a string (decoded UTF-8, so no lone surrogates): its length when ASCII, counted otherwise. */
export function utf8Bytes(s: string): number {
  if (!NON_ASCII.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // each half of a surrogate pair counts 2: the pair is 4 bytes
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}

/**
 * The `after` cursor of GET …/calls: where the next page starts, as the
 * seq of the last call a page showed. Opaque to clients (they pass back
 * the `nextCursor` they were given); it carries a check over the batch and
 * the filter it was made for, so a cursor of another batch or listing, or
 * one edited by hand, is refused rather than read as some other position.
 * Not a secret: the check catches mistakes, it does not authorise (the
 * route has already checked who may read the batch).
 */

/** The listing a cursor belongs to: every call, one status, or one disposition. */
export type CursorFilter = { status: string | null; disposition: string | null };

const VERSION = "c1";

/** The cursor that resumes `filter`'s listing of `batchId` after the call `seq`. */
export function encodeCursor(batchId: string, filter: CursorFilter, seq: number): string {
  return `${VERSION}.${seq.toString(36)}.${check(batchId, filter, seq)}`;
}

/** The seq a cursor resumes after, or null when it is not one this batch and filter gave out. */
export function decodeCursor(batchId: string, filter: CursorFilter, cursor: string): number | null {
  const m = /^c1\.([0-9a-z]{1,12})\.([0-9a-z]{1,7})$/.exec(cursor);
  if (!m) return null;
  const seq = Number.parseInt(m[1]!, 36);
  if (!Number.isSafeInteger(seq) || seq.toString(36) !== m[1]) return null;
  return check(batchId, filter, seq) === m[2] ? seq : null;
}

/** FNV-1a (32 bits) of the batch, the filter and the seq, in base 36. */
function check(batchId: string, filter: CursorFilter, seq: number): string {
  const text = `${batchId}\n${filter.status ?? ""}\n${filter.disposition ?? ""}\n${seq}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

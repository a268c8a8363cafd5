import type { CallLedger, CallRow, MetadataExcerpt } from "../db/call-ledger";
import { callId } from "../lib/ids";
import type { CallStatus } from "../domain/vocabulary";
import type { CallView } from "../schemas/call";

export type { CallView };

/** Columns a metadata excerpt shows: the file's first ones. */
export const EXCERPT_COLUMNS = 10;
/** Characters an excerpt keeps of each column name and value; a longer one is cut and ends with "…". */
export const EXCERPT_CHARS = 100;
/** Bytes of JSON the calls of one /calls page may take. */
export const CALL_PAGE_MAX_BYTES = 1024 * 1024;

/** What the ledger reads for an excerpt: one character more than is shown, so a cut is known. */
const EXCERPT_READ: MetadataExcerpt = { columns: EXCERPT_COLUMNS, chars: EXCERPT_CHARS + 1 };

/** `s` cut to `max` characters (code points) with "…", or null if it is not longer. */
function cut(s: string, max: number): string | null {
  if (s.length <= max) return null;
  let i = 0;
  for (let n = 0; n < max && i < s.length; n++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i >= s.length ? null : `${s.slice(0, i)}…`;
}

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const jsonBytes = (v: unknown) => utf8Bytes(JSON.stringify(v));

function view(batchId: string, row: CallRow, metadata: Record<string, string>, truncated: boolean): CallView {
  return {
    jobId: callId(batchId, row.seq),
    status: row.status,
    phone_number: row.phone_number,
    startTime: row.start_time,
    endTime: row.end_time,
    duration: row.duration,
    error: row.error,
    metadata,
    attempts: row.attempts,
    outcome: row.outcome,
    nextAttemptAt: row.next_attempt_at,
    ...(truncated ? { metadataTruncated: true } : {}),
  };
}

/** A ledger row as the API shows a call: its id, times, result and every CSV column of the row by name. */
export function toCallView(batchId: string, row: CallRow, columns: string[]): CallView {
  const values = JSON.parse(row.metadata) as (string | null)[];
  // fromEntries defines each key as data, so a column named "__proto__" is kept like any other.
  return view(batchId, row, Object.fromEntries(columns.map((name, i) => [name, values[i] ?? ""])), false);
}

/**
 * The call with a bounded excerpt of its metadata: the first EXCERPT_COLUMNS
 * columns, names and values cut to EXCERPT_CHARS characters. The row's
 * metadata may be whole or already an excerpt (the ledger's *Excerpts reads).
 * `metadataTruncated` says when anything was left out or cut.
 */
export function toCallExcerpt(batchId: string, row: CallRow, columns: string[]): CallView {
  const values = JSON.parse(row.metadata) as (string | null)[];
  const entries: [string, string][] = [];
  const keys = new Set<string>();
  let truncated = columns.length > EXCERPT_COLUMNS;
  columns.slice(0, EXCERPT_COLUMNS).forEach((name, i) => {
    const key = cut(name, EXCERPT_CHARS) ?? name;
    const value = values[i] ?? "";
    const shown = cut(value, EXCERPT_CHARS);
    if (key !== name || shown !== null) truncated = true;
    // Two long names cut to the same text: the first keeps the key.
    if (keys.has(key)) return;
    keys.add(key);
    entries.push([key, shown ?? value]);
  });
  return view(batchId, row, Object.fromEntries(entries), truncated);
}

/** The most recently ended calls for `recent_calls`, read as excerpts. */
export function recentCallRows(ledger: CallLedger, limit: number): CallRow[] {
  return limit > 0 ? ledger.recentCallExcerpts(limit, EXCERPT_READ) : [];
}

/** The `call` events of these calls (those that still exist), each with a metadata excerpt. */
export function changedCalls(ledger: CallLedger, batchId: string, columns: string[], seqs: number[]): CallView[] {
  return ledger.callExcerpts(seqs, EXCERPT_READ).map((r) => toCallExcerpt(batchId, r, columns));
}

/** What a page of calls is built from: the rows with an excerpt and the stored size of their metadata, and one row's whole metadata on demand. */
export type CallPageSource = {
  rows: (CallRow & { metadata_bytes: number })[];
  metadataOf(seq: number): string | null;
};

/**
 * A /calls page whose calls take at most `maxBytes` of JSON, however wide
 * the rows: it always has every row of the page (offsets stay exact), each
 * with its whole metadata while the page has room, otherwise an excerpt,
 * or as a last resort none, marked `metadataTruncated`. Every call gets an
 * excerpt before any gets its whole row, in file order.
 */
export function boundedCalls(batchId: string, columns: string[], source: CallPageSource, maxBytes = CALL_PAGE_MAX_BYTES): CallView[] {
  const { rows } = source;
  const calls = rows.map((r) => view(batchId, r, {}, columns.length > 0));
  const sizes = calls.map(jsonBytes);
  const bare = [...sizes];
  let used = sizes.reduce((a, b) => a + b, 1 + Math.max(1, calls.length));
  const fits = (i: number, bytes: number) => used - sizes[i]! + bytes <= maxBytes;
  const take = (i: number, next: CallView) => {
    const bytes = jsonBytes(next);
    if (!fits(i, bytes)) return;
    used += bytes - sizes[i]!;
    sizes[i] = bytes;
    calls[i] = next;
  };
  for (const [i, r] of rows.entries()) take(i, toCallExcerpt(batchId, r, columns));
  // The whole object is the stored array plus each name, its quotes and a colon: a close guess, checked after.
  const names = columns.reduce((n, c) => n + jsonBytes(c) + 1, 0);
  for (const [i, r] of rows.entries()) {
    if (!calls[i]!.metadataTruncated || !fits(i, bare[i]! + r.metadata_bytes + names)) continue;
    const metadata = source.metadataOf(r.seq);
    if (metadata !== null) take(i, toCallView(batchId, { ...r, metadata }, columns));
  }
  return calls;
}

/** One page of a batch's calls from its ledger, bounded by boundedCalls. Synchronous: one snapshot of the ledger. */
export function readCallPage(
  ledger: CallLedger,
  batchId: string,
  columns: string[],
  page: { status: CallStatus | null; limit: number; offset: number; maxBytes?: number },
): CallView[] {
  const rows = ledger.listCallExcerpts(page.status, page.limit, page.offset, EXCERPT_READ);
  return boundedCalls(batchId, columns, { rows, metadataOf: (seq) => ledger.callMetadata(seq) }, page.maxBytes);
}

import type { AttemptRow, CallLedger, CallRow, MetadataExcerpt, ResultRow } from "../db/call-ledger";
import { callId } from "../lib/ids";
import { SENTIMENTS } from "../domain/vocabulary";
import { type CallAttemptView, type CallResultView, type CallView, WAIT_REASONS, type WaitReason } from "../schemas/call";

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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Where a call's transcript is read with the workspace's API key: a path on this service. */
export function transcriptPath(batchId: string, seq: number, attempt: number): string {
  return `/v1/api/batch-calls/${batchId}/calls/${callId(batchId, seq)}/transcript?attempt=${attempt}`;
}

/** A result's data fields: the stored JSON object, or none if it is not one. */
export function resultData(r: ResultRow): Record<string, string | number | boolean | null> {
  if (r.data === null) return {};
  try {
    const data = JSON.parse(r.data) as unknown;
    return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, string | number | boolean | null>) : {};
  } catch {
    return {};
  }
}

/** The agent's result as the API shows it: times as ISO 8601, the transcript as a link. */
export function resultView(batchId: string, r: ResultRow): CallResultView {
  return {
    attempt: r.attempt,
    disposition: r.disposition,
    summary: r.summary,
    sentiment: (SENTIMENTS as readonly string[]).includes(r.sentiment ?? "") ? (r.sentiment as CallResultView["sentiment"]) : null,
    data: resultData(r),
    transcriptUrl: r.transcript_key === null ? null : transcriptPath(batchId, r.seq, r.attempt),
    recordingUrl: r.recording_url,
    callbackAt: iso(r.callback_at),
    optOut: r.opt_out === 1,
    receivedAt: iso(r.received_at)!,
  };
}

/** A result without its two large parts (summary ≤ 4 KB, data ≤ 50 KB): what a full page still has room for. */
function slimResult(r: CallResultView): CallResultView {
  return { ...r, summary: null, data: {} };
}

/** How much of a call's result a view carries: all of it, or (a full page) the slim form, marked. */
type ResultPart = { result: CallResultView | null; truncated: boolean };

const wholeResult = (batchId: string, row: CallRow): ResultPart => ({ result: row.result ? resultView(batchId, row.result) : null, truncated: false });

/** A result cut as a metadata excerpt is: the summary and string data values to EXCERPT_CHARS, the first EXCERPT_COLUMNS data fields. */
function resultExcerpt(part: ResultPart): ResultPart {
  const r = part.result;
  if (!r) return part;
  const summary = r.summary === null ? null : cut(r.summary, EXCERPT_CHARS);
  const fields = Object.entries(r.data);
  let truncated = summary !== null || fields.length > EXCERPT_COLUMNS;
  const data = fields.slice(0, EXCERPT_COLUMNS).map(([name, value]) => {
    const shown = typeof value === "string" ? cut(value, EXCERPT_CHARS) : null;
    if (shown !== null) truncated = true;
    return [name, shown ?? value] as const;
  });
  return truncated ? { result: { ...r, summary: summary ?? r.summary, data: Object.fromEntries(data) }, truncated } : part;
}

/**
 * Every number of the recipient, phone_number first: the ledger's list when
 * the row had phone_number_2 … _5, else phone_number alone. (`numbers` is
 * undefined on a read that does not select it.)
 */
export function phoneNumbersOf(row: Pick<CallRow, "phone_number"> & { numbers?: string | null }): string[] {
  if (!row.numbers) return [row.phone_number];
  const numbers = JSON.parse(row.numbers) as unknown;
  return Array.isArray(numbers) && numbers.length > 0 && numbers.every((n) => typeof n === "string") ? numbers : [row.phone_number];
}

/** Why a waiting call is held, or null: the ledger keeps a reason only while the call waits, but a stale one is never shown. */
export function waitReasonOf(row: Pick<CallRow, "status"> & { wait_reason?: string | null }): WaitReason | null {
  const reason = row.wait_reason ?? null;
  return row.status === "waiting" && (WAIT_REASONS as readonly (string | null)[]).includes(reason) ? (reason as WaitReason) : null;
}

function view(batchId: string, row: CallRow, metadata: Record<string, string>, truncated: boolean, part = wholeResult(batchId, row)): CallView {
  return {
    jobId: callId(batchId, row.seq),
    status: row.status,
    phone_number: row.phone_number,
    phoneNumbers: phoneNumbersOf(row),
    startTime: row.start_time,
    endTime: row.end_time,
    duration: row.duration,
    error: row.error,
    metadata,
    attempts: row.attempts,
    outcome: row.outcome,
    nextAttemptAt: row.next_attempt_at,
    waitReason: waitReasonOf(row),
    ...(truncated ? { metadataTruncated: true } : {}),
    result: part.result,
    ...(part.truncated ? { resultTruncated: true } : {}),
  };
}

/** Every CSV column of a row by name. fromEntries defines each key as data, so a column named "__proto__" is kept like any other. */
export function metadataOf(row: Pick<CallRow, "metadata">, columns: string[]): Record<string, string> {
  const values = JSON.parse(row.metadata) as (string | null)[];
  return Object.fromEntries(columns.map((name, i) => [name, values[i] ?? ""]));
}

/** The first EXCERPT_COLUMNS columns, names and values cut to EXCERPT_CHARS characters, and whether anything was left out or cut. */
function excerptOf(row: CallRow, columns: string[]): { metadata: Record<string, string>; truncated: boolean } {
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
  return { metadata: Object.fromEntries(entries), truncated };
}

/** A ledger row as the API shows a call: its id, times, outcome, the agent's result and every CSV column of the row by name. */
export function toCallView(batchId: string, row: CallRow, columns: string[]): CallView {
  return view(batchId, row, metadataOf(row, columns), false);
}

/**
 * The call with a bounded excerpt of its metadata: the first EXCERPT_COLUMNS
 * columns, names and values cut to EXCERPT_CHARS characters. The row's
 * metadata may be whole or already an excerpt (the ledger's *Excerpts reads).
 * `metadataTruncated` says when anything was left out or cut; the result is
 * cut the same way (resultExcerpt), marked `resultTruncated`, so a status
 * body or an event stays small however much an agent reported.
 */
export function toCallExcerpt(batchId: string, row: CallRow, columns: string[]): CallView {
  const { metadata, truncated } = excerptOf(row, columns);
  return view(batchId, row, metadata, truncated, resultExcerpt(wholeResult(batchId, row)));
}

/**
 * A call's attempts as its history shows them: the finished ones the ledger
 * keeps, in order, then the one under way while the call is active (its
 * `from` is known when the agent's pool chose it; without a pool, once it
 * ends). `to` is the number an attempt called; history written before a
 * recipient could have several numbers has none, and called phone_number.
 */
export function attemptHistory(row: CallRow, finished: AttemptRow[]): CallAttemptView[] {
  const history = [...finished]
    .sort((a, b) => a.attempt - b.attempt)
    .map(
      (a): CallAttemptView => ({
        attempt: a.attempt,
        from: a.from_number,
        to: a.to_number ?? row.phone_number,
        startTime: a.start_time,
        endTime: a.end_time,
        outcome: a.outcome,
        duration: a.duration,
        error: a.error,
      }),
    );
  if (row.status === "active" && !history.some((a) => a.attempt === row.attempts)) {
    history.push({
      attempt: row.attempts,
      from: row.dial_from ?? null,
      to: row.dial_to ?? row.phone_number,
      startTime: row.start_time,
      endTime: null,
      outcome: null,
      duration: null,
      error: null,
    });
  }
  return history;
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

/** What one call of a bounded page shows so far. */
type Shown = { metadata: Record<string, string>; truncated: boolean; part: ResultPart };

/**
 * A /calls page whose calls take at most `maxBytes` of JSON, however wide
 * the rows and large the agents' results: it always has every row of the
 * page (offsets stay exact). Each call starts bare (metadata `{}`, its
 * result without summary and data, both marked); then, in file order, every
 * call gets its metadata excerpt, then every call its whole result, then
 * each its whole metadata, each step only while the page has room.
 */
export function boundedCalls(batchId: string, columns: string[], source: CallPageSource, maxBytes = CALL_PAGE_MAX_BYTES): CallView[] {
  const { rows } = source;
  const whole = rows.map((r) => wholeResult(batchId, r));
  const slim = whole.map(
    (p): ResultPart =>
      p.result && (p.result.summary !== null || Object.keys(p.result.data).length > 0) ? { result: slimResult(p.result), truncated: true } : p,
  );
  const shown: Shown[] = rows.map((_, i) => ({ metadata: {}, truncated: columns.length > 0, part: slim[i]! }));
  const build = (i: number, s: Shown) => view(batchId, rows[i]!, s.metadata, s.truncated, s.part);
  const calls = shown.map((s, i) => build(i, s));
  const sizes = calls.map(jsonBytes);
  let used = sizes.reduce((a, b) => a + b, 1 + Math.max(1, calls.length));
  const fits = (i: number, bytes: number) => used - sizes[i]! + bytes <= maxBytes;
  const take = (i: number, next: Shown) => {
    const call = build(i, next);
    const bytes = jsonBytes(call);
    if (!fits(i, bytes)) return;
    used += bytes - sizes[i]!;
    sizes[i] = bytes;
    calls[i] = call;
    shown[i] = next;
  };
  for (const [i, r] of rows.entries()) take(i, { ...shown[i]!, ...excerptOf(r, columns) });
  for (const i of rows.keys()) if (shown[i]!.part !== whole[i]) take(i, { ...shown[i]!, part: whole[i]! });
  // The whole object is the stored array plus each name, its quotes and a colon: a close guess, checked after.
  const names = columns.reduce((n, c) => n + jsonBytes(c) + 1, 0);
  for (const [i, r] of rows.entries()) {
    const s = shown[i]!;
    if (!s.truncated || !fits(i, jsonBytes(build(i, { ...s, metadata: {} })) + r.metadata_bytes + names)) continue;
    const metadata = source.metadataOf(r.seq);
    if (metadata !== null) take(i, { ...s, metadata: metadataOf({ metadata }, columns), truncated: false });
  }
  return calls;
}

import { EXPORT_PAGE_ROWS } from "../engine-config";
import { callId } from "../lib/ids";
import type { ResultsJsonlLine } from "../schemas/call";
import { attemptHistory, metadataOf, phoneNumbersOf, resultView, waitReasonOf } from "./call";
import { EXPORT_PAGE_BYTES, type ExportAfter, type ExportRow } from "./results-csv";

/** Transcripts read from R2 at once: a line group holds at most this many (≤ 256 KB each) in memory. */
export const TRANSCRIPT_READS = 16;

/** A transcript's turns by its R2 key, or null when it is gone or not a transcript. */
export type TranscriptOf = (key: string) => Promise<unknown[] | null>;

/** What results.jsonl reads: pages of calls with their attempts (the object's exportAfter with attempts), and transcripts. */
export type JsonlSource = { rows: ExportAfter; transcript: TranscriptOf };

/** The turns of a stored transcript: `{turns: [...]}` as the Worker writes it, or a bare array. */
export function transcriptTurns(stored: unknown): unknown[] | null {
  if (Array.isArray(stored)) return stored;
  if (typeof stored === "object" && stored !== null && Array.isArray((stored as { turns?: unknown }).turns)) return (stored as { turns: unknown[] }).turns;
  return null;
}

/** One recipient whole: the call, every column by name, every attempt, and the result with its transcript inline. */
export function jsonlLine(batchId: string, columns: string[], r: ExportRow, transcript: unknown[] | null): ResultsJsonlLine {
  const metadata = metadataOf(r, columns);
  return {
    callId: callId(batchId, r.seq),
    status: r.status,
    outcome: r.outcome,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    phone_number: Object.hasOwn(metadata, "phone_number") ? metadata.phone_number! : r.phone_number,
    e164: r.phone_number,
    phoneNumbers: phoneNumbersOf(r),
    waitReason: waitReasonOf(r),
    metadata,
    attemptHistory: attemptHistory(r, r.attemptList ?? []),
    result: r.result ? { ...resultView(batchId, r.result), transcript: transcript as NonNullable<ResultsJsonlLine["result"]>["transcript"] } : null,
  };
}

/**
 * results.jsonl as a stream: one JSON object per line per recipient, in
 * file order. Pages of calls are read as the client reads, and each pull
 * sends the next TRANSCRIPT_READS lines of the page, their transcripts read
 * from R2 together: neither the batch nor a page's transcripts sit in
 * memory at once.
 */
export function resultsJsonlStream(
  batchId: string,
  columns: string[],
  source: JsonlSource,
  pageRows = EXPORT_PAGE_ROWS,
  pageBytes = EXPORT_PAGE_BYTES,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let after = -1;
  let page: ExportRow[] = [];
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (page.length === 0) {
        page = await source.rows(after, pageRows, pageBytes);
        if (page.length === 0) return ctl.close();
        after = page.at(-1)!.seq;
      }
      const group = page.splice(0, TRANSCRIPT_READS);
      const transcripts = await Promise.all(group.map((r) => (r.result?.transcript_key ? source.transcript(r.result.transcript_key) : null)));
      const chunk = group.map((r, k) => `${JSON.stringify(jsonlLine(batchId, columns, r, transcripts[k] ?? null))}\n`).join("");
      ctl.enqueue(enc.encode(chunk));
    },
  });
}

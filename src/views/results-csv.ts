import type { CallRow } from "../db/call-ledger";
import { csvLine, RESULT_COLUMNS } from "../domain/results-csv";
import { EXPORT_PAGE_ROWS } from "../engine-config";
import { callId } from "../lib/ids";

/**
 * The calls after a seq, in file order, at most `limit`, and cut short
 * (but never empty while calls remain) once their metadata passes about
 * `maxBytes`: the batch object's callsAfter.
 */
export type CallsAfter = (afterSeq: number, limit: number, maxBytes: number) => Promise<CallRow[]>;

/**
 * Stored metadata per page read from the object: a page of wide rows stays
 * a few MB (one RPC answer, one chunk of the stream), not 1,000 × 128 KiB.
 */
export const EXPORT_PAGE_BYTES = 2 * 1024 * 1024;

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

/** One recipient's line: the file's own cells, then RESULT_COLUMNS. */
function resultLine(batchId: string, columns: string[], r: CallRow): string {
  const values = JSON.parse(r.metadata) as string[];
  return csvLine([
    ...columns.map((_, i) => values[i] ?? ""),
    r.phone_number,
    callId(batchId, r.seq),
    r.status,
    r.outcome,
    r.attempts,
    iso(r.start_time),
    iso(r.end_time),
    r.duration,
    r.error,
  ]);
}

/**
 * results.csv as a stream: the header, then the calls a page at a time,
 * pulled as the client reads, so a 200k-row batch never sits in memory at once.
 */
export function resultsCsvStream(
  batchId: string,
  columns: string[],
  callsAfter: CallsAfter,
  pageRows = EXPORT_PAGE_ROWS,
  pageBytes = EXPORT_PAGE_BYTES,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let after = -1;
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (!headerSent) {
        headerSent = true;
        ctl.enqueue(enc.encode(csvLine([...columns, ...RESULT_COLUMNS])));
        return;
      }
      const rows = await callsAfter(after, pageRows, pageBytes);
      if (rows.length === 0) return ctl.close();
      after = rows.at(-1)!.seq;
      let chunk = "";
      for (const r of rows) chunk += resultLine(batchId, columns, r);
      ctl.enqueue(enc.encode(chunk));
    },
  });
}

import type { AttemptRow, CallRow, ResultRow } from "../db/call-ledger";
import { AGENT_RESULT_COLUMNS, ATTEMPT_COLUMNS, csvLine, dataColumn, RESULT_COLUMNS, serviceColumnNames } from "../domain/results-csv";
import { EXPORT_PAGE_ROWS } from "../engine-config";
import { callId } from "../lib/ids";
import { attemptHistory, resultData, transcriptPath } from "./call";

/** A call as an export reads it: its row, its latest result, and (when asked for) every finished attempt. */
export type ExportRow = CallRow & { result: ResultRow | null; attemptList?: AttemptRow[] };

/**
 * The calls after a seq, in file order, at most `limit`, and cut short
 * (but never empty while calls remain) once their metadata passes about
 * `maxBytes`: the batch object's exportAfter.
 */
export type ExportAfter = (afterSeq: number, limit: number, maxBytes: number) => Promise<ExportRow[]>;

/** What results.csv reads from the batch's object: pages of calls, and the agent's data field names (read once, for the header). */
export type CsvSource = { rows: ExportAfter; fields: () => Promise<string[]> };

/**
 * Stored metadata per page read from the object: a page of wide rows stays
 * a few MB (one RPC answer, one chunk of the stream), not 1,000 × 128 KiB.
 */
export const EXPORT_PAGE_BYTES = 2 * 1024 * 1024;

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

const cellOf = (v: string | number | boolean | null | undefined) => (typeof v === "boolean" ? String(v) : v);

/** The header: the file's columns as they are, then the service's, each renamed if the file has its name (serviceColumnNames). */
export function resultsCsvHeader(columns: string[], fields: string[]): string[] {
  return [...columns, ...serviceColumnNames(columns, [...RESULT_COLUMNS, ...AGENT_RESULT_COLUMNS, ...fields.map(dataColumn), ...ATTEMPT_COLUMNS])];
}

/**
 * The caller ID and the number of the call's last attempt (ATTEMPT_COLUMNS):
 * from its history when the page has it, else from the row's current dial
 * (which knows the caller ID only when the agent's pool chose it); blank
 * before the first attempt.
 */
function lastDial(r: ExportRow): [from: string | null, to: string | null] {
  if (r.attemptList) {
    const last = attemptHistory(r, r.attemptList).at(-1);
    return last ? [last.from, last.to] : [null, null];
  }
  return r.attempts > 0 ? [r.dial_from ?? null, r.dial_to ?? r.phone_number] : [null, null];
}

/** One recipient's line: the file's own cells, then RESULT_COLUMNS, AGENT_RESULT_COLUMNS, the data fields and ATTEMPT_COLUMNS. */
function resultLine(batchId: string, columns: string[], fields: string[], r: ExportRow): string {
  const values = JSON.parse(r.metadata) as string[];
  const res = r.result;
  const data = res ? resultData(res) : {};
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
    r.disposition ?? res?.disposition,
    res?.summary,
    res?.sentiment,
    res?.recording_url,
    res?.transcript_key ? transcriptPath(batchId, r.seq, res.attempt) : "",
    iso(res?.callback_at ?? null),
    r.opted_out === 1 || res?.opt_out === 1 ? "true" : "false",
    ...fields.map((f) => cellOf(Object.hasOwn(data, f) ? data[f] : null)),
    ...lastDial(r),
  ]);
}

/**
 * results.csv as a stream: the header, then the calls a page at a time,
 * pulled as the client reads, so a 200k-row batch never sits in memory at once.
 * The data fields are those known when the header is written.
 */
export function resultsCsvStream(
  batchId: string,
  columns: string[],
  source: CsvSource,
  pageRows = EXPORT_PAGE_ROWS,
  pageBytes = EXPORT_PAGE_BYTES,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let after = -1;
  let fields: string[] | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (fields === null) {
        fields = await source.fields();
        ctl.enqueue(enc.encode(csvLine(resultsCsvHeader(columns, fields))));
        return;
      }
      const rows = await source.rows(after, pageRows, pageBytes);
      if (rows.length === 0) return ctl.close();
      after = rows.at(-1)!.seq;
      let chunk = "";
      for (const r of rows) chunk += resultLine(batchId, columns, fields, r);
      ctl.enqueue(enc.encode(chunk));
    },
  });
}

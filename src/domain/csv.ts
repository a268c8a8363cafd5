import Papa from "papaparse";
import { isIanaTimeZone } from "./batch-options";
import { toE164 } from "./phone";

/** One invalid row as the contract reports it; `row` is the 1-based line in the file. */
export type RowError = { row: number; column: string | null; value: string | null; message: string };

export const MAX_REPORTED_ERRORS = 100;
/** Characters decoded before each parse step; bounds the text held at once. */
const TEXT_CHUNK_CHARS = 1 << 20;
/** Rows per slice handed to the sink; keeps each JSON parameter well under 1 MB. */
const SLICE_ROWS = 4000;
const MAX_SLICES_IN_FLIGHT = 2;

const EMAIL = /^[^\s@",;<>]+@[^\s@",;<>]+\.[^\s@",;<>]+$/;

export type CsvScanOptions = {
  defaultCountry: string;
  /** Stop handing slices to the sink once any row is invalid (reject mode: they would be thrown away). */
  stopOnInvalid: boolean;
  /** Overrides the text chunk size (tests use tiny chunks to cross every boundary). */
  chunkChars?: number;
  /** Overrides the rows per slice. */
  sliceRows?: number;
  /** false: slices carry `[seq, e164]` only (intake's do-not-call check needs no more). Default true. */
  withValues?: boolean;
};

/**
 * Receives valid, de-duplicated rows in slices: a JSON array text of
 * `[seq, e164, [values…]]` entries and its row count. At most two slices
 * are in flight; the scan fails with the first write that fails.
 */
export type SliceSink = (sliceJson: string, rows: number) => Promise<void>;

export type CsvSummary = {
  columns: string[];
  dataRows: number;
  validRows: number;
  duplicatesRemoved: number;
  invalidRows: number;
  errors: RowError[];
};

export type CsvScanResult = { ok: true; summary: CsvSummary } | { ok: false; message: string };

/** `Phone Number` → `phone_number`: trimmed, lower-cased, spaces and hyphens to `_`. */
export function normalizeHeader(name: string): string {
  return name.replace(/^\uFEFF/, "").trim().toLowerCase().replace(/[\s-]+/g, "_");
}

type Columns = { names: string[]; phone: number; email: number; timezone: number };

function readHeader(row: string[]): Columns | string {
  const names = row.map(normalizeHeader);
  if (names.every((n) => n === "")) return "the first line must be a header row naming the columns";
  const seen = new Set<string>();
  for (const [i, n] of names.entries()) {
    if (n === "") return `header column ${i + 1} has no name`;
    if (seen.has(n)) return `the header names column "${n}" twice`;
    seen.add(n);
  }
  const phone = names.indexOf("phone_number");
  if (phone < 0) return 'the header has no phone_number column (a column named "phone_number" or "Phone Number")';
  return { names, phone, email: names.indexOf("email"), timezone: names.indexOf("timezone") };
}

function detectNewline(text: string): "\n" | "\r\n" | "\r" {
  const lf = text.indexOf("\n");
  const cr = text.indexOf("\r");
  if (cr !== -1 && (lf === -1 || cr < lf - 1)) return "\r";
  if (lf > 0 && cr === lf - 1) return "\r\n";
  return "\n";
}

function countChar(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

function isBlank(row: string[]): boolean {
  for (const f of row) if (f.trim() !== "") return false;
  return true;
}

/**
 * Streams a CSV through papaparse's parser a chunk at a time: the decoded
 * text, the parsed rows and the pending slice are all bounded by the chunk
 * size, whatever the file's length. Only the set of numbers seen (for
 * de-duplication) grows with the file.
 */
export async function scanCsv(stream: ReadableStream<Uint8Array>, opts: CsvScanOptions, sink: SliceSink | null): Promise<CsvScanResult> {
  // No sink: nothing to serialise (a check of the file alone).
  const emit = sink !== null;
  const withValues = opts.withValues ?? true;
  const reader = stream.pipeThrough(new TextDecoderStream("utf-8", { fatal: true })).getReader();
  const chunkChars = opts.chunkChars ?? TEXT_CHUNK_CHARS;
  const sliceRows = opts.sliceRows ?? SLICE_ROWS;
  const tzValid = new Map<string, boolean>();
  const seen = new Set<string>();
  const errors: RowError[] = [];
  let columns: Columns | null = null;
  let parser: Papa.Parser | null = null;
  let nlChar = "\n";
  let buffer = "";
  let done = false;
  let line = 1; // file line where the next chunk starts
  let dataRows = 0;
  let invalidRows = 0;
  let duplicates = 0;
  let seq = 0;
  let slice: string[] = [];
  // Slices being written. Two may be in flight: against remote D1 that hides
  // a round trip behind the parsing of the next slice; memory stays ~1 MB.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const settleAll = () => Promise.all(inFlight);

  const invalid = (row: number, column: string | null, value: string | null, message: string) => {
    invalidRows++;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column, value, message });
  };

  // An early return must not leave a slice write unobserved.
  const fail = async (message: string): Promise<CsvScanResult> => {
    await settleAll().catch(() => undefined);
    return { ok: false, message };
  };

  const flush = async () => {
    if (slice.length === 0) return;
    const json = `[${slice.join(",")}]`;
    const rows = slice.length;
    slice = [];
    while (inFlight.size >= MAX_SLICES_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) {
      // Let every write finish before the caller rolls back, so none lands after the undo.
      await settleAll();
      throw failure;
    }
    const write: Promise<void> = sink!(json, rows).then(
      () => void inFlight.delete(write),
      (err: unknown) => {
        inFlight.delete(write);
        failure ??= err;
      },
    );
    inFlight.add(write);
  };

  while (!done) {
    try {
      const { value, done: end } = await reader.read();
      if (value) buffer += value;
      done = end;
    } catch {
      return fail("the file is not valid UTF-8 text; save it as UTF-8 CSV");
    }
    if (!done && buffer.length < chunkChars) continue;

    if (!parser) {
      // The line ending is read off the first line break, so wait for one.
      // A CR at the very end may be the first half of a CRLF.
      const cr = buffer.indexOf("\r");
      if (!done && buffer.indexOf("\n") === -1 && (cr === -1 || cr === buffer.length - 1)) continue;
      if (buffer.trim() === "") return { ok: false, message: "the file is empty; the first line must be a header row" };
      const newline = detectNewline(buffer);
      nlChar = newline === "\r" ? "\r" : "\n";
      parser = new Papa.Parser({ delimiter: ",", newline, quoteChar: '"' });
    }

    const parsed = parser.parse(buffer, 0, !done) as { data: string[][]; errors: { row: number; message: string }[]; meta: { cursor: number } };
    const consumed = parsed.meta.cursor;
    const rows = parsed.data;
    // File line numbers are only needed for invalid rows: the chunk's first
    // line is known, and a row's own line is worked out only when asked.
    const chunkLine = line;
    const breaks = countChar(buffer.slice(0, consumed), nlChar);
    line += breaks;
    let lineStarts: number[] | null = null;
    const lineOf = (index: number): number => {
      // Every row but the file's last ends in a line break; any extra break sits inside a quoted field.
      if (breaks === (done ? rows.length - 1 : rows.length)) return chunkLine + index;
      if (!lineStarts) {
        lineStarts = [];
        let at = chunkLine;
        for (const r of rows) {
          lineStarts.push(at);
          at++;
          for (const f of r) if (f.length > 0) at += countChar(f, nlChar);
        }
      }
      return lineStarts[index]!;
    };
    buffer = buffer.slice(consumed);
    const badQuotes = new Set(parsed.errors.map((e) => e.row));

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;

      if (!columns) {
        if (isBlank(row)) continue;
        const header = readHeader(row);
        if (typeof header === "string") return fail(header);
        columns = header;
        continue;
      }
      if (isBlank(row)) continue;
      dataRows++;

      if (badQuotes.has(i)) {
        invalid(lineOf(i), null, null, "a quoted field is not closed properly; quotes inside a quoted field must be doubled");
        continue;
      }
      if (row.length > columns.names.length) {
        invalid(lineOf(i), null, null, `the row has ${row.length} fields but the header has ${columns.names.length}`);
        continue;
      }
      const rawPhone = row[columns.phone] ?? "";
      if (rawPhone.trim() === "") {
        invalid(lineOf(i), "phone_number", rawPhone, "phone_number is empty");
        continue;
      }
      const e164 = toE164(rawPhone, opts.defaultCountry);
      if (e164 === null) {
        invalid(lineOf(i), "phone_number", rawPhone, `not a valid phone number (numbers without + are read as ${opts.defaultCountry})`);
        continue;
      }
      if (columns.email >= 0) {
        const email = (row[columns.email] ?? "").trim();
        if (email !== "" && (email.length > 254 || !EMAIL.test(email))) {
          invalid(lineOf(i), "email", row[columns.email] ?? "", "not a valid email address");
          continue;
        }
      }
      if (columns.timezone >= 0) {
        const tz = (row[columns.timezone] ?? "").trim();
        if (tz !== "") {
          let ok = tzValid.get(tz);
          if (ok === undefined) tzValid.set(tz, (ok = isIanaTimeZone(tz)));
          if (!ok) {
            invalid(lineOf(i), "timezone", row[columns.timezone] ?? "", 'not an IANA time zone such as "America/New_York"');
            continue;
          }
        }
      }
      if (seen.has(e164)) {
        duplicates++;
        continue;
      }
      seen.add(e164);
      if (opts.stopOnInvalid && invalidRows > 0) continue;
      if (!emit) continue;
      // e164 is "+" and digits only, so it needs no JSON escaping
      slice.push(withValues ? `[${seq++},"${e164}",${JSON.stringify(row)}]` : `[${seq++},"${e164}"]`);
      if (slice.length >= sliceRows) await flush();
    }
  }

  if (!columns) return { ok: false, message: "the file is empty; the first line must be a header row" };
  if (opts.stopOnInvalid && invalidRows > 0) slice = [];
  await flush();
  await settleAll();
  if (failure) throw failure;
  return {
    ok: true,
    summary: {
      columns: columns.names,
      dataRows,
      validRows: seen.size,
      duplicatesRemoved: duplicates,
      invalidRows,
      errors,
    },
  };
}

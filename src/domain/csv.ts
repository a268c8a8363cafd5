import Papa from "papaparse";
import { CELL_MAX_BYTES, MAX_COLUMNS, ROW_MAX_BYTES, SLICE_MAX_BYTES, SLICE_MAX_ROWS } from "./csv-limits";
import { toE164, withoutInvisible } from "./phone";
import { TimeZoneReader } from "./timezone";

/** One invalid row as the contract reports it; `row` is the 1-based line in the file. */
export type RowError = { row: number; column: string | null; value: string | null; message: string };

export const MAX_REPORTED_ERRORS = 100;
/** Characters of a value or column name echoed into a row error: error bodies stay small. */
const MAX_ECHO_CHARS = 80;
/**
 * Characters decoded before each parse step; bounds the text held at once.
 * Small enough that a step's parsed rows (an array each) die young: at
 * 1 Mi characters a file of 2-byte rows built half a million arrays a step
 * and spent a third of its scan collecting them; at 256 Ki a valid file
 * scans as fast.
 */
const TEXT_CHUNK_CHARS = 1 << 18;
const MAX_SLICES_IN_FLIGHT = 2;

/** An address as `^[^\s@",;<>]+@[^\s@",;<>]+\.[^\s@",;<>]+$` reads it; that expression backtracks (~50 µs on 254 crafted characters). */
const EMAIL_PARTS = /^[^\s@",;<>]+@[^\s@",;<>]+$/;

function isEmail(s: string): boolean {
  if (!EMAIL_PARTS.test(s)) return false;
  // A dot in the domain with something on both sides of it.
  const dot = s.indexOf(".", s.indexOf("@") + 2);
  return dot > 0 && dot < s.length - 1;
}

export type CsvScanOptions = {
  defaultCountry: string;
  /**
   * Reject mode. Stop handing slices to the sink once any row is invalid
   * (they would be thrown away), and once MAX_REPORTED_ERRORS rows are
   * reported stop the checks that ask Intl (a time zone TimeZoneReader
   * cannot judge without it): the verdict and its details are settled, and
   * everything else is still counted.
   */
  stopOnInvalid: boolean;
  /** Overrides the text chunk size (tests use tiny chunks to cross every boundary). */
  chunkChars?: number;
  /** Overrides the rows per slice. */
  sliceRows?: number;
  /** Overrides the bytes of JSON text per slice. */
  sliceBytes?: number;
  /** false: slices carry `[seq, e164]` only (intake's do-not-call check needs no more). Default true. */
  withValues?: boolean;
};

/**
 * Receives valid, de-duplicated rows in slices: a JSON array text of
 * `[seq, e164, [values…]]` entries and its row count. A slice holds at most
 * SLICE_MAX_ROWS rows and SLICE_MAX_BYTES bytes of UTF-8. At most two slices
 * are in flight; the scan fails with the first write that fails.
 */
export type SliceSink = (sliceJson: string, rows: number) => Promise<void>;

export type CsvSummary = {
  columns: string[];
  dataRows: number;
  validRows: number;
  duplicatesRemoved: number;
  invalidRows: number;
  /**
   * true when a reject-mode scan left rows unchecked after its verdict was
   * settled (see CsvScanOptions.stopOnInvalid): `invalidRows`, `validRows`
   * and `duplicatesRemoved` are then lower bounds. Always false otherwise.
   */
  invalidRowsIsLowerBound: boolean;
  errors: RowError[];
};

export type CsvScanResult = { ok: true; summary: CsvSummary } | { ok: false; message: string };

/** `Phone Number` → `phone_number`: trimmed, lower-cased, spaces and hyphens to `_`. */
export function normalizeHeader(name: string): string {
  return name
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
}

/** The delimiters a header is tried with; commas come first, so they win ties. */
const DELIMITERS = [",", ";", "\t", "|"];
const DELIMITER_NAMES: Record<string, string> = { ",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes (|)" };
const delimiterName = (d: string) => DELIMITER_NAMES[d] ?? `"${d}"`;

/** How the file is read: its delimiter, and whether an Excel `sep=` line chose it. */
type Dialect = { delimiter: string; fromSepLine: boolean };

/**
 * The header's columns. `width` is the header's own field count: empty
 * trailing columns (`phone_number,first_name,,`, as spreadsheets save them)
 * are left out of `names`, and a row's cells under them must be empty.
 */
type Columns = { names: string[]; width: number; phone: number; email: number; timezone: number };

function readHeader(row: string[], dialect: Dialect): Columns | string {
  let names = row.map(normalizeHeader);
  let width = names.length;
  while (width > 0 && names[width - 1] === "") width--;
  if (width === 0) return "the first line must be a header row naming the columns";
  if (width > MAX_COLUMNS) {
    return `the header has ${thousands(width)} columns; a file may have at most ${MAX_COLUMNS} (phone_number and the known columns included)`;
  }
  names = names.slice(0, width);
  const big = oversize(row.slice(0, width));
  if (big) {
    return big.cell === null
      ? `the header is ${thousands(big.bytes)} bytes long; a row may be at most ${limitText(ROW_MAX_BYTES)}`
      : `header column ${big.cell + 1} is ${thousands(big.bytes)} bytes long; a column name may be at most ${limitText(CELL_MAX_BYTES)}`;
  }
  const seen = new Set<string>();
  for (const [i, n] of names.entries()) {
    if (n === "") return `header column ${i + 1} has no name`;
    if (seen.has(n)) return `the header names column "${echo(n)}" twice`;
    seen.add(n);
  }
  const phone = names.indexOf("phone_number");
  if (phone < 0) return missingPhone(row.slice(0, width), dialect);
  return { names, width: row.length, phone, email: names.indexOf("email"), timezone: names.indexOf("timezone") };
}

/** Names the columns that were found, and says so when the header seems split by another delimiter. */
function missingPhone(row: string[], dialect: Dialect): string {
  const SHOWN = 8;
  const shown = row.slice(0, SHOWN).map((f) => `"${echo(f.trim(), 40)}"`);
  const more = row.length > SHOWN ? ` and ${row.length - SHOWN} more` : "";
  let message =
    `the header has no phone_number column (a column named "phone_number" or "Phone Number"); ` +
    `it has ${row.length} column${row.length === 1 ? "" : "s"}: ${shown.join(", ")}${more}`;
  const other = DELIMITERS.find(
    (d) => d !== dialect.delimiter && row.some((f) => f.split(d).some((part) => normalizeHeader(part.replace(/"/g, "")) === "phone_number")),
  );
  if (other) {
    const why = dialect.fromSepLine ? "as the file's sep= line says" : "the most common of , ; tab and |";
    message += `. The header looks separated by ${delimiterName(other)}, but it was read as separated by ${delimiterName(dialect.delimiter)} (${why})`;
  }
  return message;
}

/**
 * Excel's `sep=X` first line: names the delimiter and is not the header.
 * Returns the line (with its line break) and the delimiter, null when the
 * file has none, or undefined while the first line is not yet complete.
 */
function readSepLine(text: string, done: boolean): { length: number; delimiter: string } | null | undefined {
  const head = text.slice(0, 4).toLowerCase();
  if (head.length < 4) return done || !"sep=".startsWith(head) ? null : undefined;
  if (head !== "sep=") return null;
  const m = /^sep=([^\r\n"])[ ]*(\r\n|\n|\r|$)/i.exec(text.slice(0, 64));
  if (!m) return done || text.length >= 64 ? null : undefined;
  const end = m[0].length;
  // No line break yet, or a CR that may be the first half of a CRLF: wait for more.
  if (!done && (m[2] === "" || (m[2] === "\r" && end === text.length))) return undefined;
  return { length: end, delimiter: m[1]! };
}

/**
 * Picks the delimiter that splits the first non-blank line, outside quotes,
 * into the most fields. Resumable: the header may arrive over several reads,
 * and each character is looked at once.
 */
class DelimiterSniffer {
  private at = 0;
  private counts = DELIMITERS.map(() => 0);
  private quoted = false;
  private content = false;

  /** The delimiter, or null while the first non-blank line is not complete in `text`. */
  feed(text: string, done: boolean): string | null {
    for (; this.at < text.length; this.at++) {
      const c = text[this.at]!;
      if (c === '"') this.quoted = !this.quoted;
      else if (this.quoted) this.content ||= c.trim() !== "";
      else if (c === "\n" || c === "\r") {
        // A CR at the very end may be the first half of a CRLF: look at it again with more text.
        if (c === "\r" && this.at === text.length - 1 && !done) return null;
        if (this.content) return this.pick();
        this.counts.fill(0);
      } else {
        const k = DELIMITERS.indexOf(c);
        if (k >= 0) this.counts[k]!++;
        else this.content ||= c.trim() !== "";
      }
    }
    return done ? this.pick() : null;
  }

  private pick(): string {
    let best = 0;
    this.counts.forEach((n, k) => {
      if (n > this.counts[best]!) best = k;
    });
    return DELIMITERS[best]!;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at NUL on purpose: any byte above 0x7f is non-ASCII.
const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes of a string (decoded UTF-8, so no lone surrogates): its length when ASCII, counted otherwise. */
function utf8Bytes(s: string): number {
  if (!NON_ASCII.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // each half of a surrogate pair counts 2: the pair is 4 bytes
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}

/**
 * The first size limit a row breaks: a cell over CELL_MAX_BYTES (its
 * index), or the whole row over ROW_MAX_BYTES (cell null). A string of n
 * UTF-16 units is n to 3n UTF-8 bytes, so bytes are counted only where 3n
 * could break a limit: ordinary rows cost one length sum.
 */
function oversize(row: string[]): { cell: number | null; bytes: number } | null {
  let chars = row.length; // one separator per cell
  for (let j = 0; j < row.length; j++) {
    const n = row[j]!.length;
    chars += n;
    if (n * 3 > CELL_MAX_BYTES) {
      const bytes = utf8Bytes(row[j]!);
      if (bytes > CELL_MAX_BYTES) return { cell: j, bytes };
    }
  }
  if (chars * 3 <= ROW_MAX_BYTES) return null;
  let bytes = row.length;
  for (const f of row) bytes += utf8Bytes(f);
  return bytes > ROW_MAX_BYTES ? { cell: null, bytes } : null;
}

function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function limitText(bytes: number): string {
  return `${thousands(bytes)} bytes (${bytes / 1024} KiB)`;
}

/** A value as an error may echo it: at most MAX_ECHO_CHARS characters, never half a surrogate pair. */
function echo(s: string, max = MAX_ECHO_CHARS): string {
  if (s.length <= max) return s;
  const cut = /[\ud800-\udbff]/.test(s[max - 1]!) ? max - 1 : max;
  return `${s.slice(0, cut)}…`;
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

/** The index of the first cell from `from` on that holds more than whitespace, or -1. */
function firstValueFrom(row: string[], from: number): number {
  for (let j = from; j < row.length; j++) if (row[j]!.trim() !== "") return j;
  return -1;
}

const NOT_UTF8 = "the file is not valid UTF-8 text; save it as UTF-8 CSV";
const UTF16 = 'the file is not UTF-8 text: it looks like UTF-16 ("Unicode text"); save it as UTF-8 CSV (in Excel: "CSV UTF-8")';

/**
 * Whether the file's first two bytes say UTF-16: its byte order mark, or —
 * without one — a NUL byte beside the first character, as UTF-16 writes
 * every ASCII character (after it little-endian, before it big-endian).
 * UTF-8 text never starts with a NUL.
 */
function looksUtf16(b0: number, b1: number): boolean {
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return true;
  return (b0 === 0) !== (b1 === 0);
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * Streams a CSV through papaparse's parser a chunk at a time: the decoded
 * text and the parsed rows are bounded by the chunk size (or the longest
 * row, itself bounded by the file limit), the pending slice by
 * SLICE_MAX_BYTES, whatever the file's length. Only the set of numbers seen
 * (for de-duplication) grows with the file.
 *
 * The dialect is read off the file's start: an Excel `sep=X` line names the
 * delimiter; otherwise the one of `,` `;` tab `|` that splits the header,
 * outside quotes, into the most fields (commas win ties).
 */
export async function scanCsv(stream: ReadableStream<Uint8Array>, opts: CsvScanOptions, sink: SliceSink | null): Promise<CsvScanResult> {
  // No sink: nothing to serialise (a check of the file alone).
  const emit = sink !== null;
  const withValues = opts.withValues ?? true;
  const reader = stream.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  // The file's first bytes, held until two are known (see looksUtf16); null once checked.
  let head: Uint8Array | null = new Uint8Array(0);
  const chunkChars = opts.chunkChars ?? TEXT_CHUNK_CHARS;
  const sliceRows = opts.sliceRows ?? SLICE_MAX_ROWS;
  const sliceBudget = opts.sliceBytes ?? SLICE_MAX_BYTES;
  const zones = new TimeZoneReader();
  const notANumber = `not a valid phone number (numbers without + are read as ${opts.defaultCountry})`;
  // Reject mode, once the details are full: the answer is a 400 with these
  // details whatever the rest holds, so only cheap checks run from then on.
  let settled = false;
  let lowerBound = false;
  const seen = new Set<string>();
  const errors: RowError[] = [];
  let columns: Columns | null = null;
  let dialect: Dialect | null = null;
  let sepLine: { length: number; delimiter: string } | null | undefined;
  const sniffer = new DelimiterSniffer();
  let parser: Papa.Parser | null = null;
  let nlChar = "\n";
  let buffer = "";
  let done = false;
  let line = 1; // file line where the next chunk starts
  // Text held before the next parse step. A row longer than a chunk stays
  // unconsumed; waiting for the text to double before parsing it again keeps
  // the work linear in the row's length (it is re-read from its start).
  let parseAt = chunkChars;
  let dataRows = 0;
  let invalidRows = 0;
  let duplicates = 0;
  let seq = 0;
  // The pending slice. Its UTF-8 size is `sliceBytes` for the first
  // `measured` entries (with their commas and the brackets) plus at most 3×
  // the UTF-16 length of the rest, `unmeasuredChars`: bytes are only counted
  // once that bound could break the budget, so slices of short rows never are.
  let slice: string[] = [];
  let sliceBytes = 1;
  let measured = 0;
  let unmeasuredChars = 0;
  const resetSlice = () => {
    slice = [];
    sliceBytes = 1;
    measured = 0;
    unmeasuredChars = 0;
  };
  // Slices being written. Two may be in flight: against remote D1 that hides
  // a round trip behind the parsing of the next slice; memory stays ~1 MB.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const settleAll = () => Promise.all(inFlight);

  const invalid = (row: number, column: string | null, value: string | null, message: string) => {
    invalidRows++;
    if (errors.length < MAX_REPORTED_ERRORS) {
      errors.push({ row, column: column === null ? null : echo(column), value: value === null ? null : echo(value), message });
      settled = opts.stopOnInvalid && errors.length === MAX_REPORTED_ERRORS;
    }
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
    resetSlice();
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

  // A slice is handed over when it reaches the row count or when the next
  // entry would take it over the byte budget; a row within ROW_MAX_BYTES
  // fits the default budget even alone (see csv-limits.ts).
  // The common case stays synchronous: no promise per row.
  const add = (entry: string): Promise<void> | undefined => {
    if (sliceBytes + 3 * (unmeasuredChars + entry.length + 1) > sliceBudget) return addMeasured(entry);
    slice.push(entry);
    unmeasuredChars += entry.length + 1;
    return slice.length >= sliceRows ? flush() : undefined;
  };
  const addMeasured = async (entry: string) => {
    for (; measured < slice.length; measured++) sliceBytes += utf8Bytes(slice[measured]!) + 1;
    unmeasuredChars = 0;
    const bytes = utf8Bytes(entry) + 1;
    if (slice.length > 0 && sliceBytes + bytes > sliceBudget) await flush();
    slice.push(entry);
    sliceBytes += bytes;
    measured++;
    if (slice.length >= sliceRows) await flush();
  };

  while (!done) {
    try {
      const { value, done: end } = await reader.read();
      let bytes: Uint8Array | undefined = value;
      if (head !== null) {
        // The first bytes are held until two are known (a file of one byte is over before).
        const known: Uint8Array = bytes ? joinBytes(head, bytes) : head;
        if (known.length >= 2 && looksUtf16(known[0]!, known[1]!)) return fail(UTF16);
        if (known.length >= 2 || end) {
          head = null;
          bytes = known;
        } else {
          head = known;
          bytes = undefined;
        }
      }
      if (bytes?.length) buffer += decoder.decode(bytes, { stream: true });
      if (end) buffer += decoder.decode();
      done = end;
    } catch {
      return fail(NOT_UTF8);
    }
    if (!done && buffer.length < parseAt) continue;

    if (!parser) {
      if (sepLine === undefined) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        sepLine = readSepLine(buffer, done);
        if (sepLine === undefined) continue;
        if (sepLine) {
          // Not the header, but a line of the file: reported lines count it.
          buffer = buffer.slice(sepLine.length);
          line = 2;
        }
      }
      // The delimiter is read off the header and the line ending off the
      // first line break, so wait for the first non-blank line to end.
      const sniffed = sniffer.feed(buffer, done);
      if (sniffed === null) continue;
      if (buffer.trim() === "") return { ok: false, message: "the file is empty; the first line must be a header row" };
      dialect = sepLine ? { delimiter: sepLine.delimiter, fromSepLine: true } : { delimiter: sniffed, fromSepLine: false };
      const newline = detectNewline(buffer);
      nlChar = newline === "\r" ? "\r" : "\n";
      parser = new Papa.Parser({ delimiter: dialect.delimiter, newline, quoteChar: '"' });
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
    parseAt = Math.max(chunkChars, 2 * buffer.length);
    const badQuotes = new Set(parsed.errors.map((e) => e.row));

    for (let i = 0; i < rows.length; i++) {
      let row = rows[i]!;

      if (!columns) {
        if (isBlank(row)) continue;
        const header = readHeader(row, dialect!);
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
        // Cells past the named columns may be there, empty, as spreadsheets pad rows.
        const extra = firstValueFrom(row, columns.names.length);
        if (extra >= 0) {
          invalid(
            lineOf(i),
            null,
            null,
            extra < columns.width
              ? `column ${extra + 1} has no name in the header, but this row has a value there; name the column or clear the value`
              : `the row has ${row.length} fields but the header has ${columns.names.length}`,
          );
          continue;
        }
        row = row.slice(0, columns.names.length);
      }
      const big = oversize(row);
      if (big) {
        if (big.cell === null) {
          invalid(lineOf(i), null, null, `the row is ${thousands(big.bytes)} bytes long; a row may hold at most ${limitText(ROW_MAX_BYTES)}`);
        } else {
          invalid(
            lineOf(i),
            columns.names[big.cell]!,
            null,
            `the value is ${thousands(big.bytes)} bytes long; a cell may hold at most ${limitText(CELL_MAX_BYTES)}`,
          );
        }
        continue;
      }
      // Invisible characters (zero-width, bidirectional marks) are neither read, echoed nor stored.
      const rawPhone = row[columns.phone] ?? "";
      const phone = withoutInvisible(rawPhone);
      if (phone.trim() === "") {
        invalid(lineOf(i), "phone_number", phone, "phone_number is empty");
        continue;
      }
      const e164 = toE164(phone, opts.defaultCountry);
      if (e164 === null) {
        invalid(lineOf(i), "phone_number", phone, notANumber);
        continue;
      }
      if (phone !== rawPhone) row[columns.phone] = phone;
      if (columns.email >= 0) {
        const email = (row[columns.email] ?? "").trim();
        if (email !== "" && (email.length > 254 || !isEmail(email))) {
          invalid(lineOf(i), "email", row[columns.email] ?? "", "not a valid email address");
          continue;
        }
      }
      if (columns.timezone >= 0) {
        const tz = (row[columns.timezone] ?? "").trim();
        if (tz !== "") {
          const ok = settled ? zones.readIfCheap(tz) : zones.read(tz);
          if (ok === undefined) {
            lowerBound = true;
            continue;
          }
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
      const adding = add(withValues ? `[${seq++},"${e164}",${JSON.stringify(row)}]` : `[${seq++},"${e164}"]`);
      if (adding) await adding;
    }
  }

  if (!columns) return { ok: false, message: "the file is empty; the first line must be a header row" };
  if (opts.stopOnInvalid && invalidRows > 0) resetSlice();
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
      invalidRowsIsLowerBound: lowerBound,
      errors,
    },
  };
}

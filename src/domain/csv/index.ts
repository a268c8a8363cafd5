import { SLICE_MAX_BYTES, SLICE_MAX_ROWS } from "./limits";
import { DialectReader, EMPTY_FILE } from "./dialect";
import { readHeader } from "./header";
import { CsvText, TEXT_CHUNK_CHARS } from "./reader";
import { RowRules, UNCHECKED } from "./row-rules";
import { isBlank, type ParsedRows, RowParser } from "./rows";
import { type SliceSink, SliceWriter } from "./slice-writer";
import { type CsvSummary, Tally } from "./summary";

export { MORE_PHONE_COLUMNS, normalizeHeader } from "./header";
export type { SliceEntry, SliceSink } from "./slice-writer";
export { type CsvSummary, MAX_REPORTED_ERRORS, type RowError } from "./summary";

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
  /**
   * false: slices carry each row's numbers only, `[seq, e164]` or, for a row
   * with several, `[seq, e164, null, [numbers…]]` (a check of the numbers
   * alone needs no more). Default true.
   */
  withValues?: boolean;
  /** Sees every row the slices would carry, as it is read (see RowHook); with or without a sink. */
  onRow?: RowHook;
};

/**
 * Called with each valid, first-seen row in file order: its seq (the one
 * a sink's slice gives it, from 0), its number in E.164 and, for a row with
 * several, all of them (as SliceEntry's `numbers`; null for one). A check
 * of each row (intake's do-not-call check) then needs no slice text. The
 * common case returns nothing; a promise returned is awaited before the
 * next row, and its failure fails the scan. In reject mode rows stop once
 * any is invalid, as slices do.
 */
export type RowHook = (seq: number, e164: string, numbers: string[] | null) => Promise<void> | undefined;

export type CsvScanResult = { ok: true; summary: CsvSummary } | { ok: false; message: string };

/**
 * Streams a CSV through papaparse's parser a chunk at a time: the decoded
 * text and the parsed rows are bounded by the chunk size (or the longest
 * row, itself bounded by the file limit), the pending slice by
 * SLICE_MAX_BYTES, whatever the file's length. Only the set of numbers seen
 * (for de-duplication) grows with the file.
 *
 * The parts, in the order the bytes meet them: reader.ts (bytes → text),
 * dialect.ts (sep= line, delimiter, line ending), header.ts (the columns),
 * rows.ts (parse steps and file lines), row-rules.ts (each row's verdict),
 * summary.ts (counts and row errors), slice-writer.ts (valid rows to the sink).
 */
export async function scanCsv(stream: ReadableStream<Uint8Array>, opts: CsvScanOptions, sink: SliceSink | null): Promise<CsvScanResult> {
  return new CsvScan(stream, opts, sink).run();
}

/** One scan of one file: its parts, and what it has learnt of the file so far. */
class CsvScan {
  private readonly text: CsvText;
  private readonly dialects = new DialectReader();
  private readonly tally: Tally;
  /** null without a sink: nothing to serialise (a check of the file alone). */
  private readonly slices: SliceWriter | null;
  private parser: RowParser | null = null;
  private rules: RowRules | null = null;
  /** The next handed row's seq (the slice writer numbers the same rows the same way). */
  private seq = 0;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly opts: CsvScanOptions,
    sink: SliceSink | null,
  ) {
    this.text = new CsvText(stream, opts.chunkChars ?? TEXT_CHUNK_CHARS);
    this.tally = new Tally(opts.stopOnInvalid);
    this.slices =
      sink === null
        ? null
        : new SliceWriter(sink, { rows: opts.sliceRows ?? SLICE_MAX_ROWS, bytes: opts.sliceBytes ?? SLICE_MAX_BYTES, withValues: opts.withValues ?? true });
  }

  async run(): Promise<CsvScanResult> {
    while (!this.text.done) {
      const unreadable = await this.text.fill();
      if (unreadable !== null) return this.fail(unreadable);
      if (!this.parser) {
        const dialect = this.dialects.read(this.text);
        if (dialect === null) continue;
        if (typeof dialect === "string") return this.fail(dialect);
        this.parser = new RowParser(dialect);
      }
      const refused = await this.take(this.parser.step(this.text));
      if (refused !== null) return this.fail(refused);
    }
    if (!this.rules) return this.fail(EMPTY_FILE);
    await this.slices?.finish(this.rejecting());
    return { ok: true, summary: this.tally.summary(this.rules.columns.names) };
  }

  /** Takes one parse step's rows: the header first, then each data row to its verdict; the header's refusal, if any. */
  private async take(step: ParsedRows): Promise<string | null> {
    for (let i = 0; i < step.rows.length; i++) {
      const row = step.rows[i]!;
      if (isBlank(row)) continue;
      if (!this.rules) {
        const header = readHeader(row, this.parser!.dialect);
        if (typeof header === "string") return header;
        this.rules = new RowRules(header, this.opts.defaultCountry);
        continue;
      }
      this.tally.dataRows++;
      const verdict = this.rules.check(row, step.badQuote(i), this.tally.settled);
      if (verdict === UNCHECKED) this.tally.unchecked();
      else if ("message" in verdict) this.tally.invalid(step.lineOf(i), verdict);
      else if (this.tally.firstOf(verdict.e164) && !this.rejecting()) {
        const seq = this.seq++;
        const checking = this.opts.onRow?.(seq, verdict.e164, verdict.numbers);
        if (checking) await this.checked(checking);
        const adding = this.slices?.add(verdict.e164, verdict.cells, verdict.numbers);
        if (adding) await adding;
      }
    }
    return null;
  }

  /** Reject mode after an invalid row: no more slices are handed over (they would be thrown away). */
  private rejecting(): boolean {
    return this.opts.stopOnInvalid && this.tally.invalidRows > 0;
  }

  /** A row hook's failure fails the scan, once no slice write is left in flight (as a sink's own failure does). */
  private async checked(checking: Promise<void>): Promise<void> {
    try {
      await checking;
    } catch (err) {
      await this.slices?.settle();
      throw err;
    }
  }

  /** An early return must not leave a slice write unobserved. */
  private async fail(message: string): Promise<CsvScanResult> {
    await this.slices?.settle().catch(() => undefined);
    return { ok: false, message };
  }
}

import { utf8Bytes } from "../../lib/text";

/**
 * One row of a slice: its seq, its number in E.164, its cells (null when
 * the slice carries numbers only, SliceLimits.withValues false) and, only
 * when the row gives more than one number (phone_number_2 … _5), every
 * number of the recipient in E.164, phone_number first, each once. The
 * batch's ledger reads `-> 3` into calls.numbers: absent is NULL there.
 */
export type SliceEntry = [seq: number, e164: string, values?: string[] | null, numbers?: string[]];

/**
 * Receives valid, de-duplicated rows in slices: a JSON array text of
 * SliceEntry (`[seq, e164, [values…]]`, or `[seq, e164, [values…],
 * [numbers…]]` for a row with several numbers) and its row count. A slice
 * holds at most SLICE_MAX_ROWS rows and SLICE_MAX_BYTES bytes of UTF-8 (a
 * row's numbers add at most ~100 bytes, well inside limits.ts's margin). At
 * most two slices are in flight; the scan fails with the first write that
 * fails.
 */
export type SliceSink = (sliceJson: string, rows: number) => Promise<void>;

/** Slices being written at once. Two: against remote D1 that hides a round trip behind the parsing of the next slice; memory stays ~1 MB. */
const MAX_SLICES_IN_FLIGHT = 2;

export type SliceLimits = {
  /** Rows per slice. */
  rows: number;
  /** Bytes of JSON text per slice. */
  bytes: number;
  /** false: entries are `[seq, e164]`, or `[seq, e164, null, [numbers…]]` for a row with several numbers. */
  withValues: boolean;
};

/**
 * Batches valid rows into JSON slices for the sink. A slice is handed over
 * when it reaches the row count or when the next entry would take it over
 * the byte budget; a row within ROW_MAX_BYTES fits the default budget even
 * alone (see limits.ts).
 */
export class SliceWriter {
  /** The next entry's seq: rows handed over are numbered from 0. */
  private seq = 0;
  // The pending slice. Its UTF-8 size is `sliceBytes` for the first
  // `measured` entries (with their commas and the brackets) plus at most 3×
  // the UTF-16 length of the rest, `unmeasuredChars`: bytes are only counted
  // once that bound could break the budget, so slices of short rows never are.
  private slice: string[] = [];
  private sliceBytes = 1;
  private measured = 0;
  private unmeasuredChars = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(
    private readonly sink: SliceSink,
    private readonly limits: SliceLimits,
  ) {}

  /**
   * Adds a row's entry to the pending slice, handing the slice over when it
   * is full. The common case stays synchronous: no promise per row.
   */
  add(e164: string, cells: string[], numbers: string[] | null = null): Promise<void> | undefined {
    // E.164 numbers are "+" and digits only, so they need no JSON escaping
    const more = numbers === null ? "" : `,["${numbers.join('","')}"]`;
    const values = this.limits.withValues ? `,${JSON.stringify(cells)}` : more === "" ? "" : ",null";
    const entry = `[${this.seq++},"${e164}"${values}${more}]`;
    if (this.sliceBytes + 3 * (this.unmeasuredChars + entry.length + 1) > this.limits.bytes) return this.addMeasured(entry);
    this.slice.push(entry);
    this.unmeasuredChars += entry.length + 1;
    return this.slice.length >= this.limits.rows ? this.flush() : undefined;
  }

  /** Hands over what is pending (unless `discard`), waits for every write, and fails with the first that failed. */
  async finish(discard: boolean): Promise<void> {
    if (discard) this.reset();
    await this.flush();
    await this.settle();
    if (this.failure) throw this.failure;
  }

  /** Waits for every write in flight. */
  settle(): Promise<unknown> {
    return Promise.all(this.inFlight);
  }

  private async addMeasured(entry: string): Promise<void> {
    for (; this.measured < this.slice.length; this.measured++) this.sliceBytes += utf8Bytes(this.slice[this.measured]!) + 1;
    this.unmeasuredChars = 0;
    const bytes = utf8Bytes(entry) + 1;
    if (this.slice.length > 0 && this.sliceBytes + bytes > this.limits.bytes) await this.flush();
    this.slice.push(entry);
    this.sliceBytes += bytes;
    this.measured++;
    if (this.slice.length >= this.limits.rows) await this.flush();
  }

  private reset(): void {
    this.slice = [];
    this.sliceBytes = 1;
    this.measured = 0;
    this.unmeasuredChars = 0;
  }

  private async flush(): Promise<void> {
    if (this.slice.length === 0) return;
    const json = `[${this.slice.join(",")}]`;
    const rows = this.slice.length;
    this.reset();
    while (this.inFlight.size >= MAX_SLICES_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.failure) {
      // Let every write finish before the caller rolls back, so none lands after the undo.
      await this.settle();
      throw this.failure;
    }
    const sink = this.sink; // called as a plain function, not as a method of this writer
    const write: Promise<void> = sink(json, rows).then(
      () => void this.inFlight.delete(write),
      (err: unknown) => {
        this.inFlight.delete(write);
        this.failure ??= err;
      },
    );
    this.inFlight.add(write);
  }
}

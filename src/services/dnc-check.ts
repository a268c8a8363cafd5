import { dncAmong, dncListPages, dncVersion } from "../db/dnc.repo";
import type { RowHook } from "../domain/csv";
import { E164Set } from "../domain/phone/e164-set";
import { cachedDncList, rememberDncList } from "./dnc-list-cache";

/**
 * The most numbers of a do-not-call list a scan reads whole into a set:
 * 250,000 are ~4 MB of text while read and 4 MB as an E164Set, well inside
 * a Worker's 128 MB beside the scan. A longer list is looked up LOOKUP_ROWS
 * rows at a time instead.
 */
export const DNC_IN_MEMORY_MAX = 250_000;

/** The fewest bytes a row with a number takes (a bare 10-digit national number and its line end): bounds a file's rows by its size. */
const MIN_ROW_BYTES = 11;

/** Rows per lookup statement when the list is not read whole: a dispatch slice's worth, up to 5 numbers each (~340 KB of JSON). */
export const LOOKUP_ROWS = 4000;

/**
 * Rows kept while the list is still being read. The scan parses on
 * meanwhile (the read is hidden behind it); past this many it waits, so a
 * slow read of the list does not hold a whole 20 MB file's rows.
 */
const MAX_PENDING = 50_000;

/**
 * How long a list may be for `fileBytes`' scan to read it whole. Reading a
 * listed number costs less than looking one up, but a small file against a
 * long list would read the whole list for a few lookups: the set is used
 * while the list is at most twice the rows the file can hold.
 */
export function dncListBudget(fileBytes: number): number {
  return Math.min(DNC_IN_MEMORY_MAX, 2 * Math.ceil(fileBytes / MIN_ROW_BYTES));
}

/** A row the check has not judged yet: its seq, its number, and all its numbers when it gives several. */
type Pending = [seq: number, e164: string, numbers: string[] | null];

/** The suppression rule: a row is left out only when every number it gives is listed (the recipient may still be reached at another). */
function allListed(listed: { has(phone: string): boolean }, e164: string, numbers: string[] | null): boolean {
  return numbers === null ? listed.has(e164) : numbers.every((n) => listed.has(n));
}

/**
 * One scan's do-not-call check, a row at a time (scanCsv's onRow): one pass
 * over the file and one read of the list. The list is read, by key, while
 * the scan parses the first rows; from then on each row is a set lookup, with
 * no slice text built or parsed. A list longer than the scan may read whole
 * (dncListBudget) is looked up LOOKUP_ROWS rows per statement instead, one
 * statement in flight while the scan goes on. A failed read fails finish(),
 * and with it the scan: nothing is created from a file whose check failed.
 */
export class DncCheck {
  private readonly suppressed: number[] = [];
  /** The whole list, once read; null while it is being read, or when it is looked up instead. */
  private listed: E164Set | null = null;
  /** The list is too long to read whole: rows are looked up. */
  private byLookup = false;
  private pending: Pending[] = [];
  private readonly reading: Promise<void>;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly db: D1Database,
    private readonly workspaceId: string,
    maxListed: number,
  ) {
    this.reading = this.read(maxListed);
    this.reading.catch(() => undefined); // observed by finish(), or by a row waiting on it
  }

  /**
   * The list as this isolate last read it, while its version is unchanged
   * (dnc-list-cache.ts); else read whole, by key, and kept for the next scan.
   * The version is read first: a list read while it changes is kept under
   * the version before the change, so it is never used after.
   */
  private async read(maxListed: number): Promise<void> {
    const version = await dncVersion(this.db, this.workspaceId);
    const held = version === null ? null : cachedDncList(this.workspaceId, version);
    // Held: used whatever this file's budget, since it costs no read.
    if (held) {
      this.listed = held;
      return;
    }
    const list = await dncListPages(this.db, this.workspaceId, maxListed);
    this.listed = list && new E164Set(list.pages, list.count);
    this.byLookup = list === null;
    if (this.listed && version !== null) rememberDncList(this.workspaceId, version, this.listed);
  }

  /** The scan's row hook: synchronous once the list is in memory. */
  readonly onRow: RowHook = (seq, e164, numbers) => {
    const listed = this.listed;
    if (listed) {
      // allListed, written out: this runs once per row.
      if (numbers === null ? listed.has(e164) : numbers.every((n) => listed.has(n))) this.suppressed.push(seq);
      return undefined;
    }
    this.pending.push([seq, e164, numbers]);
    if (this.byLookup) return this.pending.length >= LOOKUP_ROWS ? this.lookUpPending() : undefined;
    return this.pending.length >= MAX_PENDING ? this.reading.then(() => this.afterRead()) : undefined;
  };

  /** Checks the rows still pending and answers the seqs of every suppressed row; throws if the list could not be read. */
  async finish(): Promise<number[]> {
    await this.reading;
    await this.inFlight;
    if (this.listed) this.judgePending();
    else await this.lookUpAll(this.pending.splice(0));
    return this.suppressed;
  }

  /** Once the list's read has answered: the pending rows judged, or their lookup started. */
  private afterRead(): Promise<void> | undefined {
    if (!this.listed) return this.lookUpPending();
    this.judgePending();
    return undefined;
  }

  /** Judges every pending row against the list in memory. */
  private judgePending(): void {
    const listed = this.listed;
    if (listed) for (const [seq, e164, numbers] of this.pending) if (allListed(listed, e164, numbers)) this.suppressed.push(seq);
    this.pending = [];
  }

  /**
   * Starts the lookup of the pending rows' whole LOOKUP_ROWS (the rest wait
   * for more) and lets the scan go on, waiting only for the lookup before it:
   * one statement in flight beside the parsing, none sent after one failed.
   */
  private lookUpPending(): Promise<void> | undefined {
    const rows = this.pending.splice(0, this.pending.length - (this.pending.length % LOOKUP_ROWS));
    if (rows.length === 0) return undefined;
    const previous = this.inFlight;
    const current = (previous ?? Promise.resolve()).then(() => this.lookUpAll(rows));
    current.catch(() => undefined); // observed by the next row that fills a lookup, or by finish()
    this.inFlight = current;
    return previous ?? undefined;
  }

  /** The rows' lookups, LOOKUP_ROWS rows per statement (rows wait in bulk while the list's length is being learnt). */
  private async lookUpAll(rows: Pending[]): Promise<void> {
    for (let i = 0; i < rows.length; i += LOOKUP_ROWS) await this.lookUp(rows.slice(i, i + LOOKUP_ROWS));
  }

  /** One statement: which of the rows' numbers are listed. */
  private async lookUp(rows: Pending[]): Promise<void> {
    const numbers = new Set<string>();
    for (const [, e164, more] of rows) {
      if (more) for (const n of more) numbers.add(n);
      else numbers.add(e164);
    }
    const listed = await dncAmong(this.db, this.workspaceId, [...numbers]);
    if (listed.size === 0) return;
    for (const [seq, e164, more] of rows) if (allListed(listed, e164, more)) this.suppressed.push(seq);
  }
}

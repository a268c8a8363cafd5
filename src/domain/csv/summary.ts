import { clip } from "../../lib/text";
import type { RowProblem } from "./row-rules";
import { MAX_ECHO_CHARS } from "./sizes";

/** One invalid row as the contract reports it; `row` is the 1-based line in the file. */
export type RowError = { row: number; column: string | null; value: string | null; message: string };

export const MAX_REPORTED_ERRORS = 100;

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

/**
 * The scan's counts and its first MAX_REPORTED_ERRORS row errors. Only the
 * set of numbers seen (for de-duplication) grows with the file.
 */
export class Tally {
  dataRows = 0;
  invalidRows = 0;
  /**
   * Reject mode, once the details are full: the answer is a 400 with these
   * details whatever the rest holds, so only cheap checks run from then on.
   */
  settled = false;
  private duplicates = 0;
  private lowerBound = false;
  private readonly seen = new Set<string>();
  private readonly errors: RowError[] = [];

  constructor(private readonly stopOnInvalid: boolean) {}

  /** Counts an invalid row, and reports it while fewer than MAX_REPORTED_ERRORS are; echoed text is clipped. */
  invalid(row: number, { column, value, message }: RowProblem): void {
    this.invalidRows++;
    if (this.errors.length < MAX_REPORTED_ERRORS) {
      this.errors.push({
        row,
        column: column === null ? null : clip(column, MAX_ECHO_CHARS),
        value: value === null ? null : clip(value, MAX_ECHO_CHARS),
        message,
      });
      this.settled = this.stopOnInvalid && this.errors.length === MAX_REPORTED_ERRORS;
    }
  }

  /** A row left unjudged once settled: the counts become lower bounds. */
  unchecked(): void {
    this.lowerBound = true;
  }

  /** Counts a valid row's number: false when an earlier row had it (a duplicate, dropped). */
  firstOf(e164: string): boolean {
    if (this.seen.has(e164)) {
      this.duplicates++;
      return false;
    }
    this.seen.add(e164);
    return true;
  }

  summary(columns: string[]): CsvSummary {
    return {
      columns,
      dataRows: this.dataRows,
      validRows: this.seen.size,
      duplicatesRemoved: this.duplicates,
      invalidRows: this.invalidRows,
      invalidRowsIsLowerBound: this.lowerBound,
      errors: this.errors,
    };
  }
}

import Papa from "papaparse";
import type { Dialect } from "./dialect";
import type { CsvText } from "./reader";

function countChar(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** Whether a row holds nothing but whitespace (a blank line is no row). */
export function isBlank(row: string[]): boolean {
  for (const f of row) if (f.trim() !== "") return false;
  return true;
}

type Parsed = { data: string[][]; errors: { row: number; message: string }[]; meta: { cursor: number } };

/**
 * The rows one parse step completed. File line numbers are only needed for
 * invalid rows: the step's first line is known, and a row's own line is
 * worked out only when asked.
 */
export class ParsedRows {
  private lineStarts: number[] | null = null;
  private readonly badQuotes: Set<number>;

  constructor(
    readonly rows: string[][],
    errors: Parsed["errors"],
    /** The file line the step starts on. */
    private readonly firstLine: number,
    /** Line breaks in the text the step consumed. */
    private readonly breaks: number,
    /** The step parsed the file's end. */
    private readonly last: boolean,
    private readonly nlChar: string,
  ) {
    this.badQuotes = new Set(errors.map((e) => e.row));
  }

  /** Whether papaparse found a quoted field in row `index` not closed properly. */
  badQuote(index: number): boolean {
    return this.badQuotes.has(index);
  }

  /** The file line row `index` starts on. */
  lineOf(index: number): number {
    // Every row but the file's last ends in a line break; any extra break sits inside a quoted field.
    if (this.breaks === (this.last ? this.rows.length - 1 : this.rows.length)) return this.firstLine + index;
    if (!this.lineStarts) {
      this.lineStarts = [];
      let at = this.firstLine;
      for (const r of this.rows) {
        this.lineStarts.push(at);
        at++;
        for (const f of r) if (f.length > 0) at += countChar(f, this.nlChar);
      }
    }
    return this.lineStarts[index]!;
  }
}

/** Papaparse's parser fed a step at a time, counting file lines across steps. */
export class RowParser {
  private readonly parser: Papa.Parser;
  private readonly nlChar: string;
  /** The file line where the next step starts; a sep= line is line 1. */
  private line: number;

  constructor(readonly dialect: Dialect) {
    this.parser = new Papa.Parser({ delimiter: dialect.delimiter, newline: dialect.newline, quoteChar: '"' });
    this.nlChar = dialect.newline === "\r" ? "\r" : "\n";
    this.line = dialect.fromSepLine ? 2 : 1;
  }

  /** Parses the text held and consumes the rows it completes (all of it at the file's end). */
  step(text: CsvText): ParsedRows {
    const parsed = this.parser.parse(text.text, 0, !text.done) as Parsed;
    const consumed = parsed.meta.cursor;
    const breaks = countChar(text.text.slice(0, consumed), this.nlChar);
    const rows = new ParsedRows(parsed.data, parsed.errors, this.line, breaks, text.done, this.nlChar);
    this.line += breaks;
    text.consume(consumed);
    return rows;
  }
}

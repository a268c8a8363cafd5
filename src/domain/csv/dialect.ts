import type { CsvText } from "./reader";

/** The delimiters a header is tried with; commas come first, so they win ties. */
export const DELIMITERS = [",", ";", "\t", "|"];
const DELIMITER_NAMES: Record<string, string> = { ",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes (|)" };
export const delimiterName = (d: string) => DELIMITER_NAMES[d] ?? `"${d}"`;

export const EMPTY_FILE = "the file is empty; the first line must be a header row";

type Newline = "\n" | "\r\n" | "\r";

/** How the file is read: its delimiter, whether an Excel `sep=` line chose it, and its line ending. */
export type Dialect = { delimiter: string; fromSepLine: boolean; newline: Newline };

type SepLine = { length: number; delimiter: string };

/**
 * Excel's `sep=X` first line: names the delimiter and is not the header.
 * Returns the line (with its line break) and the delimiter, null when the
 * file has none, or undefined while the first line is not yet complete.
 */
function readSepLine(text: string, done: boolean): SepLine | null | undefined {
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

function detectNewline(text: string): Newline {
  const lf = text.indexOf("\n");
  const cr = text.indexOf("\r");
  if (cr !== -1 && (lf === -1 || cr < lf - 1)) return "\r";
  if (lf > 0 && cr === lf - 1) return "\r\n";
  return "\n";
}

/**
 * Reads the dialect off the file's start as it arrives: an Excel `sep=X`
 * line names the delimiter; otherwise the one of `,` `;` tab `|` that
 * splits the header, outside quotes, into the most fields (commas win ties).
 */
export class DialectReader {
  private sepLine: SepLine | null | undefined;
  private readonly sniffer = new DelimiterSniffer();

  /**
   * The dialect once the first non-blank line is complete in `text`, null
   * while it is not, or EMPTY_FILE. Drops a BOM and the sep= line off the
   * front of `text` on the way.
   */
  read(text: CsvText): Dialect | string | null {
    if (this.sepLine === undefined) {
      if (text.text.charCodeAt(0) === 0xfeff) text.skip(1);
      this.sepLine = readSepLine(text.text, text.done);
      if (this.sepLine === undefined) return null;
      // Not the header, but a line of the file: reported lines count it (see Dialect.fromSepLine).
      if (this.sepLine) text.skip(this.sepLine.length);
    }
    // The delimiter is read off the header and the line ending off the
    // first line break, so wait for the first non-blank line to end.
    const sniffed = this.sniffer.feed(text.text, text.done);
    if (sniffed === null) return null;
    if (text.text.trim() === "") return EMPTY_FILE;
    const newline = detectNewline(text.text);
    return this.sepLine ? { delimiter: this.sepLine.delimiter, fromSepLine: true, newline } : { delimiter: sniffed, fromSepLine: false, newline };
  }
}

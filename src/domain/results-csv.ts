/** Characters a spreadsheet reads as the start of a formula, with their full-width and small forms. */
const FORMULA_CHAR = "[=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20\\uFE66\\uFE62\\uFE63\\uFE6B]";
/** Where a line of a cell starts: the cell's start, or after a line break (pasting a cell splits it there). */
const LINE_BREAK = "[\\n\\r\\v\\f\\x85\\u2028\\u2029]";
/** What a spreadsheet may skip before it looks for "=": spaces, control and invisible characters, but not a line break. */
const IGNORABLE = `(?:(?!${LINE_BREAK})[\\p{White_Space}\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}])*`;
/** A line whose first visible character starts a formula; the apostrophe goes at the line's start. */
const FORMULA_LINE = new RegExp(`(^|${LINE_BREAK})(?=${IGNORABLE}${FORMULA_CHAR})`, "gu");
/** A cell starting with a tab or CR is neutralised whatever follows (OWASP's list). */
const CONTROL_START = /^[\t\r]/;
/**
 * A phone number as people write one: "+" then digits, spaces, dashes, dots and parentheses.
 * A spreadsheet may read it as arithmetic, but with no letter in it no formula can name a
 * function, a cell or another program, so it is left as it is (readable in its column).
 */
const PHONE_LIKE = /^\+[0-9 ().-]*[0-9][0-9 ().-]*$/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * A cell's text neutralised against formula injection: every line of it
 * whose first visible character is = + - @ (or a full-width ＝ ＋ － ＠),
 * after spaces and invisible characters such as a zero-width space, gets a
 * leading apostrophe, and so does a cell starting with a tab or CR. A "+"
 * followed only by digits, spaces, dashes, dots and parentheses (a phone
 * number, E.164 or as people write one) is left as it is.
 */
export function neutralise(s: string): string {
  if (PHONE_LIKE.test(s)) return s;
  const out = s.replace(FORMULA_LINE, "$1'");
  return CONTROL_START.test(out) ? `'${out}` : out;
}

/** One CSV cell: neutralised, then quoted per RFC 4180 when needed. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const s = neutralise(String(value));
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/**
 * Columns appended after the file's own. `e164` is the number as dialled: the
 * file's phone_number stays as it was sent ("+1 (212) 555-0101"), so the
 * normalised number is always next to it.
 */
export const RESULT_COLUMNS = [
  "e164",
  "call_id",
  "call_status",
  "call_outcome",
  "call_attempts",
  "call_started_at",
  "call_ended_at",
  "call_duration_seconds",
  "call_error",
];

/** The agent's result, after RESULT_COLUMNS; then one `data.<name>` column per data field. */
export const AGENT_RESULT_COLUMNS = ["disposition", "summary", "sentiment", "recording_url", "transcript_url", "callback_requested_at", "opted_out"];

/**
 * The last columns, after the data fields (so every earlier column keeps
 * its place): the caller ID of the call's last attempt and the recipient's
 * number it called (one of phone_number, phone_number_2 … _5).
 */
export const ATTEMPT_COLUMNS = ["from_number", "to_number"];

/** The column of a data field the agent reports. */
export const dataColumn = (name: string) => `data.${name}`;

/**
 * The service's column names as the header writes them: a name the file
 * (or an earlier service column) already has gets the smallest free
 * suffix `_2`, `_3`…, so no header name is ever repeated and the file's
 * own columns keep their names.
 */
export function serviceColumnNames(fileColumns: readonly string[], service: readonly string[]): string[] {
  const taken = new Set(fileColumns);
  return service.map((name) => {
    let out = name;
    for (let n = 2; taken.has(out); n++) out = `${name}_${n}`;
    taken.add(out);
    return out;
  });
}

/** Spreadsheet formula prefixes; a cell starting with one is neutralised. */
const FORMULA_START = /^[=+\-@\t\r]/;
const E164 = /^\+\d+$/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell: neutralised against formula injection (a leading
 * apostrophe), except a "+" followed only by digits (an E.164 number),
 * then quoted per RFC 4180 when needed.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (FORMULA_START.test(s) && !E164.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/**
 * Columns appended after the file's own. `e164` is the number as dialled: the
 * file's phone_number stays as it was sent, and may show neutralised (e.g.
 * "'+1 212 555 0101"), so the normalised number is always next to it.
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

import { clip } from "../../lib/text";
import { CELL_MAX_BYTES, MAX_COLUMNS, ROW_MAX_BYTES } from "./limits";
import { DELIMITERS, type Dialect, delimiterName } from "./dialect";
import { limitText, MAX_ECHO_CHARS, oversize, thousands } from "./sizes";

/** `Phone Number` → `phone_number`: trimmed, lower-cased, spaces and hyphens to `_`. */
export function normalizeHeader(name: string): string {
  return name
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
}

/**
 * A recipient's other numbers: optional columns after phone_number, read
 * the same way, tried in this order. `phone_number_6` and beyond are
 * ordinary columns (the dial's variables), not numbers.
 */
export const MORE_PHONE_COLUMNS = ["phone_number_2", "phone_number_3", "phone_number_4", "phone_number_5"] as const;

/** A column holding one of the recipient's other numbers: its name and where it is in the header. */
export type PhoneColumn = { name: (typeof MORE_PHONE_COLUMNS)[number]; index: number };

/**
 * The header's columns. `width` is the header's own field count: empty
 * trailing columns (`phone_number,first_name,,`, as spreadsheets save them)
 * are left out of `names`, and a row's cells under them must be empty.
 * `morePhones`: the MORE_PHONE_COLUMNS the header has, in that order
 * (whatever their order in the file).
 */
export type Columns = { names: string[]; width: number; phone: number; morePhones: PhoneColumn[]; email: number; timezone: number };

/** The columns the first non-blank row names, or why the file is refused. */
export function readHeader(row: string[], dialect: Dialect): Columns | string {
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
    if (seen.has(n)) return `the header names column "${clip(n, MAX_ECHO_CHARS)}" twice`;
    seen.add(n);
  }
  const phone = names.indexOf("phone_number");
  if (phone < 0) return missingPhone(row.slice(0, width), dialect);
  const morePhones = MORE_PHONE_COLUMNS.map((name) => ({ name, index: names.indexOf(name) })).filter((c) => c.index >= 0);
  return { names, width: row.length, phone, morePhones, email: names.indexOf("email"), timezone: names.indexOf("timezone") };
}

/** Names the columns that were found, and says so when the header seems split by another delimiter. */
function missingPhone(row: string[], dialect: Dialect): string {
  const SHOWN = 8;
  const shown = row.slice(0, SHOWN).map((f) => `"${clip(f.trim(), 40)}"`);
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

import { CELL_MAX_BYTES, ROW_MAX_BYTES } from "./limits";
import { toE164, withoutInvisible } from "../phone";
import { TimeZoneReader } from "../timezone";
import type { Columns } from "./header";
import { limitText, oversize, thousands } from "./sizes";

/** Why a data row is invalid: a row error without its line. */
export type RowProblem = { column: string | null; value: string | null; message: string };

/**
 * A valid row: its number in E.164, its cells as they are stored, and
 * (when phone_number_2 … phone_number_5 give it more than one) every
 * number of the recipient in E.164, phone_number first, each once; null
 * when phone_number is its only number.
 */
export type ValidRow = { e164: string; cells: string[]; numbers: string[] | null };

/** A row left unjudged: its verdict needs a time zone lookup the scan no longer makes. */
export const UNCHECKED = "unchecked";

export type RowVerdict = ValidRow | RowProblem | typeof UNCHECKED;

const problem = (column: string | null, value: string | null, message: string): RowProblem => ({ column, value, message });

/** An address as `^[^\s@",;<>]+@[^\s@",;<>]+\.[^\s@",;<>]+$` reads it; that expression backtracks (~50 µs on 254 crafted characters). */
const EMAIL_PARTS = /^[^\s@",;<>]+@[^\s@",;<>]+$/;

function isEmail(s: string): boolean {
  if (!EMAIL_PARTS.test(s)) return false;
  // A dot in the domain with something on both sides of it.
  const dot = s.indexOf(".", s.indexOf("@") + 2);
  return dot > 0 && dot < s.length - 1;
}

/** The index of the first cell from `from` on that holds more than whitespace, or -1. */
function firstValueFrom(row: string[], from: number): number {
  for (let j = from; j < row.length; j++) if (row[j]!.trim() !== "") return j;
  return -1;
}

/** The row cut to the named columns, or why it cannot be: cells past them may be there, empty, as spreadsheets pad rows. */
function fitColumns(row: string[], columns: Columns): string[] | RowProblem {
  if (row.length <= columns.names.length) return row;
  const extra = firstValueFrom(row, columns.names.length);
  if (extra < 0) return row.slice(0, columns.names.length);
  return problem(
    null,
    null,
    extra < columns.width
      ? `column ${extra + 1} has no name in the header, but this row has a value there; name the column or clear the value`
      : `the row has ${row.length} fields but the header has ${columns.names.length}`,
  );
}

/** The size limit the row breaks, if any (see oversize). */
function sizeProblem(row: string[], columns: Columns): RowProblem | null {
  const big = oversize(row);
  if (!big) return null;
  if (big.cell === null) return problem(null, null, `the row is ${thousands(big.bytes)} bytes long; a row may hold at most ${limitText(ROW_MAX_BYTES)}`);
  return problem(columns.names[big.cell]!, null, `the value is ${thousands(big.bytes)} bytes long; a cell may hold at most ${limitText(CELL_MAX_BYTES)}`);
}

function emailProblem(row: string[], column: number): RowProblem | null {
  if (column < 0) return null;
  const email = (row[column] ?? "").trim();
  if (email === "" || (email.length <= 254 && isEmail(email))) return null;
  return problem("email", row[column] ?? "", "not a valid email address");
}

/** The checks every data row passes, in order: fields and columns, sizes, phone numbers, email, time zone. */
export class RowRules {
  private readonly zones = new TimeZoneReader();
  private readonly notANumber: string;

  constructor(
    readonly columns: Columns,
    private readonly defaultCountry: string,
  ) {
    this.notANumber = `not a valid phone number (numbers without + are read as ${defaultCountry})`;
  }

  /**
   * The verdict on a data row. `badQuote`: papaparse found a quoted field
   * not closed properly. `cheapOnly`: the time zone is judged only where
   * that needs no Intl lookup (see CsvScanOptions.stopOnInvalid); a zone
   * that would need one leaves the row UNCHECKED.
   */
  check(row: string[], badQuote: boolean, cheapOnly: boolean): RowVerdict {
    if (badQuote) return problem(null, null, "a quoted field is not closed properly; quotes inside a quoted field must be doubled");
    const cells = fitColumns(row, this.columns);
    if (!Array.isArray(cells)) return cells;
    const tooBig = sizeProblem(cells, this.columns);
    if (tooBig) return tooBig;
    const e164 = this.readPhone(cells);
    if (typeof e164 !== "string") return e164;
    const numbers = this.columns.morePhones.length === 0 ? null : this.readMorePhones(cells, e164);
    if (numbers !== null && !Array.isArray(numbers)) return numbers;
    const badEmail = emailProblem(cells, this.columns.email);
    if (badEmail) return badEmail;
    const zone = this.timezoneVerdict(cells, cheapOnly);
    if (zone !== null) return zone;
    return { e164, cells, numbers };
  }

  /**
   * The row's number in E.164, or why it has none. Invisible characters
   * (zero-width, bidirectional marks) are neither read, echoed nor stored:
   * the cell loses them.
   */
  private readPhone(cells: string[]): string | RowProblem {
    const raw = cells[this.columns.phone] ?? "";
    const phone = withoutInvisible(raw);
    if (phone.trim() === "") return problem("phone_number", phone, "phone_number is empty");
    const e164 = toE164(phone, this.defaultCountry);
    if (e164 === null) return problem("phone_number", phone, this.notANumber);
    if (phone !== raw) cells[this.columns.phone] = phone;
    return e164;
  }

  /**
   * Every number of the recipient: `e164`, then each filled
   * phone_number_2 … phone_number_5 read as phone_number is (an empty one
   * is no number), a number the row already gave kept once; null when
   * that leaves `e164` alone. A value that is not a number is the row's
   * error, naming its column.
   */
  private readMorePhones(cells: string[], e164: string): string[] | RowProblem | null {
    let numbers: string[] | null = null;
    for (const { name, index } of this.columns.morePhones) {
      const raw = cells[index] ?? "";
      const phone = withoutInvisible(raw);
      if (phone !== raw) cells[index] = phone;
      if (phone.trim() === "") continue;
      const more = toE164(phone, this.defaultCountry);
      if (more === null) return problem(name, phone, this.notANumber);
      numbers ??= [e164];
      if (!numbers.includes(more)) numbers.push(more);
    }
    return numbers !== null && numbers.length > 1 ? numbers : null;
  }

  private timezoneVerdict(cells: string[], cheapOnly: boolean): RowProblem | typeof UNCHECKED | null {
    const column = this.columns.timezone;
    if (column < 0) return null;
    const tz = (cells[column] ?? "").trim();
    if (tz === "") return null;
    const ok = cheapOnly ? this.zones.readIfCheap(tz) : this.zones.read(tz);
    if (ok === undefined) return UNCHECKED;
    return ok ? null : problem("timezone", cells[column] ?? "", 'not an IANA time zone such as "America/New_York"');
  }
}

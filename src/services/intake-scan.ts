import { dncAmong } from "../db/dnc.repo";
import type { BatchOptions } from "../domain/batch-options";
import { scanCsv, type CsvSummary, type SliceEntry } from "../domain/csv";
import { ApiError } from "../errors";
import { DncCheck, dncListBudget } from "./dnc-check";

/** A file every row of which was checked: what the scan found, the seqs on the do-not-call list, and how many calls are left. */
export type ScannedFile = { summary: CsvSummary; suppressed: number[]; totalCalls: number };

/**
 * Reads the whole file, row by row, without writing any of it, and checks
 * each row's numbers against `dncWorkspace`'s do-not-call list (null: the
 * workspace has none, so nothing to check; see DncCheck): a row is left out
 * only when every one of its numbers is listed. Throws the contract's
 * 400 when the file cannot go ahead. `stopOnInvalid` (an upload in reject
 * mode) lets the scan stop costly checks once its verdict is settled; a dry
 * run counts every row.
 */
export async function scanAndCheck(env: Env, file: File, opts: BatchOptions, dncWorkspace: string | null, stopOnInvalid: boolean): Promise<ScannedFile> {
  const scanned = await scanFile(env, file, opts.defaultCountry, dncWorkspace, stopOnInvalid);
  const problem = checkSummary(scanned.summary, opts, scanned.totalCalls);
  if (problem) throw problem;
  return scanned;
}

/**
 * scanAndCheck's scan and do-not-call check without the upload's verdict
 * (appended rows, batch-append.ts, are judged by their own); a 400 only for
 * a file that cannot be read. One pass, with no slices: the check sees each
 * row as the scan reads it, and the list is read while the scan runs.
 */
export async function scanFile(env: Env, file: File, defaultCountry: string, dncWorkspace: string | null, stopOnInvalid: boolean): Promise<ScannedFile> {
  const check = dncWorkspace ? new DncCheck(env.DB, dncWorkspace, dncListBudget(file.size)) : null;
  const scan = await scanCsv(file.stream(), { defaultCountry, stopOnInvalid, onRow: check?.onRow }, null);
  if (!scan.ok) throw csvError(`The CSV cannot be read: ${scan.message}.`);
  // Throws when the list could not be read: the caller then creates nothing.
  const suppressed = check ? await check.finish() : [];
  const s = scan.summary;
  return { summary: s, suppressed, totalCalls: s.validRows - suppressed.length };
}

/**
 * The seqs of a slice's rows all of whose numbers are on the workspace's
 * do-not-call list: one query for the slice's numbers. A row with any
 * number not on it is kept, since the recipient may still be reached there
 * (the engine skips a listed number when it dials, and checks the list
 * again then). Intake checks rows as it scans them (DncCheck); this is the
 * same rule for a slice's JSON text.
 */
export async function suppressedIn(db: D1Database, workspaceId: string, sliceJson: string): Promise<number[]> {
  // Entries of numbers only (a scan with withValues false).
  const entries = JSON.parse(sliceJson) as SliceEntry[];
  const numbers = new Set<string>();
  for (const [, e164, , more] of entries) {
    if (more) for (const n of more) numbers.add(n);
    else numbers.add(e164);
  }
  const listed = await dncAmong(db, workspaceId, [...numbers]);
  if (listed.size === 0) return [];
  return entries.filter(([, e164, , more]) => (more ? more.every((n) => listed.has(n)) : listed.has(e164))).map(([seq]) => seq);
}

export function csvError(message: string, summary?: CsvSummary): ApiError {
  return new ApiError("csv_invalid", message, summary?.errors, summary ? { invalidRows: summary.invalidRows } : undefined);
}

/** The contract's 400s for a scanned file, or null when the batch may go ahead. */
function checkSummary(summary: CsvSummary, opts: BatchOptions, totalCalls: number): ApiError | null {
  if (summary.dataRows === 0) return csvError("The CSV has a header but no data rows.");
  if (opts.onInvalidRows === "reject" && summary.invalidRows > 0) {
    return csvError(`${invalidRowsText(summary, "so nothing was created")} Fix them, or send onInvalidRows=skip to leave them out.`, summary);
  }
  if (totalCalls === 0) {
    return csvError(
      `No rows are left to call (${summary.invalidRows} invalid, ${summary.duplicatesRemoved} duplicate, the rest on the do-not-call list).`,
      summary,
    );
  }
  return null;
}

/** How many rows are invalid, `consequence`, and where the first is: a reject-mode 400's sentence, before its remedy. */
export function invalidRowsText(summary: CsvSummary, consequence: string): string {
  const first = summary.errors[0];
  const where = first ? ` The first is on line ${first.row}${first.column ? ` (${first.column})` : ""}: ${first.message}.` : "";
  // Past the reported rows a reject-mode scan skips the costly checks: its count is then a floor.
  const count = summary.invalidRowsIsLowerBound
    ? `At least ${summary.invalidRows} row(s) are invalid (after the first ${summary.errors.length}, rows were only partly checked)`
    : `${summary.invalidRows} row(s) are invalid`;
  return `${count}, ${consequence}.${where}`;
}

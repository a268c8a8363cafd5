import { AppendLedger, type AppendRecord } from "../../db/ledger/append";
import { scanCsv, type SliceEntry } from "../../domain/csv";
import type { BatchStatus } from "../../domain/vocabulary";
import { log } from "../../lib/log";
import { observe } from "../../lib/metrics";
import { poke } from "./clock";
import { batchFields, type BatchContext } from "./context";
import type { BatchConfig } from "./contract";
import { syncSummary } from "./effects";
import { ready } from "./materialise";

// The object's side of POST /v1/api/batch-calls/{batchId}/rows: the rows of
// a file the Worker has checked and stored become calls after the batch's
// last one, leaving out numbers the batch already holds and the rows the
// Worker found on the do-not-call list.

/** The states rows may be appended in: the batch has not finished. */
export const APPENDABLE: readonly BatchStatus[] = ["draft", "queued", "processing", "paused"];

export type AppendInput = {
  /** Names this append for good: the same key again (a retried request, the RPC delivered twice) adds nothing and answers the same counts. */
  key: string;
  /** Where the Worker stored the file (CSV_BUCKET), every row checked and its header the batch's columns. */
  fileKey: string;
  /** The file's rows on the do-not-call list, by the seq the scan hands each valid, first-seen row (as intake's `suppressed`). */
  suppressed: number[];
};

/**
 * What the append did: calls added, rows left out as numbers the batch
 * already held (`duplicates`, the file's own repeats not included: the
 * Worker counted those) or on the do-not-call list, and the batch after
 * it. `replayed`: this key's append had already committed; nothing was
 * added now. Refused: the status that does not allow it ("gone": no such batch).
 */
export type AppendResult =
  | { ok: true; added: number; duplicates: number; suppressed: number; totalCalls: number; status: BatchStatus; replayed: boolean }
  | { ok: false; status: BatchStatus | "gone" };

/** Appended numbers checked against the batch's calls per pass: ~1 MiB of JSON, half a bound value's limit. */
const NUMBERS_PER_PASS = 50_000;

/**
 * Appends in the tick's chain, joined at once (a tick asked for after this
 * append runs after it): no tick runs while the file is read and its rows
 * committed, so a processing batch whose calls have all ended cannot
 * complete between the status checked here and the calls added (the tick
 * completes a batch only when nothing waits), and two appends never
 * interleave. The batch may still be paused or cancelled meanwhile: the
 * commit checks its status again, in the transaction that adds the calls.
 */
export function append(c: BatchContext, input: AppendInput): Promise<AppendResult> {
  const run = c.tickChain.then(() => appendNow(c, input));
  c.tickChain = run.catch(() => undefined);
  return run;
}

async function appendNow(c: BatchContext, input: AppendInput): Promise<AppendResult> {
  const state = await ready(c);
  const b = c.ledger.batch();
  if (!state || !b || c.discarded) return { ok: false, status: "gone" };
  const ledger = new AppendLedger(c.sql);
  const before = ledger.recorded(input.key);
  if (before) return { ok: true, ...counts(before), totalCalls: b.total_calls, status: b.status, replayed: true };
  if (!APPENDABLE.includes(b.status)) return { ok: false, status: b.status };
  const elapsed = c.stopwatch();
  const config = await c.config();
  const file = await readFile(c, input.fileKey, config);
  const result = commit(c, ledger, input, config, file);
  if (!result.ok || result.replayed) return result;
  const ms = elapsed();
  observe("append.ms", ms);
  log("info", "batch.rows_appended", { ...batchFields(state), added: result.added, duplicates: result.duplicates, suppressed: result.suppressed, ms });
  // Committed: D1's copy of the counters follows now, or from the next tick or the cron's repair if this write fails.
  await syncSummary(c, true).catch((err) => log("warn", "batch.append_summary_failed", { ...batchFields(state), error: String(err) }));
  if (result.status === "processing") await poke(c);
  c.feed?.changed();
  return result;
}

function counts(r: AppendRecord) {
  return { added: r.added, duplicates: r.duplicates, suppressed: r.suppressed };
}

/** The stored file as the scan hands it over: its columns, its slices (JSON text) and every number its rows give. */
type AppendedFile = { columns: string[]; slices: string[]; numbers: Set<string> };

/**
 * Reads the stored file with the same scan intake ran (the Worker has
 * refused it unless every row is valid, so the scan's seqs are the ones
 * the Worker's do-not-call check used). The slices stay in memory until
 * the commit: at most the file's size (20 MiB) as JSON text.
 */
async function readFile(c: BatchContext, fileKey: string, config: BatchConfig): Promise<AppendedFile> {
  const object = await c.env.CSV_BUCKET.get(fileKey);
  if (!object) throw new Error(`the appended file ${fileKey} is missing`);
  const slices: string[] = [];
  const numbers = new Set<string>();
  const scan = await scanCsv(object.body, { defaultCountry: config.defaultCountry, stopOnInvalid: false }, async (json) => {
    slices.push(json);
    for (const entry of JSON.parse(json) as SliceEntry[]) for (const n of numbersOf(entry)) numbers.add(n);
  });
  if (!scan.ok) throw new Error(`the appended file cannot be read: ${scan.message}`);
  const { columns, invalidRows } = scan.summary;
  if (invalidRows > 0) throw new Error(`the appended file has ${invalidRows} invalid row(s)`);
  if (columns.length !== config.columns.length || !config.columns.every((name) => columns.includes(name))) {
    throw new Error("the appended file's columns are not the batch's");
  }
  return { columns, slices, numbers };
}

function numbersOf([, e164, , more]: SliceEntry): string[] {
  return more ?? [e164];
}

/**
 * One transaction: the status checked again, the numbers the batch holds
 * found (one pass over its calls per NUMBERS_PER_PASS appended numbers),
 * the new calls inserted with seqs after the last call's, in file order,
 * each row's values in the batch's column order, and the counters raised
 * and the key recorded with them. A row any of whose numbers the batch
 * holds is a duplicate, whatever that call's status; of the rest, those
 * the Worker found on the do-not-call list are left out.
 */
function commit(c: BatchContext, ledger: AppendLedger, input: AppendInput, config: BatchConfig, file: AppendedFile): AppendResult {
  return c.storage.transactionSync((): AppendResult => {
    const b = c.ledger.batch();
    if (!b || c.discarded) return { ok: false, status: "gone" };
    const before = ledger.recorded(input.key);
    if (before) return { ok: true, ...counts(before), totalCalls: b.total_calls, status: b.status, replayed: true };
    if (!APPENDABLE.includes(b.status)) return { ok: false, status: b.status };
    const held = new Set<string>();
    const all = [...file.numbers];
    for (let i = 0; i < all.length; i += NUMBERS_PER_PASS) {
      for (const n of ledger.numbersHeld(JSON.stringify(all.slice(i, i + NUMBERS_PER_PASS)))) held.add(n);
    }
    const suppressedSeqs = new Set(input.suppressed);
    const order = config.columns.map((name) => file.columns.indexOf(name));
    const reorder = order.some((from, to) => from !== to);
    const firstSeq = ledger.nextSeq();
    const r: AppendRecord = { firstSeq, added: 0, duplicates: 0, suppressed: 0 };
    for (const slice of file.slices) {
      const rows: unknown[] = [];
      for (const entry of JSON.parse(slice) as SliceEntry[]) {
        const [seq, e164, values, more] = entry;
        if (numbersOf(entry).some((n) => held.has(n))) r.duplicates++;
        else if (suppressedSeqs.has(seq)) r.suppressed++;
        else {
          const cells = reorder ? order.map((from) => values?.[from] ?? "") : values;
          rows.push(more ? [firstSeq + r.added, e164, cells, more] : [firstSeq + r.added, e164, cells]);
          r.added++;
        }
      }
      if (rows.length > 0) ledger.insert(JSON.stringify(rows));
    }
    ledger.commit(input.key, r, c.now());
    return { ok: true, ...counts(r), totalCalls: b.total_calls + r.added, status: b.status, replayed: false };
  });
}

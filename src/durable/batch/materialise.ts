import { scanCsv } from "../../domain/csv";
import { log } from "../../lib/log";
import { observe } from "../../lib/metrics";
import { batchFields, type BatchContext } from "./context";
import type { SchedulerState } from "./contract";
import { syncSummary } from "./effects";

/** Every read and transition waits for the ledger to hold the whole file. */
export async function ready(c: BatchContext): Promise<SchedulerState | null> {
  const state = await c.state();
  if (!state || state.materialised) return state;
  c.materialising ??= materialise(c).finally(() => {
    c.materialising = null;
  });
  await c.materialising;
  return c.state();
}

/**
 * Reads the stored CSV with the same scan intake ran and writes its valid
 * rows into the ledger, a slice at a time with a cursor. A restart rescans
 * the file and skips the slices already written; seq is the key, so no
 * row is ever written twice.
 */
async function materialise(c: BatchContext): Promise<void> {
  const state = await c.state();
  if (!state || state.materialised) return;
  const config = await c.config();
  const elapsed = c.stopwatch();
  const object = await c.env.CSV_BUCKET.get(config.csvKey);
  if (!object) return failBatch(c, state, "the stored CSV is missing");
  let rowsSeen = 0;
  let cursor = state.materialisedRows;
  const scan = await scanCsv(object.body, { defaultCountry: config.defaultCountry, stopOnInvalid: false }, async (json, rows) => {
    const first = rowsSeen;
    rowsSeen += rows;
    if (first + rows <= cursor) return;
    if (c.discarded) throw new Error("the batch was discarded");
    c.ledger.insertSlice(json);
    cursor = Math.max(cursor, first + rows);
    await c.patchState({ materialisedRows: cursor });
  });
  if (!scan.ok) return failBatch(c, state, `the stored CSV cannot be read: ${scan.message}`);
  const total = c.ledger.countCalls();
  if (total !== config.totalCalls) {
    return failBatch(c, state, `the stored CSV yields ${total} calls where intake counted ${config.totalCalls}`);
  }
  c.ledger.setTotals(total);
  await c.patchState({ materialised: true, materialisedRows: cursor });
  const ms = elapsed();
  observe("materialise.ms", ms);
  log("info", "batch.materialised", { ...batchFields(state), calls: total, ms });
}

async function failBatch(c: BatchContext, state: SchedulerState, reason: string): Promise<void> {
  if (c.discarded) return;
  log("error", "batch.failed", { ...batchFields(state), reason });
  c.ledger.setStatus(["draft", "queued", "processing", "paused"], "failed", { completedTime: c.now() });
  await c.patchState({ materialised: true });
  await syncSummary(c, true);
}

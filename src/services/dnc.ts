import { liveBatchIds } from "../db/batch.repo";
import { log } from "../lib/log";

/**
 * Numbers just added to the do-not-call list: every batch of the workspace
 * that may still call someone cancels its waiting calls to them now, so
 * not even a job already on the queue dials them. A batch that misses the
 * notice still checks the list for each slice it dispatches. `except`: the
 * batch that is telling the others (it cancelled its own calls already).
 */
export async function suppressInLiveBatches(env: Env, workspaceId: string, phones: string[], except?: string): Promise<void> {
  if (phones.length === 0) return;
  const ids = (await liveBatchIds(env.DB, workspaceId)).filter((id) => id !== except);
  const results = await Promise.allSettled(ids.map((id) => env.BATCH_SCHEDULER.getByName(id).suppress(phones)));
  results.forEach((r, i) => {
    if (r.status === "rejected") log("warn", "dnc.suppress_failed", { workspaceId, batchId: ids[i], error: String(r.reason) });
  });
}

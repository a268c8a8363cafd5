import { summaryById } from "../db/batch.repo";
import { ApiError } from "../errors";
import type { BatchEngine } from "../schemas/admin";

/**
 * For operators checking a batch after an incident: D1's summary beside the
 * batch's object, which is the truth. Whether they agree, and whether a
 * live batch has calls waiting but no alarm to move it.
 */
export async function batchEngine(env: Env, batchId: string): Promise<BatchEngine> {
  const summary = await summaryById(env.DB, batchId);
  if (!summary) throw new ApiError("not_found", `Batch ${batchId} does not exist.`);
  const object = await env.BATCH_SCHEDULER.getByName(batchId).engineState();
  const live = object !== null && (object.status === "queued" || object.status === "processing");
  return {
    batchId,
    workspaceId: summary.workspace_id,
    summary: {
      status: summary.status,
      version: summary.summary_version,
      controlPendingSince: summary.control_at === null ? null : new Date(summary.control_at).toISOString(),
    },
    object: object && {
      status: object.status,
      version: object.version,
      waiting: object.waiting,
      active: object.active,
      alarmAt: object.alarmAt,
      published: object.published,
      materialised: object.materialised,
    },
    agree: object === null || object.status === summary.status,
    stranded: live && object.waiting + object.active > 0 && object.alarmAt === null,
  };
}

import { getBatch, type BatchRow, type VisibleStatus } from "../db/batch.repo";
import { ApiError } from "../errors";
import { log } from "../lib/log";
import { emitWebhook } from "../queue/webhook-event";

const RETRYABLE_FINAL = "('no_answer', 'busy', 'failed')";

export type CancelResponse = {
  batchId: string;
  status: "cancelled";
  message: string;
  details: { completedCalls: number; failedCalls: number; cancelledCalls: number; totalCalls: number };
};

async function requireBatch(db: D1Database, workspaceId: string, batchId: string): Promise<BatchRow> {
  const b = await getBatch(db, workspaceId, batchId);
  if (!b) throw new ApiError("batch_not_found", `Batch ${batchId} does not exist in this workspace.`);
  return b;
}

/**
 * Cancel: the batch and its waiting calls flip in one transaction, so no
 * job can claim a call after this returns (claims require a running batch).
 * Active calls finish. Cancelling again answers the same way.
 */
export async function cancelBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<CancelResponse> {
  const before = await requireBatch(env.DB, workspaceId, batchId);
  if (before.status === "completed" || before.status === "failed") {
    throw new ApiError("invalid_transition", `Batch ${batchId} has already ${before.status === "completed" ? "completed" : "failed"}; there is nothing to cancel.`);
  }
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("UPDATE batches SET status = 'cancelled', completed_time = ?2 WHERE id = ?1 AND status IN ('queued', 'processing', 'paused')").bind(batchId, now),
    env.DB.prepare(
      `UPDATE calls SET status = 'cancelled', error = 'batch cancelled', due_at = 0, next_attempt_at = NULL
       WHERE batch_id = ?1 AND status = 'waiting' AND EXISTS (SELECT 1 FROM batches WHERE id = ?1 AND status = 'cancelled')`,
    ).bind(batchId),
  ]);
  const b = await requireBatch(env.DB, workspaceId, batchId);
  const details = { completedCalls: b.completed_count, failedCalls: b.failed_count, cancelledCalls: b.cancelled_count, totalCalls: b.total_calls };
  if (before.status !== "cancelled") {
    log("info", "batch.cancelled", { requestId, workspaceId, batchId, cancelledCalls: b.cancelled_count });
    await env.BATCH_SCHEDULER.getByName(batchId).poke();
    await emitWebhook(env, workspaceId, "batch.cancelled", batchId, { batchId, ...details });
  }
  return { batchId, status: "cancelled", message: "Batch cancelled: waiting calls will not be made; calls in progress finish", details };
}

export type ControlResponse = { batchId: string; status: VisibleStatus; message: string };

/** Pause keeps the queue; calls in flight finish. Pausing a paused batch is harmless. */
export async function pauseBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<ControlResponse> {
  const b = await requireBatch(env.DB, workspaceId, batchId);
  if (b.status === "paused") return { batchId, status: "paused", message: "Batch is paused" };
  if (b.status !== "queued" && b.status !== "processing") {
    throw new ApiError("invalid_transition", `Batch ${batchId} is ${b.status}; only a queued or processing batch can be paused.`);
  }
  const row = await env.DB.prepare("UPDATE batches SET status = 'paused' WHERE id = ?1 AND status IN ('queued', 'processing') RETURNING id").bind(batchId).first();
  if (!row) return pauseBatch(env, workspaceId, batchId, requestId);
  log("info", "batch.paused", { requestId, workspaceId, batchId });
  return { batchId, status: "paused", message: "Batch paused: no new calls start until it is resumed; calls in progress finish" };
}

export async function resumeBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<ControlResponse> {
  const b = await requireBatch(env.DB, workspaceId, batchId);
  if (b.status === "queued" || b.status === "processing") return { batchId, status: b.status, message: "Batch is not paused" };
  if (b.status === "preparing") throw new ApiError("batch_not_found", `Batch ${batchId} does not exist in this workspace.`);
  if (b.status !== "paused") throw new ApiError("invalid_transition", `Batch ${batchId} is ${b.status}; only a paused batch can be resumed.`);
  // A batch paused before its first dial goes back to waiting for its start time.
  const row = await env.DB.prepare(
    "UPDATE batches SET status = CASE WHEN start_time IS NULL THEN 'queued' ELSE 'processing' END WHERE id = ?1 AND status = 'paused' RETURNING status",
  )
    .bind(batchId)
    .first<{ status: VisibleStatus }>();
  if (!row) return resumeBatch(env, workspaceId, batchId, requestId);
  await env.BATCH_SCHEDULER.getByName(batchId).poke(true);
  log("info", "batch.resumed", { requestId, workspaceId, batchId });
  return { batchId, status: row.status, message: "Batch resumed" };
}

/** A new pass over recipients whose final outcome was no_answer, busy or failed. */
export async function retryBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<{ batchId: string; status: VisibleStatus; requeued: number; message: string }> {
  const b = await requireBatch(env.DB, workspaceId, batchId);
  if (b.status !== "completed") {
    throw new ApiError("invalid_transition", `Batch ${batchId} is ${b.status}; retry starts a new pass once a batch has completed.`);
  }
  const [, calls] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE batches SET status = 'processing', completed_time = NULL, pass = pass + 1
       WHERE id = ?1 AND status = 'completed' AND pass = ?2
         AND EXISTS (SELECT 1 FROM calls WHERE batch_id = ?1 AND status = 'failed' AND outcome IN ${RETRYABLE_FINAL})`,
    ).bind(batchId, b.pass),
    env.DB.prepare(
      `UPDATE calls SET status = 'waiting', due_at = 0, next_attempt_at = NULL, pass_base = attempts, dispatched_attempt = attempts, error = NULL
       WHERE batch_id = ?1 AND status = 'failed' AND outcome IN ${RETRYABLE_FINAL}
         AND EXISTS (SELECT 1 FROM batches WHERE id = ?1 AND status = 'processing' AND pass = ?2)
       RETURNING seq`,
    ).bind(batchId, b.pass + 1),
  ]);
  // meta.changes would count the counter trigger's writes too
  const requeued = calls?.results.length ?? 0;
  if (requeued > 0) {
    await env.BATCH_SCHEDULER.getByName(batchId).poke(true);
    log("info", "batch.retry", { requestId, workspaceId, batchId, requeued });
  }
  const now = await requireBatch(env.DB, workspaceId, batchId);
  return {
    batchId,
    status: now.status as VisibleStatus,
    requeued,
    message: requeued > 0 ? `${requeued} call(s) re-queued for a new pass` : "No calls ended as no_answer, busy or failed; nothing to retry",
  };
}

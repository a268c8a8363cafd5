import { batchesToVisit, clearControlMarks, getBatch, markControl, type BatchRow } from "../db/batch.repo";
import { ApiError } from "../errors";
import { log } from "../lib/log";
import type { CancelResponse, ControlResponse, RetryResponse } from "../schemas/batch";

export async function requireBatch(db: D1Database, workspaceId: string, batchId: string): Promise<BatchRow> {
  const b = await getBatch(db, workspaceId, batchId);
  if (!b) throw batchNotFound(batchId);
  return b;
}

/**
 * A control request's batch, marked in D1 before its object is told: if the
 * Worker dies between the object's step and the summary write, the cron's
 * next visit finds the batch by its mark and repairs it.
 */
async function requireForControl(db: D1Database, workspaceId: string, batchId: string): Promise<BatchRow> {
  const b = await markControl(db, workspaceId, batchId, Date.now());
  if (!b) throw batchNotFound(batchId);
  return b;
}

/** The batch's object is its authority; D1 says only whether the caller may see it. */
function scheduler(env: Env, batchId: string) {
  return env.BATCH_SCHEDULER.getByName(batchId);
}

/**
 * The 409 for a transition `status` does not allow: a draft's names what a
 * draft allows (every control route refuses it the same way), any other
 * status gets `otherwise`.
 */
function notAllowed(batchId: string, status: string, otherwise: string): ApiError {
  if (status === "draft") {
    return new ApiError(
      "invalid_transition",
      `Batch ${batchId} is a draft; a draft can be started (POST /v1/api/batch-calls/${batchId}/start) or cancelled (DELETE /v1/api/batch-calls/${batchId}).`,
    );
  }
  return new ApiError("invalid_transition", otherwise);
}

/** The 404 for a batch the caller cannot see, or whose object no longer knows it. */
export function batchNotFound(batchId: string): ApiError {
  return new ApiError("batch_not_found", `Batch ${batchId} does not exist in this workspace.`);
}

/**
 * Cancel: the batch flips in one step in the batch's object, and its
 * waiting calls count as cancelled from then on, so no job can claim a
 * call after this returns (claims require a running batch) and `details`
 * are already the final counts but for calls in progress, which finish.
 * The object writes the waiting calls as cancelled a slice at a time (the
 * answer does not wait for a large batch). Cancelling again answers the same way.
 */
export async function cancelBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<CancelResponse> {
  await requireForControl(env.DB, workspaceId, batchId);
  const r = await scheduler(env, batchId).cancel();
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    throw new ApiError("invalid_transition", `Batch ${batchId} has already ${r.status === "completed" ? "completed" : "failed"}; there is nothing to cancel.`);
  }
  const b = r.value.batch;
  const details = { completedCalls: b.completed_count, failedCalls: b.failed_count, cancelledCalls: b.cancelled_count, totalCalls: b.total_calls };
  if (!r.value.already) log("info", "batch.cancelled", { requestId, workspaceId, batchId, cancelledCalls: b.cancelled_count });
  return { batchId, status: "cancelled", message: "Batch cancelled: waiting calls will not be made; calls in progress finish", details };
}

/** Pause keeps the queue; calls in flight finish. Pausing a paused batch is harmless. */
export async function pauseBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<ControlResponse> {
  await requireForControl(env.DB, workspaceId, batchId);
  const r = await scheduler(env, batchId).pause();
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    throw notAllowed(batchId, r.status, `Batch ${batchId} is ${r.status}; only a queued or processing batch can be paused.`);
  }
  log("info", "batch.paused", { requestId, workspaceId, batchId });
  return { batchId, status: "paused", message: "Batch paused: no new calls start until it is resumed; calls in progress finish" };
}

export async function resumeBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<ControlResponse> {
  const before = await requireForControl(env.DB, workspaceId, batchId);
  const r = await scheduler(env, batchId).resume();
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    if (r.status === "over_budget") {
      throw new ApiError(
        "invalid_transition",
        `The batch has used its budget: ${r.billedMinutes} of ${r.maxMinutes} minutes. Raise maxMinutes with PATCH /v1/api/batch-calls/${batchId}, then resume.`,
      );
    }
    throw notAllowed(batchId, r.status, `Batch ${batchId} is ${r.status}; only a paused batch can be resumed.`);
  }
  if (before.status !== "paused") return { batchId, status: r.value, message: "Batch is not paused" };
  log("info", "batch.resumed", { requestId, workspaceId, batchId });
  return { batchId, status: r.value, message: "Batch resumed" };
}

/**
 * Starts a draft: queued until its scheduledAt when that is still ahead,
 * else processing now. Only a draft starts; a start replayed after its
 * answer was lost finds the batch queued or running and is a 409 naming
 * that status (the batch did start: read it to see).
 */
export async function startDraft(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<ControlResponse> {
  await requireForControl(env.DB, workspaceId, batchId);
  const r = await scheduler(env, batchId).start();
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    throw new ApiError("invalid_transition", `Batch ${batchId} is ${r.status}; only a draft can be started.`);
  }
  log("info", "batch.draft_started", { requestId, workspaceId, batchId, status: r.value });
  const message = r.value === "queued" ? "Draft started: the batch waits for its scheduledAt, then dials" : "Draft started: dialling begins now";
  return { batchId, status: r.value, message };
}

/** A new pass over recipients whose final outcome was no_answer, busy or failed. */
export async function retryBatch(env: Env, workspaceId: string, batchId: string, requestId: string): Promise<RetryResponse> {
  await requireForControl(env.DB, workspaceId, batchId);
  const r = await scheduler(env, batchId).retry();
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    throw notAllowed(batchId, r.status, `Batch ${batchId} is ${r.status}; retry starts a new pass once a batch has completed.`);
  }
  const { status, requeued } = r.value;
  if (requeued > 0) log("info", "batch.retry", { requestId, workspaceId, batchId, requeued });
  return {
    batchId,
    status,
    requeued,
    message: requeued > 0 ? `${requeued} call(s) re-queued for a new pass` : "No calls ended as no_answer, busy or failed; nothing to retry",
  };
}

/**
 * Cron, the safety net: every queued or running batch's object, and every
 * batch sent a control request since the last visit, is asked to make sure
 * it has an alarm and that D1's summary agrees with it (the object is the
 * truth). An alarm that kept failing is given up by the runtime, and a
 * Worker can die between an object's step and its summary write; this
 * brings either back within one cron period.
 */
export async function restoreLostAlarms(env: Env): Promise<{ visited: number; alarmsRestored: number; summariesRepaired: number }> {
  const totals = { visited: 0, alarmsRestored: 0, summariesRepaired: 0 };
  const visitedAt = Date.now();
  let after = "";
  for (;;) {
    const ids = await batchesToVisit(env.DB, after, 200);
    if (ids.length === 0) return totals;
    const results = await Promise.allSettled(ids.map((id) => env.BATCH_SCHEDULER.getByName(id).ensureAlarm()));
    const visited: string[] = [];
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        log("error", "batch.visit_failed", { batchId: ids[i], error: String(r.reason) });
        return;
      }
      visited.push(ids[i]!);
      if (r.value.alarmRestored) totals.alarmsRestored++;
      if (r.value.summaryRepaired) totals.summariesRepaired++;
    });
    // A batch whose visit failed keeps its mark: the next cron tries again.
    await clearControlMarks(env.DB, visited, visitedAt);
    totals.visited += visited.length;
    after = ids.at(-1)!;
  }
}

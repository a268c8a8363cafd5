import type { BatchRow } from "../db/batch.repo";
import { finishAttempt, getBatchById, setProviderCallId } from "../db/engine.repo";
import type { SmartCallbackConfig } from "../domain/batch-options";
import { nextStep, timeScale, type Outcome } from "../domain/outcome";
import { leaseId } from "../durable/workspace-limiter";
import { callId } from "../lib/ids";
import { log } from "../lib/log";
import { emitWebhook } from "../queue/webhook-event";

/**
 * A provider's report about one attempt. Real status webhooks and the
 * simulated carrier both end up here, so they share one state machine.
 */
export type CallEvent =
  | { kind: "progress"; batchId: string; seq: number; attempt: number; providerCallId?: string }
  | {
      kind: "final";
      batchId: string;
      seq: number;
      attempt: number;
      outcome: Outcome;
      at: number;
      durationSec?: number | null;
      error?: string | null;
      providerCallId?: string;
    };

export type ApplyResult = "applied" | "ignored" | "unknown_call";

/**
 * Applies an event if, and only if, it is news: a final result for the
 * attempt that is active now. Duplicates, late and out-of-order events
 * match no row and change nothing (the caller still acknowledges them).
 */
export async function applyCallEvent(env: Env, ev: CallEvent): Promise<ApplyResult> {
  const batch = await getBatchById(env.DB, ev.batchId);
  if (!batch) return "unknown_call";
  if (ev.kind === "progress") {
    if (ev.providerCallId) await setProviderCallId(env.DB, ev.batchId, ev.seq, ev.attempt, ev.providerCallId);
    return "applied";
  }
  const call = await env.DB.prepare("SELECT status, attempts, pass_base FROM calls WHERE batch_id = ?1 AND seq = ?2")
    .bind(ev.batchId, ev.seq)
    .first<{ status: string; attempts: number; pass_base: number }>();
  if (!call) return "unknown_call";
  if (call.status !== "active" || call.attempts !== ev.attempt) return "ignored";

  const step = nextStep({
    config: batch.smart_callback_config ? (JSON.parse(batch.smart_callback_config) as SmartCallbackConfig) : null,
    outcome: ev.outcome,
    attemptInPass: ev.attempt - call.pass_base,
    endedAt: ev.at,
    batchRunning: batch.status === "processing" || batch.status === "paused",
    timeScale: timeScale(env),
  });
  const answered = ev.outcome === "answered" || ev.outcome === "voicemail";
  const applied = await finishAttempt(env.DB, ev.batchId, ev.seq, ev.attempt, {
    status: step.kind === "callback" ? "waiting" : step.status,
    outcome: ev.outcome,
    endTime: ev.at,
    duration: answered ? (ev.durationSec ?? 0) : (ev.durationSec ?? null),
    error: ev.error ?? null,
    dueAt: step.kind === "callback" ? step.dueAt : 0,
  });
  if (!applied) return "ignored";
  log("info", "call.attempt_ended", {
    workspaceId: batch.workspace_id,
    batchId: ev.batchId,
    seq: ev.seq,
    attempt: ev.attempt,
    outcome: ev.outcome,
    next: step.kind === "callback" ? "callback" : step.status,
  });
  await afterCallEnded(env, batch, [leaseId(ev.batchId, ev.seq, ev.attempt)]);
  if (step.kind === "final" && step.status !== "cancelled") {
    const id = callId(ev.batchId, ev.seq);
    await emitWebhook(env, batch.workspace_id, step.status === "completed" ? "call.completed" : "call.failed", `${id}:${ev.attempt}`, {
      batchId: ev.batchId,
      callId: id,
      attempt: ev.attempt,
      status: step.status,
      outcome: ev.outcome,
      endTime: ev.at,
      duration: answered ? (ev.durationSec ?? 0) : (ev.durationSec ?? null),
      error: ev.error ?? null,
    });
  }
  return "applied";
}

/** A slot is free: give it back to the workspace and let the batch use it. */
export async function afterCallEnded(env: Env, batch: Pick<BatchRow, "id" | "workspace_id">, leases: string[]): Promise<void> {
  await env.WORKSPACE_LIMITER.getByName(batch.workspace_id).release(leases);
  await env.BATCH_SCHEDULER.getByName(batch.id).poke();
}

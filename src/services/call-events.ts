import type { BatchRow } from "../db/batch.repo";
import { finishAttempt, loadEventContext, setProviderCallId } from "../db/engine.repo";
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
  if (ev.kind === "progress") {
    if (ev.providerCallId) await setProviderCallId(env.DB, ev.batchId, ev.seq, ev.attempt, ev.providerCallId);
    return "applied";
  }
  const ctx = await loadEventContext(env.DB, ev.batchId, ev.seq);
  if (!ctx) return "unknown_call";
  if (ctx.call_status !== "active" || ctx.attempts !== ev.attempt) return "ignored";
  const batch = { id: ev.batchId, workspace_id: ctx.workspace_id };

  const step = nextStep({
    config: ctx.smart_callback_config ? (JSON.parse(ctx.smart_callback_config) as SmartCallbackConfig) : null,
    outcome: ev.outcome,
    attemptInPass: ev.attempt - ctx.pass_base,
    endedAt: ev.at,
    batchRunning: ctx.batch_status === "processing" || ctx.batch_status === "paused",
    timeScale: timeScale(env),
  });
  const answered = ev.outcome === "answered" || ev.outcome === "voicemail";
  const duration = answered ? (ev.durationSec ?? 0) : (ev.durationSec ?? null);
  const applied = await finishAttempt(env.DB, ev.batchId, ev.seq, ev.attempt, {
    status: step.kind === "callback" ? "waiting" : step.status,
    outcome: ev.outcome,
    endTime: ev.at,
    duration,
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
    const type = step.status === "completed" ? "call.completed" : "call.failed";
    const data = { batchId: ev.batchId, callId: id, attempt: ev.attempt, status: step.status, outcome: ev.outcome, endTime: ev.at, duration, error: ev.error ?? null };
    await emitWebhook(env, batch.workspace_id, type, `${id}:${ev.attempt}`, data, ctx.webhook_url);
  }
  return "applied";
}

/** A slot is free: give it back to the workspace and let the batch use it. */
export async function afterCallEnded(env: Env, batch: Pick<BatchRow, "id" | "workspace_id">, leases: string[]): Promise<void> {
  await env.WORKSPACE_LIMITER.getByName(batch.workspace_id).release(leases);
  await env.BATCH_SCHEDULER.getByName(batch.id).poke();
}

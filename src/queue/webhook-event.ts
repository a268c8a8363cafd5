import * as z from "zod";
import { webhookTarget } from "../db/workspace.repo";
import { sha256Hex } from "../lib/crypto";
import { log } from "../lib/log";

export const WEBHOOK_EVENT_TYPES = [
  "batch.started",
  "call.started",
  "call.retry_scheduled",
  "call.completed",
  "call.failed",
  "call.result",
  "batch.completed",
  "batch.cancelled",
  "batch.paused",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each event's `data` carries (the OpenAPI document's webhooks section). */
export const WEBHOOK_EVENT_DATA: Record<WebhookEventType, string> = {
  "batch.started": "batchId, totalCalls",
  "call.started":
    "batchId, callId, attempt, phone_number (the number this attempt calls), from (its caller ID, or null), startTime (epoch ms); test (true, only on a test call: POST …/test-call)",
  "call.retry_scheduled":
    "batchId, callId, attempt (the one that ended), outcome (no_answer, busy, failed, or voicemail when retried; callback_requested when the recipient asked for the call), " +
    "reason (smart_callback or callback_requested), error (why, a sentence; null for a requested callback), nextAttemptAt (ISO 8601 UTC, inside the calling window)",
  "call.completed": "batchId, callId, attempt, status, outcome, endTime (epoch ms), duration (s), error (null); test (true, only on a test call)",
  "call.failed":
    "batchId, callId, attempt, status, outcome, endTime (epoch ms), duration, error (why, a sentence; never null); test (true, only on a test call)",
  "call.result":
    "batchId, callId, attempt, disposition, summary, sentiment, data (object), recordingUrl, transcriptUrl (API path, needs the API key), callbackAt (ISO or null), " +
    "optOut (boolean): an agent's result, merged with earlier reports for the attempt; sent again (a new id) each time a report changes it; test (true, only on a test call: its callbackAt and optOut are recorded, not acted on)",
  "batch.completed": "batchId, totalCalls, completed, failed, cancelled, completedTime (epoch ms)",
  "batch.cancelled": "batchId, completedCalls, failedCalls, cancelledCalls, totalCalls",
  "batch.paused":
    "batchId, pausedReason (failure_rate or voicemail_rate: the batch's stopRules paused it; budget: its billed minutes reached maxMinutes), " +
    "window (attempts judged), failed, voicemail (of them), billedMinutes, maxMinutes (null: no budget), completedCalls, failedCalls, totalCalls. " +
    "Sent once per pause a rule or the budget makes (a pause by request sends none); resume starts a fresh window",
};

/** One outbound event; `id` is derived from what happened, so a retry or a re-emit keeps it. */
export const WebhookEventSchema = z.object({
  id: z.string().startsWith("evt_"),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  workspaceId: z.string(),
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/**
 * Queues an event for the workspace's webhookUrl, if it has one. `key`
 * names the occurrence (e.g. the call and attempt), so emitting the same
 * occurrence twice yields the same event id and receivers can de-duplicate.
 * Failing to queue is logged, never thrown: a webhook must not undo a call.
 */
export async function emitWebhook(
  env: Env,
  workspaceId: string,
  type: WebhookEventType,
  key: string,
  data: Record<string, unknown>,
  /** The workspace's webhookUrl when the caller already read it (undefined: look it up). */
  webhookUrl?: string | null,
): Promise<void> {
  try {
    const url = webhookUrl !== undefined ? webhookUrl : (await webhookTarget(env.DB, workspaceId))?.url;
    if (!url) return;
    const id = `evt_${(await sha256Hex(`${type}|${key}`)).slice(0, 32)}`;
    const event: WebhookEvent = { id, type, workspaceId, timestamp: new Date().toISOString(), data };
    await env.WEBHOOK_QUEUE.send(event, { contentType: "json" });
  } catch (err) {
    log("error", "webhook.emit_failed", { workspaceId, type, error: String(err) });
  }
}

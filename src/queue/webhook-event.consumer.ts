import { webhookTarget } from "../db/workspace.repo";
import { decryptSecret } from "../lib/crypto";
import { log } from "../lib/log";
import { signWebhook } from "../lib/signing";
import { WebhookEventSchema, type WebhookEvent } from "./webhook-event";

/** 5 s, 10 s, 20 s … capped at an hour: the queue's max_retries bounds the total. */
export function webhookBackoffSec(deliveries: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, deliveries - 1));
}

/**
 * Delivers one event to the workspace's webhookUrl, signed per Standard
 * Webhooks with the workspace's secret. The id is the event's own (stable);
 * the timestamp is this delivery's. Anything but a 2xx is retried.
 */
async function deliver(env: Env, event: WebhookEvent): Promise<"sent" | "no_url" | "failed"> {
  const target = await webhookTarget(env.DB, event.workspaceId);
  if (!target) return "no_url";
  const secret = await decryptSecret(target.secretEnc, env.SECRETS_ENCRYPTION_KEY);
  const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
  const headers = await signWebhook(secret, event.id, body);
  try {
    const res = await fetch(target.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "batch-calls-webhooks/1" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.ok ? "sent" : "failed";
  } catch {
    return "failed";
  }
}

export async function handleWebhookEvents(batch: MessageBatch<WebhookEvent>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      const parsed = WebhookEventSchema.safeParse(msg.body);
      if (!parsed.success) {
        msg.ack();
        return;
      }
      const event = parsed.data;
      try {
        const result = await deliver(env, event);
        if (result === "failed") {
          log("warn", "webhook.delivery_failed", { workspaceId: event.workspaceId, eventId: event.id, type: event.type, delivery: msg.attempts });
          msg.retry({ delaySeconds: webhookBackoffSec(msg.attempts) });
        } else msg.ack();
      } catch (err) {
        log("error", "webhook.delivery_error", { workspaceId: event.workspaceId, eventId: event.id, error: String(err) });
        msg.retry({ delaySeconds: webhookBackoffSec(msg.attempts) });
      }
    }),
  );
}

/** Events that failed every retry: recorded in the logs, then dropped. */
export async function handleDeadWebhookEvents(batch: MessageBatch<WebhookEvent>): Promise<void> {
  for (const msg of batch.messages) {
    const e = msg.body as Partial<WebhookEvent>;
    log("error", "webhook.dead_lettered", { workspaceId: e.workspaceId, eventId: e.id, type: e.type });
    msg.ack();
  }
}

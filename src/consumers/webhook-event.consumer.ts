import { webhookTarget } from "../db/workspace.repo";
import { decryptSecret } from "../lib/crypto";
import { log } from "../lib/log";
import { signWebhook } from "../lib/signing";
import { fetchFailure, fetchNoRedirect, redirectRefusal } from "../telephony/http";
import { WebhookEventSchema, type WebhookEvent } from "../queue/webhook-event";

/** 5 s, 10 s, 20 s … capped at an hour: the queue's max_retries bounds the total. */
export function webhookBackoffSec(deliveries: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, deliveries - 1));
}

type Delivery = { result: "sent" } | { result: "no_url" } | { result: "failed"; reason: string };

/**
 * Delivers one event to the workspace's webhookUrl, signed per Standard
 * Webhooks with the workspace's secret. The id is the event's own (stable);
 * the timestamp is this delivery's. Anything but a 2xx is retried; a
 * redirect is not followed (the signed event would go to a URL nobody
 * checked), so it fails like any other non-2xx.
 */
async function deliver(env: Env, event: WebhookEvent): Promise<Delivery> {
  const target = await webhookTarget(env.DB, event.workspaceId);
  if (!target) return { result: "no_url" };
  const secret = await decryptSecret(target.secretEnc, env.SECRETS_ENCRYPTION_KEY);
  const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
  const headers = await signWebhook(secret, event.id, body);
  try {
    const res = await fetchNoRedirect(target.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "batch-calls-webhooks/1" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    if (res.ok) return { result: "sent" };
    return { result: "failed", reason: `the webhookUrl ${redirectRefusal(res, target.url) ?? `answered ${res.status}`}` };
  } catch (err) {
    const failure = fetchFailure(err);
    return {
      result: "failed",
      reason: failure.timedOut ? `the webhookUrl did not answer (${failure.name})` : `could not connect to the webhookUrl: ${failure.message}`,
    };
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
        const delivery = await deliver(env, event);
        if (delivery.result === "failed") {
          log("warn", "webhook.delivery_failed", {
            workspaceId: event.workspaceId,
            eventId: event.id,
            type: event.type,
            delivery: msg.attempts,
            reason: delivery.reason,
          });
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

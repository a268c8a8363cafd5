import { signWebhook } from "../lib/signing";
import type { CallProvider, DialRequest, DialResult } from "./provider";

export function dialStatusUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/$/, "")}/v1/webhooks/dial/status`;
}

/**
 * POSTs a signed JSON dial request to the agent's dialUrl; the remote end
 * reports progress to statusUrl, signed the same way (Standard Webhooks,
 * keyed with DIAL_WEBHOOK_SECRET).
 */
export class WebhookProvider implements CallProvider {
  constructor(private readonly cfg: { secret: string; publicBaseUrl: string; timeoutMs?: number }) {}

  async dial(req: DialRequest): Promise<DialResult> {
    if (!req.dialUrl) return { kind: "rejected", error: "the agent has no dialUrl" };
    const body = JSON.stringify({
      callId: req.callId,
      attempt: req.attempt,
      to: req.to,
      from: req.from,
      agentId: req.agentId,
      variables: req.variables,
      statusUrl: dialStatusUrl(this.cfg.publicBaseUrl),
    });
    const headers = await signWebhook(this.cfg.secret, `${req.callId}.${req.attempt}`, body);
    let res: Response;
    try {
      res = await fetch(req.dialUrl, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.cfg.timeoutMs ?? 15_000),
      });
    } catch (err) {
      return { kind: "unknown", error: `the dial endpoint did not answer (${(err as Error).name}); the call may exist` };
    }
    const text = await res.text();
    if (res.ok) {
      let id = `${req.callId}.${req.attempt}`;
      try {
        const parsed = JSON.parse(text) as { id?: unknown };
        if (typeof parsed.id === "string" && parsed.id) id = parsed.id;
      } catch {
        // an empty 2xx body is fine
      }
      return { kind: "placed", providerCallId: id };
    }
    if (res.status === 429) {
      const retryAfter = Number(res.headers.get("retry-after"));
      return { kind: "rate_limited", retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0, error: "dial endpoint rate limit (429)" };
    }
    if (res.status >= 500) return { kind: "unknown", error: `the dial endpoint answered ${res.status}; the call may exist` };
    return { kind: "rejected", error: `the dial endpoint refused the call (${res.status}): ${text.slice(0, 200)}` };
  }
}

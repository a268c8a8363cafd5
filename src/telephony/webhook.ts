import { getAgentKeys, type AgentKeys } from "../db/agent.repo";
import { decryptSecret } from "../lib/crypto";
import { log } from "../lib/log";
import { signWebhook } from "../lib/signing";
import type { CallProvider, DialRequest, DialResult } from "./provider";

/** How long a rotated-out signing secret keeps verifying status reports. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Where the remote end reports one call's status. The call id in the URL
 * names the key that must have signed the report, so the signature is
 * checked before the body is read.
 */
export function dialStatusUrl(publicBaseUrl: string, callId: string): string {
  return `${publicBaseUrl.replace(/\/$/, "")}/v1/webhooks/dial/status?callId=${encodeURIComponent(callId)}`;
}

/** The secrets that verify an agent's status reports now: its current one and a previous one still in its grace period. */
export async function verifyingSecrets(keys: AgentKeys, encKey: string, now = Date.now()): Promise<string[]> {
  const sealed = [keys.signing_secret_enc];
  const expires = keys.previous_secret_expires_at ? Date.parse(keys.previous_secret_expires_at) : NaN;
  if (keys.previous_secret_enc && expires > now) sealed.push(keys.previous_secret_enc);
  return Promise.all(sealed.filter((s): s is string => s !== null).map((s) => decryptSecret(s, encKey)));
}

/**
 * Signing secrets read for dials started in the same turn (a consumer
 * batch dials its calls together): one D1 read per agent, not per call,
 * and never a stale one (the entry goes once the read settles).
 */
const reading = new Map<string, Promise<string | null>>();

async function currentSecret(db: D1Database, encKey: string, agentId: string): Promise<string | null> {
  let pending = reading.get(agentId);
  if (!pending) {
    pending = getAgentKeys(db, agentId).then((k) => (k?.signing_secret_enc ? decryptSecret(k.signing_secret_enc, encKey) : null));
    reading.set(agentId, pending);
    void pending.finally(() => reading.delete(agentId)).catch(() => undefined);
  }
  return pending;
}

export type WebhookConfig = { db: D1Database; encKey: string; publicBaseUrl: string; timeoutMs?: number };

/**
 * POSTs a JSON dial request to the agent's dialUrl, signed (Standard
 * Webhooks) with that agent's own signing secret; the remote end reports
 * progress to statusUrl, signed the same way.
 */
export class WebhookProvider implements CallProvider {
  constructor(private readonly cfg: WebhookConfig) {}

  async dial(req: DialRequest): Promise<DialResult> {
    if (!req.dialUrl) return { kind: "rejected", error: "the agent has no dialUrl" };
    let secret: string | null;
    try {
      secret = await currentSecret(this.cfg.db, this.cfg.encKey, req.agentId);
    } catch (err) {
      // Nothing was sent: like a 429, the attempt goes back and the queue tries it again.
      log("error", "dial.secret_unreadable", { agentId: req.agentId, error: String(err) });
      return { kind: "rate_limited", retryAfterSec: 5, error: "the agent's signing secret could not be read" };
    }
    if (!secret) return { kind: "rejected", error: "the agent has no signing secret; rotate it with POST /v1/api/agents/{agentId}/rotate-secret" };
    const body = JSON.stringify({
      callId: req.callId,
      attempt: req.attempt,
      to: req.to,
      from: req.from,
      agentId: req.agentId,
      variables: req.variables,
      statusUrl: dialStatusUrl(this.cfg.publicBaseUrl, req.callId),
    });
    const headers = await signWebhook(secret, `${req.callId}.${req.attempt}`, body);
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

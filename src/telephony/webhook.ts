import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { getAgentKeys, type AgentKeys } from "../db/agent.repo";
import { DIAL_TIMEOUT_MS } from "../engine-config";
import { decryptSecret } from "../lib/crypto";
import { issuesText } from "../lib/issues";
import { log } from "../lib/log";
import { signWebhook } from "../lib/signing";
import { OUTCOMES } from "../domain/vocabulary";
import { fetchFailure, fetchNoRedirect, joinUrl, quotedUrl, redirectRefusal, retryAfterSec } from "./http";
import type { CallProvider, DialFate, DialRequest, DialResult } from "./provider";
import { finalReport, MAX_ATTEMPT, type ParsedReport, progressReport, ReportedCallId, type ReportedCall } from "./status-report";

/** How long a rotated-out signing secret keeps verifying status reports. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Where the remote end reports one call's status. The call id in the URL
 * names the key that must have signed the report, so the signature is
 * checked before the body is read.
 */
export function dialStatusUrl(publicBaseUrl: string, callId: string): string {
  return joinUrl(publicBaseUrl, `/v1/webhooks/dial/status?callId=${encodeURIComponent(callId)}`);
}

/** The secrets that verify an agent's status reports at `now`: its current one and a previous one still in its grace period. */
export async function verifyingSecrets(keys: AgentKeys, encKey: string, now: number): Promise<string[]> {
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

export type WebhookConfig = { db: D1Database; encKey: string; publicBaseUrl: string };

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
      res = await fetchNoRedirect(req.dialUrl, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(DIAL_TIMEOUT_MS),
      });
    } catch (err) {
      const failure = fetchFailure(err);
      if (failure.timedOut) return { kind: "unknown", error: `the dial endpoint did not answer (${failure.name}); the call may exist` };
      return { kind: "unreachable", error: `could not connect to ${quotedUrl(req.dialUrl)}: ${failure.message}` };
    }
    const redirect = redirectRefusal(res, req.dialUrl);
    if (redirect) {
      // The dialer did not take the call; following the redirect would send the signed request somewhere unchecked.
      await res.body?.cancel();
      return { kind: "rejected", error: `the dial endpoint ${redirect}` };
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
    if (res.status === 429) return { kind: "rate_limited", retryAfterSec: retryAfterSec(res), error: "dial endpoint rate limit (429)" };
    if (res.status >= 500) return { kind: "unknown", error: `the dial endpoint answered ${res.status}; the call may exist` };
    return { kind: "rejected", error: `the dial endpoint refused the call (${res.status}): ${text.slice(0, 200)}` };
  }

  /** The remote end cannot be asked: had it got the dial, its status report would have confirmed it. */
  findLostDial(): Promise<DialFate> {
    return Promise.resolve({ kind: "unknown", reason: "the agent's dial endpoint never confirmed it and cannot be asked" });
  }
}

/** What the dialer POSTs to statusUrl: the attempt's progress, or how it ended. */
export const DialStatusSchema = z
  .object({
    callId: ReportedCallId,
    attempt: z.number().int().min(1).max(MAX_ATTEMPT),
    status: z.enum(["ringing", "in_progress", ...OUTCOMES]),
    duration: z.number().min(0).optional().describe("seconds, for answered and voicemail; at most the call lease (CALL_LEASE_SECONDS, default 3600)"),
    providerCallId: z.string().max(200).optional(),
    error: z.string().max(500).optional(),
  })
  .openapi("DialStatusReport");

/** The callId of an unverified report body, read only to choose which agent's secret must have signed it. */
export function reportCallId(raw: string): string | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    const id = typeof body === "object" && body !== null ? (body as { callId?: unknown }).callId : undefined;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A status report, already verified as signed for `call`, as an event.
 * A `duration` above `maxDurationSec` (the call lease) is refused: the
 * dialer chose it and can send it right.
 */
export function parseDialReport(raw: string, call: ReportedCall, maxDurationSec: number, now: number): ParsedReport {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "The body is not JSON." };
  }
  const parsed = DialStatusSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: `The status report is invalid: ${issuesText(parsed.error.issues)}.` };
  const r = parsed.data;
  // The signature vouches for the call named in the URL; the body may not speak for another one.
  if (r.callId !== call.callId) return { ok: false, problem: "The report's callId is not the call of the statusUrl it was sent to." };
  if (r.duration !== undefined && r.duration > maxDurationSec) {
    return { ok: false, problem: `duration must be between 0 and ${maxDurationSec} seconds (the call lease).` };
  }
  if (r.status === "ringing" || r.status === "in_progress") return progressReport(call, r.attempt, r.providerCallId);
  return finalReport(call, r.attempt, {
    outcome: r.status,
    at: now,
    durationSec: r.duration ?? null,
    error: r.error ?? null,
    providerCallId: r.providerCallId,
  });
}

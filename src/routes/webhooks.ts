import * as z from "zod";
import { newApp } from "../app-factory";
import { getBatchAgentKeys, type AgentKeys, type Provider } from "../db/agent.repo";
import type { Outcome } from "../domain/outcome";
import { engineConfig } from "../engine-config";
import { ApiError } from "../errors";
import { parseCallId } from "../lib/ids";
import { issuesText } from "../lib/issues";
import { log } from "../lib/log";
import { verifyTwilioSignature, verifyWebhook } from "../lib/signing";
import { ErrorSchema, errorResponses } from "../schemas/common";
import { applyCallEvent, type CallEvent } from "../services/call-events";
import { mapTwilioStatus } from "../telephony/twilio";
import { verifyingSecrets } from "../telephony/webhook";

/** Far above any real attempt count (10 per pass), far below anything that could overflow a counter. */
const MAX_ATTEMPT = 100_000;

const CallIdString = z.string().max(100);

const AttemptQuery = z.object({
  callId: CallIdString.openapi({ example: "call_0190a1b2c3d4e5f60718293a_12" }),
  attempt: z.coerce.number().int().min(1).max(MAX_ATTEMPT),
});

const DialStatusQuery = z.object({
  callId: CallIdString.optional().openapi({
    description: "the call this report is about, as in the statusUrl of the dial request (recommended: it lets a signed but malformed body get a 400 instead of a 403)",
    example: "call_0190a1b2c3d4e5f60718293a_12",
  }),
});

const DialStatusSchema = z
  .object({
    callId: CallIdString,
    attempt: z.number().int().min(1).max(MAX_ATTEMPT),
    status: z.enum(["ringing", "in_progress", "answered", "voicemail", "no_answer", "busy", "failed", "canceled"]),
    duration: z.number().min(0).optional().describe("seconds, for answered and voicemail; at most the call lease (CALL_LEASE_SECONDS, default 3600)"),
    providerCallId: z.string().max(200).optional(),
    error: z.string().max(500).optional(),
  })
  .openapi("DialStatusReport");

/** The one refusal for a report we will not apply: bad signature, unknown call and another provider's call look the same. */
const REFUSED = "The webhook signature does not match this request.";
const refusedResponse = {
  403: {
    description: "Not signed with the secret of the agent that placed this call (or no such call, or a call of another provider); nothing changed",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

/** The agent that placed `callId`'s calls, if it exists and dials through `provider`. */
async function placingAgent(env: Env, callId: string | undefined, provider: Provider): Promise<AgentKeys | null> {
  const parsed = callId ? parseCallId(callId) : null;
  if (!parsed) return null;
  const agent = await getBatchAgentKeys(env.DB, parsed.batchId);
  return agent?.provider === provider ? agent : null;
}

/** Longest duration a report may carry: the lease, after which the call was already resolved as failed. */
function maxDurationSec(env: Env): number {
  return engineConfig(env).callLeaseMs / 1000;
}

async function apply(env: Env, ev: CallEvent): Promise<void> {
  if (ev.kind === "progress") {
    // Nothing to change: the dial already recorded the provider's call id, and
    // the batch's object is spared a request per ringing/answered report.
    log("info", "call.status_event", { batchId: ev.batchId, seq: ev.seq, attempt: ev.attempt, kind: ev.kind, result: "acknowledged" });
    return;
  }
  const result = await applyCallEvent(env, ev);
  if (result === "unknown_call") throw new ApiError("not_found", "Unknown callId.");
  log("info", "call.status_event", { batchId: ev.batchId, seq: ev.seq, attempt: ev.attempt, kind: ev.kind, result });
}

/**
 * Provider status reports. Each is applied only to a call placed through
 * that provider, and a `webhook` report only when signed by the agent that
 * placed the call. Verified before anything is read into state; replays and
 * duplicates are acknowledged and change nothing.
 */
export function webhookRoutes() {
  const app = newApp();

  // Registered for the document only: a validator would parse the body
  // before the signature is checked. These handlers verify first, then parse.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/twilio/status",
    tags: ["Provider webhooks"],
    summary: "Twilio StatusCallback (verified with X-Twilio-Signature)",
    description:
      "Applied only to a call placed through a `twilio` agent. `CallDuration` is clamped to 0 … the call lease (CALL_LEASE_SECONDS).",
    request: {
      query: AttemptQuery,
      body: { content: { "application/x-www-form-urlencoded": { schema: z.record(z.string(), z.string()) } }, required: true },
    },
    responses: { 204: { description: "Recorded (or already known)" }, ...errorResponses(400, 404), ...refusedResponse },
  });
  app.post("/twilio/status", async (c) => {
    const params = [...new URLSearchParams(await c.req.text())];
    const url = new URL(c.req.url);
    const signedUrl = `${(c.env.PUBLIC_BASE_URL || url.origin).replace(/\/$/, "")}${url.pathname}${url.search}`;
    if (!c.env.TWILIO_AUTH_TOKEN || !(await verifyTwilioSignature(c.env.TWILIO_AUTH_TOKEN, signedUrl, params, c.req.header("x-twilio-signature") ?? null))) {
      throw new ApiError("forbidden", "The X-Twilio-Signature does not match this request.");
    }
    const query = AttemptQuery.safeParse(c.req.query());
    if (!query.success) throw new ApiError("validation_failed", `The StatusCallback URL needs callId and an attempt from 1 to ${MAX_ATTEMPT}.`);
    const { callId, attempt } = query.data;
    // Twilio's signature says Twilio sent it, not that the call is Twilio's.
    if (!(await placingAgent(c.env, callId, "twilio"))) throw new ApiError("forbidden", "This status callback is not for a call placed through Twilio.");
    const p = new Map(params);
    const mapped = mapTwilioStatus(p.get("CallStatus") ?? "", p.get("AnsweredBy") ?? null);
    if (!mapped) throw new ApiError("validation_failed", `Unknown CallStatus "${(p.get("CallStatus") ?? "").slice(0, 40)}".`);
    const { batchId, seq } = parseCallId(callId)!;
    const providerCallId = p.get("CallSid")?.slice(0, 200);
    const duration = Number(p.get("CallDuration"));
    await apply(
      c.env,
      mapped.kind === "progress"
        ? { kind: "progress", batchId, seq, attempt, providerCallId }
        : {
            kind: "final",
            batchId,
            seq,
            attempt,
            outcome: mapped.outcome,
            at: Date.now(),
            // Twilio's own figure: clamped, not refused, so a call's end is never lost over it.
            durationSec: Number.isFinite(duration) ? Math.min(Math.max(duration, 0), maxDurationSec(c.env)) : null,
            error: mapped.outcome === "failed" ? `Twilio reported the call failed${p.get("ErrorCode") ? ` (error ${p.get("ErrorCode")!.slice(0, 20)})` : ""}` : null,
            providerCallId,
          },
    );
    return c.body(null, 204);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/dial/status",
    tags: ["Provider webhooks"],
    summary: "Status report from a `webhook` provider (Standard Webhooks, signed with the agent's signingSecret)",
    description:
      "POST to the `statusUrl` of the dial request. Applied only when signed with the signing secret of the `webhook` agent that placed the call " +
      "(its current one, or the one it replaced within the last 24 hours). A report for a call of another agent or provider, for an unknown call, " +
      "or with a bad signature is refused with the same 403 and changes nothing. `duration` above the call lease is a 400.",
    request: { query: DialStatusQuery, body: { content: { "application/json": { schema: DialStatusSchema } }, required: true } },
    responses: { 204: { description: "Recorded (or already known)" }, ...errorResponses(400, 404), ...refusedResponse },
  });
  app.post("/dial/status", async (c) => {
    const raw = await c.req.text();
    // The key is named by the statusUrl's callId; a dialer that posts to the
    // bare path names it in the body instead, read only to pick the key.
    const queryCallId = c.req.query("callId");
    const claimedCallId = queryCallId ?? callIdIn(raw);
    const agent = await placingAgent(c.env, claimedCallId, "webhook");
    if (!agent || !(await verifyWebhook(await verifyingSecrets(agent, c.env.SECRETS_ENCRYPTION_KEY), c.req.raw.headers, raw))) {
      throw new ApiError("forbidden", REFUSED);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ApiError("validation_failed", "The body is not JSON.");
    }
    const parsed = DialStatusSchema.safeParse(json);
    if (!parsed.success) throw new ApiError("validation_failed", `The status report is invalid: ${issuesText(parsed.error.issues)}.`);
    const r = parsed.data;
    // The signature vouches for the call named in the URL; the body may not speak for another one.
    if (r.callId !== claimedCallId) throw new ApiError("validation_failed", "The report's callId is not the call of the statusUrl it was sent to.");
    const maxDuration = maxDurationSec(c.env);
    if (r.duration !== undefined && r.duration > maxDuration) {
      throw new ApiError("validation_failed", `duration must be between 0 and ${maxDuration} seconds (the call lease).`);
    }
    const { batchId, seq } = parseCallId(r.callId)!;
    const progress = r.status === "ringing" || r.status === "in_progress";
    await apply(
      c.env,
      progress
        ? { kind: "progress", batchId, seq, attempt: r.attempt, providerCallId: r.providerCallId }
        : {
            kind: "final",
            batchId,
            seq,
            attempt: r.attempt,
            outcome: r.status as Outcome,
            at: Date.now(),
            durationSec: r.duration ?? null,
            error: r.error ?? null,
            providerCallId: r.providerCallId,
          },
    );
    return c.body(null, 204);
  });

  return app;
}

/** The callId of an unverified JSON body, used only to choose which agent's secret must have signed it. */
function callIdIn(raw: string): string | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    const id = typeof body === "object" && body !== null ? (body as { callId?: unknown }).callId : undefined;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

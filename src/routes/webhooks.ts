import * as z from "zod";
import { newApp } from "../app";
import type { Outcome } from "../domain/outcome";
import { ApiError } from "../errors";
import { parseCallId } from "../lib/ids";
import { log } from "../lib/log";
import { verifyTwilioSignature, verifyWebhook } from "../lib/signing";
import { errorResponses } from "../schemas/common";
import { applyCallEvent, type CallEvent } from "../services/call-events";
import { mapTwilioStatus } from "../telephony/twilio";

const AttemptQuery = z.object({
  callId: z.string().openapi({ example: "call_0190a1b2c3d4e5f60718293a_12" }),
  attempt: z.coerce.number().int().min(1),
});

const DialStatusSchema = z
  .object({
    callId: z.string(),
    attempt: z.number().int().min(1),
    status: z.enum(["ringing", "in_progress", "answered", "voicemail", "no_answer", "busy", "failed", "canceled"]),
    duration: z.number().min(0).optional().describe("seconds, for answered and voicemail"),
    providerCallId: z.string().optional(),
    error: z.string().max(500).optional(),
  })
  .openapi("DialStatusReport");

function callOf(callId: string): { batchId: string; seq: number } {
  const parsed = parseCallId(callId);
  if (!parsed) throw new ApiError("not_found", "Unknown callId.");
  return parsed;
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

/** Provider status reports. Verified before anything is read into state; replays and duplicates are acknowledged and change nothing. */
export function webhookRoutes() {
  const app = newApp();

  // Registered for the document only: a validator would parse the body
  // before the signature is checked. These handlers verify first, then parse.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/twilio/status",
    tags: ["Provider webhooks"],
    summary: "Twilio StatusCallback (verified with X-Twilio-Signature)",
    request: {
      query: AttemptQuery,
      body: { content: { "application/x-www-form-urlencoded": { schema: z.record(z.string(), z.string()) } }, required: true },
    },
    responses: { 204: { description: "Recorded (or already known)" }, ...errorResponses(400, 403, 404) },
  });
  app.post("/twilio/status", async (c) => {
  const params = [...new URLSearchParams(await c.req.text())];
  const url = new URL(c.req.url);
  const signedUrl = `${(c.env.PUBLIC_BASE_URL || url.origin).replace(/\/$/, "")}${url.pathname}${url.search}`;
  if (!c.env.TWILIO_AUTH_TOKEN || !(await verifyTwilioSignature(c.env.TWILIO_AUTH_TOKEN, signedUrl, params, c.req.header("x-twilio-signature") ?? null))) {
    throw new ApiError("forbidden", "The X-Twilio-Signature does not match this request.");
  }
  const query = AttemptQuery.safeParse(c.req.query());
  if (!query.success) throw new ApiError("validation_failed", "The StatusCallback URL needs callId and a positive attempt.");
  const { callId, attempt } = query.data;
    const p = new Map(params);
    const mapped = mapTwilioStatus(p.get("CallStatus") ?? "", p.get("AnsweredBy") ?? null);
    if (!mapped) throw new ApiError("validation_failed", `Unknown CallStatus "${p.get("CallStatus") ?? ""}".`);
    const { batchId, seq } = callOf(callId);
    const providerCallId = p.get("CallSid");
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
            durationSec: Number.isFinite(duration) ? duration : null,
            error: mapped.outcome === "failed" ? `Twilio reported the call failed${p.get("ErrorCode") ? ` (error ${p.get("ErrorCode")})` : ""}` : null,
            providerCallId,
          },
    );
    return c.body(null, 204);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/dial/status",
    tags: ["Provider webhooks"],
    summary: "Status report from a `webhook` provider (Standard Webhooks signature with DIAL_WEBHOOK_SECRET)",
    request: { body: { content: { "application/json": { schema: DialStatusSchema } }, required: true } },
    responses: { 204: { description: "Recorded (or already known)" }, ...errorResponses(400, 403, 404) },
  });
  app.post("/dial/status", async (c) => {
    const raw = await c.req.text();
    if (!c.env.DIAL_WEBHOOK_SECRET || !(await verifyWebhook(c.env.DIAL_WEBHOOK_SECRET, c.req.raw.headers, raw))) {
      throw new ApiError("forbidden", "The webhook signature does not match this request.");
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ApiError("validation_failed", "The body is not JSON.");
    }
    const parsed = DialStatusSchema.safeParse(json);
    if (!parsed.success) throw new ApiError("validation_failed", `The status report is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}.`);
    const r = parsed.data;
    const { batchId, seq } = callOf(r.callId);
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

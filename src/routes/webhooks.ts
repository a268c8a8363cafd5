import type { Context } from "hono";
import * as z from "zod";
import { type AppEnv, newApp } from "../app-factory";
import { getBatchAgentKeys, type AgentKeys } from "../db/agent.repo";
import { engineConfig } from "../engine-config";
import { ApiError } from "../errors";
import { DEV_DRAIN_MAX_BYTES, readTextWithin } from "../lib/body";
import { parseCallId } from "../lib/ids";
import { log } from "../lib/log";
import { verifyTwilioSignature, verifyWebhook } from "../lib/signing";
import { ErrorSchema, errorResponses } from "../schemas/common";
import type { Provider } from "../domain/vocabulary";
import { applyCallEvent } from "../services/call-events";
import { MAX_ATTEMPT, ReportedCallId, type ParsedReport, type ReportedCall } from "../telephony/status-report";
import { parseTwilioRecording, parseTwilioReport, twilioSignedUrl } from "../telephony/twilio";
import { DialStatusSchema, parseDialReport, reportCallId, verifyingSecrets } from "../telephony/webhook";

const AttemptQuery = z.object({
  callId: ReportedCallId.openapi({ example: "call_0190a1b2c3d4e5f60718293a_12" }),
  attempt: z.coerce.number().int().min(1).max(MAX_ATTEMPT),
});

const DialStatusQuery = z.object({
  callId: ReportedCallId.optional().openapi({
    description:
      "the call this report is about, as in the statusUrl of the dial request (recommended: it lets a signed but malformed body get a 400 instead of a 403)",
    example: "call_0190a1b2c3d4e5f60718293a_12",
  }),
});

/**
 * The largest body each provider webhook reads. Twilio's StatusCallback
 * form is 1–2 KB and a dial status report a few hundred bytes; anything
 * over these is refused (413) before its signature is checked, unread when
 * Content-Length declares it, else as soon as the count passes the limit.
 */
export const TWILIO_STATUS_MAX_BYTES = 16 * 1024;
export const DIAL_STATUS_MAX_BYTES = 8 * 1024;

/**
 * The webhook routes' one clock: it checks a report's timestamp and a
 * rotated secret's grace period, and dates what the report says. A test
 * stands it later (vi.spyOn) rather than moving times in D1.
 */
export const webhookClock = { now: (): number => Date.now() };

/** The body, read up to `maxBytes` (see readTextWithin); in development an over-limit rest is drained first. */
function boundedBody(c: { req: { raw: Request }; env: Env }, maxBytes: number, what: string): Promise<string> {
  return readTextWithin(c.req.raw, maxBytes, what, { drainOverLimit: c.env.ENVIRONMENT === "development", drainMaxBytes: DEV_DRAIN_MAX_BYTES });
}

const tooLargeResponse = (limit: string) => ({
  413: {
    description: `The body is over ${limit} (declared by Content-Length, or counted as it arrived); refused before the signature is checked, nothing changed`,
    content: { "application/json": { schema: ErrorSchema } },
  },
});

/** The one refusal for a report we will not apply: bad signature, unknown call and another provider's call look the same. */
const REFUSED = "The webhook signature does not match this request.";
const refusedResponse = {
  403: {
    description: "Not signed with the secret of the agent that placed this call (or no such call, or a call of another provider); nothing changed",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

/** The call `callId` names and the agent that placed it, if both exist and the agent dials through `provider`. */
async function placedThrough(env: Env, callId: string | undefined, provider: Provider): Promise<{ call: ReportedCall; agent: AgentKeys } | null> {
  if (!callId) return null;
  const parsed = parseCallId(callId);
  if (!parsed) return null;
  const agent = await getBatchAgentKeys(env.DB, parsed.batchId);
  return agent?.provider === provider ? { call: { callId, ...parsed }, agent } : null;
}

/** Longest duration a report may carry: the lease, after which the call was already resolved as failed. */
function maxDurationSec(env: Env): number {
  return engineConfig(env).callLeaseMs / 1000;
}

/**
 * A Twilio callback's form, its signature checked against the public URL it
 * was sent to, for the Twilio call and attempt its URL names. Twilio's
 * signature says Twilio sent it, not that the call is Twilio's: a call of
 * another provider is refused as well.
 */
async function verifiedTwilioCallback(c: Context<AppEnv>, what: string, noun: string) {
  const params = [...new URLSearchParams(await boundedBody(c, TWILIO_STATUS_MAX_BYTES, `The ${what} body`))];
  const signedUrl = twilioSignedUrl(c.env.PUBLIC_BASE_URL, c.req.url);
  if (!c.env.TWILIO_AUTH_TOKEN || !(await verifyTwilioSignature(c.env.TWILIO_AUTH_TOKEN, signedUrl, params, c.req.header("x-twilio-signature") ?? null))) {
    throw new ApiError("forbidden", "The X-Twilio-Signature does not match this request.");
  }
  const query = AttemptQuery.safeParse(c.req.query());
  if (!query.success) throw new ApiError("validation_failed", `The ${what} URL needs callId and an attempt from 1 to ${MAX_ATTEMPT}.`);
  const placed = await placedThrough(c.env, query.data.callId, "twilio");
  if (!placed) throw new ApiError("forbidden", `This ${noun} is not for a call placed through Twilio.`);
  return { params, call: placed.call, attempt: query.data.attempt };
}

/** Hands a verified report to the batch's object; one the adapter could not read is a 400. */
async function apply(env: Env, report: ParsedReport): Promise<void> {
  if (!report.ok) throw new ApiError("validation_failed", report.problem);
  const ev = report.event;
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
 * duplicates are acknowledged and change nothing. Reading a report is the
 * adapter's job (src/telephony); this file authenticates and hands over.
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
      "Applied only to a call placed through a `twilio` agent. `CallDuration` is clamped to 0 … the call lease (CALL_LEASE_SECONDS). " +
      `A body over ${TWILIO_STATUS_MAX_BYTES / 1024} KiB is refused with 413 before the signature is checked (unread when Content-Length says so).`,
    request: {
      query: AttemptQuery,
      body: { content: { "application/x-www-form-urlencoded": { schema: z.record(z.string(), z.string()) } }, required: true },
    },
    responses: {
      204: { description: "Recorded (or already known)" },
      ...errorResponses(400, 404),
      ...refusedResponse,
      ...tooLargeResponse(`${TWILIO_STATUS_MAX_BYTES / 1024} KiB`),
    },
  });
  app.post("/twilio/status", async (c) => {
    const { params, call, attempt } = await verifiedTwilioCallback(c, "StatusCallback", "status callback");
    await apply(c.env, parseTwilioReport(params, call, attempt, maxDurationSec(c.env), webhookClock.now()));
    return c.body(null, 204);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/twilio/recording",
    tags: ["Provider webhooks"],
    summary: "Twilio RecordingStatusCallback (verified with X-Twilio-Signature)",
    description:
      "Given to Twilio for the calls of a `twilio` agent created with `record: true`, and verified exactly like the StatusCallback: " +
      "applied only to a call placed through a `twilio` agent. A `completed` recording's `RecordingUrl` becomes the attempt's `recordingUrl` " +
      "(merged into its result, whatever the agent reported; a repeat changes nothing); any other `RecordingStatus` is acknowledged and changes nothing. " +
      `A body over ${TWILIO_STATUS_MAX_BYTES / 1024} KiB is refused with 413 before the signature is checked (unread when Content-Length says so).`,
    request: {
      query: AttemptQuery,
      body: { content: { "application/x-www-form-urlencoded": { schema: z.record(z.string(), z.string()) } }, required: true },
    },
    responses: {
      204: { description: "Recorded (or already known), or not a completed recording" },
      ...errorResponses(400, 404, 409),
      ...refusedResponse,
      ...tooLargeResponse(`${TWILIO_STATUS_MAX_BYTES / 1024} KiB`),
    },
  });
  app.post("/twilio/recording", async (c) => {
    const { params, call, attempt } = await verifiedTwilioCallback(c, "RecordingStatusCallback", "recording callback");
    const recording = parseTwilioRecording(params);
    if (recording.kind === "invalid") throw new ApiError("validation_failed", recording.problem);
    if (recording.kind === "not_completed") return c.body(null, 204);
    const report = { attempt, recordingUrl: recording.recordingUrl, source: "twilio" } as const;
    const answer = await c.env.BATCH_SCHEDULER.getByName(call.batchId).recordResult(call.seq, report);
    switch (answer.kind) {
      case "recorded":
        log("info", "call.recording", { batchId: call.batchId, seq: call.seq, attempt, changed: answer.changed });
        return c.body(null, 204);
      case "unknown_call":
        throw new ApiError("not_found", "Unknown callId.");
      case "not_dialled":
        throw new ApiError("invalid_transition", `Attempt ${attempt} of this call was never dialled (it has made ${answer.attempts}).`);
      case "invalid":
        throw new ApiError("validation_failed", answer.problem);
    }
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/dial/status",
    tags: ["Provider webhooks"],
    summary: "Status report from a `webhook` provider (Standard Webhooks, signed with the agent's signingSecret)",
    description:
      "POST to the `statusUrl` of the dial request. Applied only when signed with the signing secret of the `webhook` agent that placed the call " +
      "(its current one, or the one it replaced within the last 24 hours). A report for a call of another agent or provider, for an unknown call, " +
      "or with a bad signature is refused with the same 403 and changes nothing. `duration` above the call lease is a 400. " +
      `A body over ${DIAL_STATUS_MAX_BYTES / 1024} KiB is refused with 413 before the signature is checked (unread when Content-Length says so).`,
    request: { query: DialStatusQuery, body: { content: { "application/json": { schema: DialStatusSchema } }, required: true } },
    responses: {
      204: { description: "Recorded (or already known)" },
      ...errorResponses(400, 404),
      ...refusedResponse,
      ...tooLargeResponse(`${DIAL_STATUS_MAX_BYTES / 1024} KiB`),
    },
  });
  app.post("/dial/status", async (c) => {
    const raw = await boundedBody(c, DIAL_STATUS_MAX_BYTES, "The status report");
    // The key is named by the statusUrl's callId; a dialer that posts to the
    // bare path names it in the body instead, read only to pick the key.
    const placed = await placedThrough(c.env, c.req.query("callId") ?? reportCallId(raw), "webhook");
    const now = webhookClock.now();
    if (!placed || !(await verifyWebhook(await verifyingSecrets(placed.agent, c.env.SECRETS_ENCRYPTION_KEY, now), c.req.raw.headers, raw, now))) {
      throw new ApiError("forbidden", REFUSED);
    }
    await apply(c.env, parseDialReport(raw, placed.call, maxDurationSec(c.env), now));
    return c.body(null, 204);
  });

  return app;
}

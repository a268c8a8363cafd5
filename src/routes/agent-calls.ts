import * as z from "zod";
import { newApp } from "../app-factory";
import { AgentResultSchema, RESULT_LIMITS } from "../domain/agent-result";
import { SENTIMENTS } from "../domain/vocabulary";
import { ApiError } from "../errors";
import { parseCallId } from "../lib/ids";
import { verifyWebhook } from "../lib/signing";
import { ErrorSchema, errorResponses } from "../schemas/common";
import { batchAgent, callContext, readResultBody, RESULT_BODY_MAX_BYTES, submitResult, type BatchAgent } from "../services/agent-results";
import { verifyingSecrets } from "../telephony/webhook";
import { webhookClock } from "./webhooks";

/** The call an agent names, in the path: `call_…` as the dial request or voiceUrl query gave it. */
const CallIdParam = z.object({
  callId: z
    .string()
    .max(100)
    .openapi({ param: { name: "callId", in: "path" }, example: "call_0190a1b2c3d4e5f60718293a_12" }),
});

/** Standard Webhooks headers, signed with the agent's signingSecret. */
const SignedHeaders = z.object({
  "webhook-id": z.string().openapi({ description: "a unique id for this request (any string; a retry may reuse it)" }),
  "webhook-timestamp": z.string().openapi({ description: "seconds since the epoch; refused when more than 5 minutes from the server's clock" }),
  "webhook-signature": z.string().openapi({
    description:
      "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` keyed with the agent's signingSecret (the bytes after `whsec_`, base64-decoded); " +
      "several space-separated signatures are accepted (one per key while you rotate)",
  }),
});

const SIGNING =
  "Signed the Standard Webhooks way with the signingSecret of the agent the call's batch was started with " +
  "(its current secret, or the one it replaced within the last 24 hours): headers webhook-id, webhook-timestamp and " +
  "webhook-signature = `v1,` + base64 HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`. Any Standard Webhooks library signs it. ";

/** A call's context, as an agent reads it. */
export const CallContextSchema = z
  .object({
    callId: z.string(),
    batchId: z.string(),
    batchName: z.string().nullable(),
    agentId: z.string(),
    attempt: z.number().int().describe("the call's current (latest) attempt, 1 for the first; 0 while it has not been dialled"),
    status: z.string().describe("waiting | active | completed | failed | cancelled"),
    to: z.string().describe("the number dialled, E.164"),
    from: z.string().nullable().describe("the number the attempt was placed from (the agent's fromNumber), or null"),
    variables: z
      .record(z.string(), z.string())
      .describe('the row\'s custom columns, plus first_name, last_name and email when the file has them; values verbatim (empty cells are "")'),
    timezone: z.string().nullable().describe("the row's timezone column, or null"),
  })
  .openapi("AgentCallContext");

/** The 200 of both result routes. */
export const ResultAnswerSchema = z
  .object({
    callId: z.string(),
    attempt: z.number().int(),
    recorded: z.literal(true),
    changed: z.boolean().describe("false when this report said nothing new for the attempt (a replay)"),
    callback: z
      .enum(["scheduled", "pending", "none", "ignored"])
      .describe(
        "what callbackAt did: `scheduled` — the next attempt is due at nextAttemptAt (moved into the calling window in the recipient's zone); " +
          "`pending` — it will be scheduled when this attempt's final status arrives; `ignored` — not scheduled (callbackNote says why: " +
          "the recipient opted out, a later attempt was already made, the batch was cancelled or failed, or the recipient's requested callbacks " +
          "(smartCallbackConfig.maxRequestedCallbacks) are used up); `none` — no callbackAt. A callback for a completed batch reopens it",
      ),
    nextAttemptAt: z.string().optional().describe("ISO 8601 UTC: when the requested callback will dial (callback: scheduled)"),
    callbackNote: z.string().optional().describe("why a callbackAt was not scheduled as asked"),
  })
  .openapi("AgentResultAnswer");

const L = RESULT_LIMITS;
/** What both result routes say about a result's body and its effects. */
/** The 200 and the 400 of both result routes. */
export const RESULT_ANSWERS = {
  200: { description: "Recorded (or already known: changed false)", content: { "application/json": { schema: ResultAnswerSchema } } },
  400: {
    description: "Not JSON, not an AgentResult, over a limit, outside the agent's resultSchema, or a bad callbackAt: `error` names the field and the limit",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

export const RESULT_RULES =
  `Body: AgentResult. Limits: summary ${L.summaryBytes / 1024} KiB (UTF-8), data at most ${L.dataFields} fields (names up to ${L.fieldNameChars} characters, ` +
  `values up to ${L.dataValueBytes / 1024} KiB), disposition up to ${L.dispositionChars} characters, transcript at most ${L.transcriptTurns} turns and ` +
  `${L.transcriptBytes / 1024} KiB (kept in object storage, linked from the call, not in the call row), recordingUrl an https URL under the URL policy, ` +
  `sentiment one of ${SENTIMENTS.join(", ")}; the whole body at most ${RESULT_BODY_MAX_BYTES / 1024 / 1024} MiB (413 otherwise, before anything is checked). ` +
  "When the batch's agent declared a resultSchema (as it was when the batch was created), a disposition or data field outside it is a 400 naming what is allowed. " +
  `callbackAt (ISO 8601 with a zone, in the future, at most ${L.callbackMaxDays} days ahead) asks for the next attempt then: it is moved into the batch's ` +
  "calling window in the recipient's time zone, at most smartCallbackConfig.maxRequestedCallbacks times per recipient (default 2), and the call waits " +
  'with outcome "callback_requested"; `callback` in the answer says what became of it. optOut: true puts the number on the workspace\'s do-not-call list ' +
  "(with this call as its source) and cancels its waiting calls in every live batch. " +
  "A result may arrive before or after the attempt's final status. Reports for one attempt merge (a field a report gives replaces the earlier " +
  "value, data merges by field name, fields it leaves out are kept, an opt-out is never withdrawn), and a replay changes nothing " +
  "(changed: false, no second callback, opt-out or call.result webhook). " +
  "An attempt the call has not reached is a 409.";

/** The one refusal for a request we will not serve: bad signature, unknown call and another agent's call look the same. */
const REFUSED = "The webhook signature does not match this request.";
const refused = () => new ApiError("forbidden", REFUSED);
const refusedResponse = {
  403: {
    description: "Not signed with the secret of the agent the call's batch was started with (or a stale timestamp, or no such call); nothing read or changed",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

async function verifies(env: Env, agent: BatchAgent, headers: Headers, body: string, now: number): Promise<boolean> {
  return verifyWebhook(await verifyingSecrets(agent.keys, env.SECRETS_ENCRYPTION_KEY, now), headers, body, now);
}

/**
 * The call `callId` names and its batch's agent, when the request is signed
 * with that agent's secret; else the one 403. The agent comes from the
 * isolate's cache; a signature that fails against a cached entry is checked
 * once more against D1 (the secret may have just been rotated).
 */
async function signedCall(env: Env, callId: string, headers: Headers, body: string, now: number): Promise<{ agent: BatchAgent; seq: number }> {
  const parsed = parseCallId(callId);
  const signed = headers.has("webhook-id") && headers.has("webhook-timestamp") && headers.has("webhook-signature");
  if (parsed && signed) {
    const first = await batchAgent(env, parsed.batchId, now);
    if (first.agent && (await verifies(env, first.agent, headers, body, now))) return { agent: first.agent, seq: parsed.seq };
    if (first.agent && first.fromCache) {
      const { agent } = await batchAgent(env, parsed.batchId, now, { fresh: true });
      if (agent && (await verifies(env, agent, headers, body, now))) return { agent, seq: parsed.seq };
    }
  }
  throw refused();
}

/**
 * The agent's side of a call: what it reads about the call it is on, and
 * where it reports what the call achieved. Every request is signed by the
 * agent; nothing is read or changed for one that is not.
 */
export function agentCallRoutes() {
  const app = newApp();

  // Registered for the document only: the handlers check the signature before they read anything.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/calls/{callId}",
    tags: ["Agent side of a call"],
    summary: "The call an agent is on: who it is talking to and the row's variables (ext)",
    description:
      SIGNING +
      "For a GET the body is empty, so the signature is over `{webhook-id}.{webhook-timestamp}.`. " +
      "A `twilio` agent's voiceUrl is requested with callId and attempt in its query; this is where that agent reads the rest. " +
      "Works for every provider. A bad or missing signature, another agent's secret and an unknown call all get the same 403.",
    request: { params: CallIdParam, headers: SignedHeaders },
    responses: {
      200: { description: "The call's context", content: { "application/json": { schema: CallContextSchema } } },
      ...refusedResponse,
    },
  });
  app.get("/calls/:callId", async (c) => {
    const callId = c.req.param("callId");
    const now = webhookClock.now();
    const { agent, seq } = await signedCall(c.env, callId, c.req.raw.headers, "", now);
    const context = await callContext(c.env, agent, seq, callId);
    if (!context) throw refused();
    return c.json(context, 200);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/calls/{callId}/result",
    tags: ["Agent side of a call"],
    summary: "Report what a call achieved: disposition, summary, data, transcript, callback, opt-out (ext)",
    description:
      "The route every agent reports its results to — a `twilio` agent's voice app, a `webhook` agent's dialer, any other. " +
      SIGNING +
      "The signature is over the raw body as sent. A bad or missing signature, another agent's secret and an unknown call all get the same 403. " +
      RESULT_RULES +
      " A customer backend relaying another platform's post-call webhook can use POST /v1/api/batch-calls/{batchId}/calls/{callId}/result with the API key instead.",
    request: {
      params: CallIdParam,
      headers: SignedHeaders,
      body: { required: true, content: { "application/json": { schema: AgentResultSchema } } },
    },
    responses: {
      ...RESULT_ANSWERS,
      ...refusedResponse,
      409: {
        description: "The call has not reached this attempt (`error` says how many it has made)",
        content: { "application/json": { schema: ErrorSchema } },
      },
      413: {
        description: `The body is over ${RESULT_BODY_MAX_BYTES / 1024 / 1024} MiB; refused before the signature is checked, nothing changed`,
        content: { "application/json": { schema: ErrorSchema } },
      },
      ...errorResponses(415, 500),
    },
  });
  app.post("/calls/:callId/result", async (c) => {
    const raw = await readResultBody(c.env, c.req.raw);
    const callId = c.req.param("callId");
    const now = webhookClock.now();
    const { agent, seq } = await signedCall(c.env, callId, c.req.raw.headers, raw, now);
    const target = { batchId: agent.batchId, seq, callId, unknownCall: refused };
    const answer = await submitResult(c.env, target, raw, "agent", now);
    return c.json(answer, 200);
  });

  return app;
}

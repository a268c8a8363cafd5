import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { CALL_OUTCOMES, CALL_STATUSES, SENTIMENTS } from "../domain/vocabulary";

/** The /calls `status` filter: one status, or every call. */
export const CallFilterSchema = z.enum(["all", ...CALL_STATUSES]);
export type CallFilter = z.infer<typeof CallFilterSchema>;

/**
 * Why a waiting call is held past its time, in the order the engine meets
 * them: the workspace's contact policy, the agent's numbers (all resting,
 * or each at its daily limit), the recipient's calling window.
 */
export const WAIT_REASONS = ["contact_policy", "no_enabled_number", "number_daily_limit", "calling_window"] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

const WaitReasonSchema = z
  .enum(WAIT_REASONS)
  .nullable()
  .describe(
    "(ext) Why a waiting call is held until nextAttemptAt; null when it is not waiting or nothing holds it. " +
      "contact_policy: another attempt to this recipient's number now would break the workspace's contactPolicy " +
      "(its maxAttempts or minGapMinutes, counted across all of the workspace's batches). " +
      "no_enabled_number: every number of the agent's pool is disabled (PATCH …/agents/{agentId}/numbers/{e164} enabled:true resumes it). " +
      "number_daily_limit: every number the agent could call this recipient from has made its callerId.perNumber.maxCallsPerDay. " +
      "calling_window: the recipient's calling window is closed (its hours, days, blackout dates or country override). " +
      "The call is never failed for any of these: it is dialled when the reason passes.",
  );

/** The recipient's numbers, in the order attempts go through them. */
const PhoneNumbersSchema = z
  .array(z.string())
  .describe(
    "(ext) Every number of the recipient in E.164, in the order attempts go through them: phone_number, then the row's " +
      "phone_number_2 … phone_number_5 (each once). [phone_number] when the row had no other number.",
  );

/** A value of an agent's extracted data field. */
const DataValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** What the call's agent reported about the conversation: the result of its latest attempt that has one. */
export const CallResultSchema = z
  .object({
    attempt: z.number().int().describe("the attempt this result is about"),
    disposition: z.string().nullable().describe("the agent's label for what the call achieved"),
    summary: z.string().nullable(),
    sentiment: z.enum(SENTIMENTS).nullable(),
    data: z.record(z.string(), DataValueSchema).describe("the fields the agent extracted, by name"),
    transcriptUrl: z
      .string()
      .nullable()
      .describe("path of the transcript (GET …/calls/{callId}/transcript?attempt=n, same API key), or null when the agent sent none"),
    recordingUrl: z.string().nullable(),
    callbackAt: z.string().nullable().describe("ISO 8601: when the person asked to be called back"),
    optOut: z.boolean().describe("the person asked never to be called again"),
    receivedAt: z.string().describe("ISO 8601: when the first report of this result arrived"),
  })
  .openapi("CallResult");
export type CallResultView = z.infer<typeof CallResultSchema>;

/** One call of a batch: a /calls item, a `recent_calls` entry and the data of a `call` event (the last two with a metadata excerpt). */
export const CallSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(CALL_STATUSES),
    phone_number: z.string().describe("E.164"),
    phoneNumbers: PhoneNumbersSchema,
    startTime: z.number().nullable().describe("epoch ms"),
    endTime: z.number().nullable().describe("epoch ms"),
    duration: z.number().nullable().describe("seconds"),
    error: z.string().nullable(),
    metadata: z
      .record(z.string(), z.string())
      .describe(
        "The row's CSV columns by name, verbatim. On /calls every column, unless the page's 1 MiB budget ran out (then metadataTruncated); " +
          "in recent_calls and `call` events an excerpt: the file's first 10 columns, names and values cut to 100 characters with …",
      ),
    attempts: z.number().int().describe("(ext) dial attempts made"),
    outcome: z
      .string()
      .nullable()
      .describe(
        `(ext) ${CALL_OUTCOMES.join(", ")}: the last attempt's outcome, or callback_requested while an attempt the person asked for on a call waits (nextAttemptAt)`,
      ),
    nextAttemptAt: z
      .string()
      .nullable()
      .describe("(ext) ISO 8601: when the next attempt is due — a callback, a retry, or the time a held call (waitReason) may be dialled"),
    waitReason: WaitReasonSchema,
    metadataTruncated: z
      .boolean()
      .optional()
      .describe(
        "(ext) Present, and true, when `metadata` is not the whole row: an excerpt (columns left out or cut), or `{}`. " +
          "Read the call with a smaller `limit` (limit=1, page=n gives call n alone a whole 1 MiB), GET …/calls/{callId}, or results.csv, which always has every column.",
      ),
    result: CallResultSchema.nullable().describe("(ext) the agent's result, or null while none was reported"),
    resultTruncated: z
      .boolean()
      .optional()
      .describe(
        "(ext) Present, and true, when `result` is not whole. On /calls: the page's 1 MiB budget left it without its summary and data " +
          "(`summary: null`, `data: {}`). In recent_calls and `call` events it is an excerpt: the summary and string data values cut to 100 characters with …, " +
          "the first 10 data fields. GET …/calls/{callId} has it whole.",
      ),
  })
  .openapi("Call");
export type CallView = z.infer<typeof CallSchema>;

/** One attempt of a call, finished or (the last, while the call is active) under way. */
export const CallAttemptSchema = z
  .object({
    attempt: z.number().int(),
    from: z
      .string()
      .nullable()
      .describe("the caller ID the attempt used: the number the agent's pool chose for it (else the agent's fromNumber); null when not known"),
    to: z.string().describe("(ext) the recipient's number this attempt called (one of phoneNumbers)"),
    startTime: z.number().nullable().describe("epoch ms"),
    endTime: z.number().nullable().describe("epoch ms; null while the attempt is under way"),
    outcome: z.string().nullable().describe("answered, voicemail, no_answer, busy, failed, canceled; null while under way"),
    duration: z.number().nullable().describe("seconds"),
    error: z.string().nullable(),
  })
  .openapi("CallAttempt");
export type CallAttemptView = z.infer<typeof CallAttemptSchema>;

/** GET …/calls/{callId}: the call with every column, each attempt, and its result. */
export const CallDetailSchema = CallSchema.extend({
  attemptHistory: z.array(CallAttemptSchema).describe("every attempt in order, the one under way last"),
}).openapi("CallDetail");
export type CallDetailView = z.infer<typeof CallDetailSchema>;

/** A transcript turn as the agent reported it. */
const TranscriptTurnSchema = z.object({ role: z.enum(["agent", "user"]), text: z.string(), at: z.union([z.string(), z.number()]).optional() });

/** One line of results.jsonl: one recipient, whole. */
export const ResultsJsonlLineSchema = z
  .object({
    callId: z.string(),
    status: z.enum(CALL_STATUSES),
    outcome: z.string().nullable(),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    phone_number: z.string().describe("as the file had it"),
    e164: z.string().describe("phone_number in E.164 (each attempt's `to` is the number it called)"),
    phoneNumbers: PhoneNumbersSchema,
    waitReason: WaitReasonSchema,
    metadata: z.record(z.string(), z.string()).describe("every column of the row by name"),
    attemptHistory: z.array(CallAttemptSchema),
    result: CallResultSchema.extend({
      transcript: z.array(TranscriptTurnSchema).nullable().describe("the transcript's turns inline, or null when there is none"),
    }).nullable(),
  })
  .openapi("ResultsJsonlLine");
export type ResultsJsonlLine = z.infer<typeof ResultsJsonlLineSchema>;

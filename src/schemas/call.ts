import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

/** A call's lifecycle, as the API reports it and the ledger stores it. */
export const CALL_STATUSES = ["waiting", "active", "completed", "failed", "cancelled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** The /calls `status` filter: one status, or every call. */
export const CallFilterSchema = z.enum(["all", ...CALL_STATUSES]);
export type CallFilter = z.infer<typeof CallFilterSchema>;

/** One call of a batch: a /calls item, a `recent_calls` entry and the data of a `call` event. */
export const CallSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(CALL_STATUSES),
    phone_number: z.string().describe("E.164"),
    startTime: z.number().nullable().describe("epoch ms"),
    endTime: z.number().nullable().describe("epoch ms"),
    duration: z.number().nullable().describe("seconds"),
    error: z.string().nullable(),
    metadata: z.record(z.string(), z.string()).describe("every CSV column of the row, verbatim"),
    attempts: z.number().int().describe("(ext) dial attempts made"),
    outcome: z.string().nullable().describe("(ext) answered, voicemail, no_answer, busy, failed, canceled"),
    nextAttemptAt: z.string().nullable().describe("(ext) when the next callback attempt is due"),
  })
  .openapi("Call");
export type CallView = z.infer<typeof CallSchema>;

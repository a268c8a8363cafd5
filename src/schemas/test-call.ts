import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { MAX_TEST_CALLS } from "../domain/test-call";
import { CallResultSchema } from "./call";

/** POST …/{batchId}/test-call: whom to call, and whose variables the agent gets. */
export const TestCallRequestSchema = z
  .strictObject({
    to: z
      .string()
      .min(1, "must be a phone number")
      .max(64)
      .describe("the number to call, your own: E.164 (+14155550100), or national, read with the batch's defaultCountry")
      .openapi({ example: "+14155550100" }),
    row: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .optional()
      .describe(
        "which of the batch's rows the agent gets the variables of: 1 = the first data row (the batch's first call), 2 the second, … — " +
          "counted over the calls the batch holds, so rows dropped at upload (duplicates, invalid, do-not-call) are not counted. Default 1",
      ),
  })
  .openapi("TestCallRequest");
export type TestCallRequest = z.infer<typeof TestCallRequestSchema>;

export const TEST_CALL_STATUSES = ["active", "completed", "failed", "cancelled"] as const;

/** One test call: a single attempt outside the batch's counters, shown as a call is. */
export const TestCallSchema = z
  .object({
    callId: z.string().describe("call_<batch hex>_<900000000 + n>: status webhooks and the result routes take it like any callId"),
    batchId: z.string(),
    test: z.literal(true).describe("always true: a test call, never counted in the batch"),
    row: z.number().int().describe("the row whose variables the agent got (1 = the first)"),
    to: z.string().describe("E.164: the number called"),
    from: z.string().nullable().describe("the caller ID: the first enabled number of the agent's pool, else its fromNumber; null when it has neither"),
    variables: z.record(z.string(), z.string()).describe("the variables the call was dialled with: the row's columns other than its numbers and timezone"),
    status: z
      .enum(TEST_CALL_STATUSES)
      .describe("active until the provider's final report (or its lease runs out: failed); then completed, failed or cancelled"),
    outcome: z.string().nullable().describe("answered, voicemail, no_answer, busy, failed, canceled; null while active"),
    startTime: z.number().describe("epoch ms: when it was placed"),
    endTime: z.number().nullable().describe("epoch ms; null while active"),
    duration: z.number().nullable().describe("seconds"),
    error: z.string().nullable().describe("why it did not connect, as a sentence; null otherwise"),
    result: CallResultSchema.nullable().describe("the agent's result (as a call shows it), or null while none was reported"),
  })
  .openapi("TestCall");
export type TestCallView = z.infer<typeof TestCallSchema>;

export const TestCallListSchema = z.object({ testCalls: z.array(TestCallSchema).describe(`newest first; at most ${MAX_TEST_CALLS}`) }).openapi("TestCallList");

import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { CALL_STATUSES } from "../domain/vocabulary";

/** The /calls `status` filter: one status, or every call. */
export const CallFilterSchema = z.enum(["all", ...CALL_STATUSES]);
export type CallFilter = z.infer<typeof CallFilterSchema>;

/** One call of a batch: a /calls item, a `recent_calls` entry and the data of a `call` event (the last two with a metadata excerpt). */
export const CallSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(CALL_STATUSES),
    phone_number: z.string().describe("E.164"),
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
    outcome: z.string().nullable().describe("(ext) answered, voicemail, no_answer, busy, failed, canceled"),
    nextAttemptAt: z.string().nullable().describe("(ext) when the next callback attempt is due"),
    metadataTruncated: z
      .boolean()
      .optional()
      .describe(
        "(ext) Present, and true, when `metadata` is not the whole row: an excerpt (columns left out or cut), or `{}`. " +
          "Read the call with a smaller `limit` (limit=1, page=n gives call n alone a whole 1 MiB) or read results.csv, which always has every column.",
      ),
  })
  .openapi("Call");
export type CallView = z.infer<typeof CallSchema>;

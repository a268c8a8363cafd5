import { PAUSED_REASONS, StopRulesSchema } from "../domain/stop-rules";
import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { BatchFormFieldsSchema } from "../domain/batch-options";
import { HISTORY_MIN_ATTEMPTS, type Estimate } from "../domain/budget";
import type { RowError } from "../domain/csv";
import { BATCH_STATUSES, CALL_OUTCOMES } from "../domain/vocabulary";
import { CallFilterSchema, CallSchema } from "./call";
import { PaginationQuerySchema, PaginationSchema } from "./common";

const BatchStatusEnum = z.enum(BATCH_STATUSES);

export const BatchIdParam = z.object({ batchId: z.string().openapi({ param: { name: "batchId", in: "path" }, example: "batch_0190a1b2c3d4e5f60718293a" }) });

// RowError is the CSV scanner's own type, kept free of zod so the scan runs anywhere; `satisfies` keeps the two in step.
const RowErrorSchema = z.object({
  row: z.number().int().describe("1-based line number in the file"),
  column: z.string().nullable(),
  value: z.string().nullable(),
  message: z.string(),
}) satisfies z.ZodType<RowError>;

const range = (unit: string) => z.object({ low: z.number(), high: z.number() }).describe(unit);

/** How many minutes a batch will bill, as a range: a dry run's, and a draft's view. */
export const EstimateSchema = z
  .object({
    calls: z.number().int().describe("the calls the estimate is for: those the batch will make (duplicates, do-not-call rows and invalid rows left out)"),
    attemptsPerCall: range("attempts each call is expected to take (the first and its callbacks)"),
    minutesPerAttempt: range(
      "billed minutes each attempt is expected to use (its duration rounded up to whole minutes; an attempt that never connects bills 0)",
    ),
    minutes: range("billed minutes in all: calls × attemptsPerCall × minutesPerAttempt, the low ends multiplied (rounded down) and the high ends (rounded up)"),
    basis: z
      .enum(["agent_history", "default"])
      .describe(
        `agent_history: the rates come from the agent's recent batches (its last 20 with finished attempts); default: the agent has under ${HISTORY_MIN_ATTEMPTS} ` +
          "finished attempts there, so attemptsPerCall is 1 to the smartCallbackConfig's maxAttempts (1 without smart callbacks) and minutesPerAttempt 1–3",
      ),
    basedOnAttempts: z.number().int().describe("the finished attempts in the agent's recent batches the rates rest on"),
    note: z.string().describe("what the estimate rests on, in a sentence a person can read"),
  })
  .openapi("BatchEstimate") satisfies z.ZodType<Estimate>;

/** POST /batch-calls: the form, documented here and parsed by startBatch (the body is size-checked before it is read). */
export const UploadSchema = BatchFormFieldsSchema.extend({
  file: z.string().openapi({ type: "string", format: "binary", description: "CSV, at most 20 MiB (20,971,520 bytes)" }),
}).openapi("StartBatchForm");

export const StartBatchResponseSchema = z
  .object({
    batchId: z.string().nullable().describe("null for a dry run"),
    totalCalls: z.number().int().describe("calls that will actually be made"),
    status: z.enum(["queued", "draft", "dry_run"]).describe("draft: uploaded with start=false, nothing dialled until POST …/start"),
    message: z.string(),
    scheduledAt: z.string().nullable(),
    duplicatesRemoved: z.number().int(),
    suppressed: z.number().int().describe("rows on the workspace's do-not-call list"),
    invalidRows: z.number().int(),
    details: z.array(RowErrorSchema).optional().describe("(ext) the first 100 invalid rows when some were skipped"),
    estimate: EstimateSchema.optional().describe("(ext) dry run only: the billed minutes the batch would use, as a range (set maxMinutes from it)"),
  })
  .openapi("StartBatchResponse");
export type StartBatchResponse = z.infer<typeof StartBatchResponseSchema>;

/** The /status body; also the data of the event stream's `snapshot` and `progress` events. */
export const StatusBodySchema = z
  .object({
    status: BatchStatusEnum,
    isComplete: z.boolean(),
    waiting: z.number().int(),
    active: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    total: z.number().int(),
    startTime: z.number().nullable().describe("epoch ms of the first dial"),
    lastCompletedTime: z.number().nullable().describe("epoch ms"),
    completedTime: z.number().nullable().describe("epoch ms when the batch finished"),
    averageCallDuration: z.number().describe("seconds, over calls that connected"),
    recent_calls: z.array(CallSchema).describe("the 10 calls that ended last, each with a metadata excerpt (see Call.metadata)"),
    cancelled: z.number().int().describe("(ext)"),
    paused: z.boolean().describe("(ext)"),
    pausedReason: z
      .enum(PAUSED_REASONS)
      .nullable()
      .describe(
        "(ext) why a paused batch is paused: manual (POST …/pause), failure_rate or voicemail_rate (its stopRules: the share of carrier failures or of " +
          "voicemail over its last `window` finished attempts went above the threshold; a batch.paused webhook says so). Resume continues the batch and " +
          "the rules judge a fresh window from then. budget: its billedMinutes reached maxMinutes (a batch.paused webhook says so too); resume is a 409 " +
          "until PATCH raises maxMinutes above billedMinutes or clears it. null unless paused.",
      ),
    maxMinutes: z.number().int().nullable().describe("(ext) the batch's budget in billed minutes (upload field or PATCH maxMinutes), or null for none"),
    billedMinutes: z
      .number()
      .int()
      .describe("(ext) billed minutes so far: each finished attempt's duration rounded up to whole minutes (0 for one that never connected), summed"),
    outcomes: z
      .object(Object.fromEntries(CALL_OUTCOMES.map((o) => [o, z.number().int()])) as Record<(typeof CALL_OUTCOMES)[number], z.ZodNumber>)
      .describe(
        "(ext) calls by their current outcome (a call counts once, under its latest attempt's outcome, or callback_requested while a callback the person asked for waits); " +
          "calls not yet dialled count under none. Kept as counters on every change.",
      ),
    dispositions: z
      .record(z.string(), z.number().int())
      .describe(
        "(ext) calls by the latest disposition their agent reported, label → count, kept as counters on every change. " +
          "At most the 100 largest labels (ties by label); labels with no call are left out. The order of the keys carries no meaning.",
      ),
  })
  .openapi("BatchStatus");
export type StatusBody = z.infer<typeof StatusBodySchema>;

export const BatchSchema = z
  .object({
    id: z.string(),
    status: BatchStatusEnum,
    isComplete: z.boolean(),
    totalCalls: z.number().int(),
    progress: StatusBodySchema,
    timestamp: z.number().describe("epoch ms of this response"),
    name: z.string().nullable(),
    fileName: z.string().nullable().describe("(ext) the uploaded file's name as the client sent it (without a path); null when the file part had no filename"),
    agentId: z.string(),
    scheduledAt: z.string().nullable(),
    smartCallbackConfig: z.unknown().nullable(),
    callingWindow: z.unknown().nullable(),
    maxConcurrentCalls: z
      .number()
      .int()
      .nullable()
      .describe("(ext) the batch's own cap on calls in progress at once (under the workspace's), or null: the workspace's limit alone"),
    stopRules: StopRulesSchema.nullable().describe("(ext) the batch's stop rules as sent at upload (window defaulted), or null"),
    preDial: z
      .object({ url: z.string(), onError: z.enum(["skip", "dial"]) })
      .nullable()
      .describe("(ext) the pre-dial check asked before each dial (preDialUrl, preDialOnError), or null"),
    maxMinutes: z
      .number()
      .int()
      .nullable()
      .describe("(ext) the budget in billed minutes: a running batch pauses itself (pausedReason budget) when billedMinutes reach it; null: none"),
    billedMinutes: z.number().int().describe("(ext) billed minutes so far (as in progress.billedMinutes)"),
    estimate: EstimateSchema.nullable().describe(
      "(ext) a draft's estimate of the billed minutes it will use, with the per-call rates as of its upload or last edit and the calls it has now; null unless a draft",
    ),
    createdAt: z.string(),
  })
  .openapi("Batch");
export type BatchView = z.infer<typeof BatchSchema>;

export const BatchListSchema = z.object({ batches: z.array(BatchSchema), pagination: PaginationSchema });

export const CallPageQuerySchema = PaginationQuerySchema.extend({
  status: CallFilterSchema.default("all"),
  disposition: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe("(ext) only calls whose latest disposition is this label (exact, case-sensitive); combine with status=all only"),
  after: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(
      "(ext) a cursor: the `nextCursor` of the previous page, for the calls after it in file order (same status or disposition and the same batch as that page; " +
        "another is a 400). Each page then costs the same however deep it is. Leave `page` out (or 1) when you give it.",
    ),
});

export const CallPageSchema = z.object({
  calls: z.array(CallSchema),
  pagination: PaginationSchema,
  summary: z.object({ total: z.number(), waiting: z.number(), active: z.number(), completed: z.number(), failed: z.number() }),
  nextCursor: z
    .string()
    .nullable()
    .describe(
      "(ext) pass it as `after` for the page after this one (the calls after this page's last, with the same filter); null on the last page. " +
        "Opaque: a position in this batch's listing, not a page number, so calls that change status while you walk are neither repeated nor skipped by it " +
        "in the unfiltered list. Given in page mode too, so a client can switch to cursors at any page.",
    ),
});
export type CallPage = z.infer<typeof CallPageSchema>;

export const CancelResponseSchema = z.object({
  batchId: z.string(),
  status: z.literal("cancelled"),
  message: z.string(),
  details: z.object({ completedCalls: z.number(), failedCalls: z.number(), cancelledCalls: z.number(), totalCalls: z.number() }),
});
export type CancelResponse = z.infer<typeof CancelResponseSchema>;

/** Pause and resume answer with the batch's new state. */
export const ControlResponseSchema = z.object({ batchId: z.string(), status: BatchStatusEnum, message: z.string() });
export type ControlResponse = z.infer<typeof ControlResponseSchema>;

export const RetryResponseSchema = ControlResponseSchema.extend({ requeued: z.number().int() });
export type RetryResponse = z.infer<typeof RetryResponseSchema>;

/** GET /batch-calls/{batchId}/events: a text/event-stream, described by example. */
export const BatchEventStreamSchema = z.string().openapi({ example: 'id: 12\nevent: progress\ndata: {"status":"processing",...}\n\n' });

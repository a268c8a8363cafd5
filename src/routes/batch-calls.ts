import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { listBatches, type BatchRow } from "../db/batch.repo";
import { toCallView } from "../db/call.repo";
import { EXPORT_PAGE_ROWS } from "../engine-config";
import { csvLine, RESULT_COLUMNS } from "../domain/results-csv";
import { callId } from "../lib/ids";
import { BatchFormFieldsSchema } from "../domain/batch-options";
import { apiKeySecurity, errorResponses, pagination, PaginationQuerySchema, PaginationSchema, workspaceHeaders } from "../schemas/common";
import { cancelBatch, pauseBatch, requireBatch, resumeBatch, retryBatch } from "../services/batch-control";
import { ApiError } from "../errors";
import { startBatch } from "../services/batch-intake";
import { statusBody, type BatchCounters } from "../views/batch-status";

const RowErrorSchema = z.object({
  row: z.number().int().describe("1-based line number in the file"),
  column: z.string().nullable(),
  value: z.string().nullable(),
  message: z.string(),
});

export const StartBatchResponseSchema = z
  .object({
    batchId: z.string().nullable().describe("null for a dry run"),
    totalCalls: z.number().int().describe("calls that will actually be made"),
    status: z.enum(["queued", "dry_run"]),
    message: z.string(),
    scheduledAt: z.string().nullable(),
    duplicatesRemoved: z.number().int(),
    suppressed: z.number().int().describe("rows on the workspace's do-not-call list"),
    invalidRows: z.number().int(),
    details: z.array(RowErrorSchema).optional().describe("(ext) the first 100 invalid rows when some were skipped"),
  })
  .openapi("StartBatchResponse");

const UploadSchema = BatchFormFieldsSchema.extend({
  file: z.string().openapi({ type: "string", format: "binary", description: "CSV, at most 20 MiB (20,971,520 bytes)" }),
}).openapi("StartBatchForm");

const CallSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(["waiting", "active", "completed", "failed", "cancelled"]),
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

const BatchStatusSchema = z
  .object({
    status: z.enum(["queued", "processing", "paused", "completed", "cancelled", "failed"]),
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
    recent_calls: z.array(CallSchema),
    cancelled: z.number().int().describe("(ext)"),
    paused: z.boolean().describe("(ext)"),
  })
  .openapi("BatchStatus");

const BatchSchema = z
  .object({
    id: z.string(),
    status: BatchStatusSchema.shape.status,
    isComplete: z.boolean(),
    totalCalls: z.number().int(),
    progress: BatchStatusSchema,
    timestamp: z.number().describe("epoch ms of this response"),
    name: z.string().nullable(),
    agentId: z.string(),
    scheduledAt: z.string().nullable(),
    smartCallbackConfig: z.unknown().nullable(),
    callingWindow: z.unknown().nullable(),
    createdAt: z.string(),
  })
  .openapi("Batch");

const BatchIdParam = z.object({ batchId: z.string().openapi({ param: { name: "batchId", in: "path" }, example: "batch_0190a1b2c3d4e5f60718293a" }) });


/** A D1 row read as counters (its status is never 'preparing' once visible). */
const summaryOf = (b: BatchRow) => b as BatchRow & BatchCounters;

/** Progress from the batch's object, or the D1 summary if the object has no ledger. */
async function liveStatus(env: Env, b: BatchRow) {
  const columns = JSON.parse(b.columns) as string[];
  const live = await env.BATCH_SCHEDULER.getByName(b.id).progress(10);
  return live ? statusBody(b.id, live, columns, live.recent) : statusBody(b.id, summaryOf(b), columns, []);
}

function batchView(b: BatchRow, progress: ReturnType<typeof statusBody>) {
  return {
    id: b.id,
    status: progress.status,
    isComplete: progress.isComplete,
    totalCalls: b.total_calls,
    progress,
    timestamp: Date.now(),
    name: b.name,
    agentId: b.agent_id,
    scheduledAt: b.scheduled_at,
    smartCallbackConfig: b.smart_callback_config ? (JSON.parse(b.smart_callback_config) as unknown) : null,
    callingWindow: b.calling_window ? (JSON.parse(b.calling_window) as unknown) : null,
    createdAt: b.created_at,
  };
}

export function batchCallRoutes() {
  const app = newApp();

  // Documented here, parsed by startBatch: the body must be size-checked
  // before it is buffered, so no validator may read it first.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/batch-calls",
    tags: ["Batches"],
    summary: "Start a batch from a CSV",
    description:
      "CSV rules: the first row is the header (names trimmed, lower-cased, spaces/hyphens → _); phone_number is required and normalised to E.164; " +
      "first_name, last_name, email and timezone are known columns; every other column becomes a dynamic variable. " +
      "Invalid rows fail the upload (400 with details) unless onInvalidRows=skip. Duplicated numbers are called once; " +
      "numbers on the do-not-call list are suppressed. A file that leaves nothing to call is a 400. " +
      "Spreadsheet dialects: the delimiter is detected from the header (`,` `;` tab `|`; commas win ties), an Excel `sep=X` first line is honoured " +
      "(row numbers stay the file's lines), and empty trailing header columns are dropped with their empty cells. " +
      "Limits: 64 KiB per cell, 128 KiB per row (UTF-8 bytes); a row over them is an invalid row (400 naming line and column with onInvalidRows=reject, " +
      "left out with skip, the same verdict in a dry run). A `file` part without a filename is still the file. " +
      "scheduledAt must exist on the calendar and be at most 365 days ahead. " +
      "Idempotency-Key: same key and same fields + file bytes within 24 h returns the first 201; a different payload is 422; " +
      "a request still running with that key is 409; a request that failed frees its key, and one whose Worker died holds it for at most 5 minutes (a lease). " +
      "The body limit is 20 MiB for the file plus 64 KiB for the multipart framing and fields.",
    security: apiKeySecurity,
    request: {
      headers: workspaceHeaders.extend({ "idempotency-key": z.string().max(255).optional() }),
      body: { required: true, content: { "multipart/form-data": { schema: UploadSchema } } },
    },
    responses: {
      201: { description: "Accepted and stored", content: { "application/json": { schema: StartBatchResponseSchema } } },
      200: { description: "dryRun=true: what would happen; nothing created", content: { "application/json": { schema: StartBatchResponseSchema } } },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 500),
    },
  });
  app.post("/batch-calls", async (c) => {
    const result = await startBatch(c.env, { workspaceId: c.get("workspaceId"), requestId: c.get("requestId") }, c.req.raw);
    return c.json(result.body, result.status);
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls",
      tags: ["Batches"],
      summary: "List the workspace's batches, newest first (ext)",
      description:
        "Each batch's progress here is the summary its scheduler keeps in the database: the status is current, the counters are at most about a second behind. " +
        "GET /batch-calls/{batchId} and /status read the batch's own ledger and are exact.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, query: PaginationQuerySchema },
      responses: {
        200: {
          description: "A page of batches",
          content: { "application/json": { schema: z.object({ batches: z.array(BatchSchema), pagination: PaginationSchema }) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      const { rows, total } = await listBatches(c.env.DB, c.get("workspaceId"), limit, (page - 1) * limit);
      // One D1 query: each row is the summary its batch's object keeps current.
      const batches = rows.map((b) => batchView(b, statusBody(b.id, summaryOf(b), JSON.parse(b.columns) as string[], [])));
      return c.json({ batches, pagination: pagination(page, limit, total) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}",
      tags: ["Batches"],
      summary: "Get a batch",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: { 200: { description: "The batch", content: { "application/json": { schema: BatchSchema } } }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      return c.json(batchView(b, await liveStatus(c.env, b)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/status",
      tags: ["Batches"],
      summary: "Progress counters of a batch",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "Progress", content: { "application/json": { schema: BatchStatusSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      return c.json(await liveStatus(c.env, b), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/events",
      tags: ["Batches"],
      summary: "Live progress of a batch as Server-Sent Events (ext)",
      description:
        "A `text/event-stream`. On connect one `snapshot` event whose data is the /status body; then, as things change and coalesced to at most " +
        "4 updates a second: `call` (data: a /calls item, for up to 50 changed calls per update — beyond that, refresh your page of calls), " +
        "`batch` (data: {status}) when the batch's status changes, and `progress` (data: the /status body, `id:` the ledger version). " +
        "A comment line `: heartbeat` every 15 s. The stream ends after the batch is final and its last `progress` is sent; a batch already " +
        "final gets its snapshot and one progress, then the end. Send the usual x-api-key and x-workspace-id headers (EventSource cannot: " +
        "read it with fetch). A client that reconnects (Last-Event-ID is accepted) gets a fresh snapshot, which is all it needs.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: {
          description: "The event stream",
          content: { "text/event-stream": { schema: z.string().openapi({ example: 'id: 12\nevent: progress\ndata: {"status":"processing",...}\n\n' }) } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      // The batch's object sees every transition and holds the stream; the Worker only checked who may read it.
      const res = await c.env.BATCH_SCHEDULER.getByName(b.id).fetch("https://batch-scheduler/events");
      if (res.status === 404) throw new ApiError("batch_not_found", `Batch ${b.id} does not exist in this workspace.`);
      return res;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/calls",
      tags: ["Batches"],
      summary: "The calls of a batch, in file order",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        params: BatchIdParam,
        query: PaginationQuerySchema.extend({
          status: z.enum(["all", "waiting", "active", "completed", "failed", "cancelled"]).default("all"),
        }),
      },
      responses: {
        200: {
          description: "A page of calls",
          content: {
            "application/json": {
              schema: z.object({
                calls: z.array(CallSchema),
                pagination: PaginationSchema,
                summary: z.object({ total: z.number(), waiting: z.number(), active: z.number(), completed: z.number(), failed: z.number() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { page, limit, status } = c.req.valid("query");
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      const found = await c.env.BATCH_SCHEDULER.getByName(b.id).listCalls(status === "all" ? null : status, limit, (page - 1) * limit);
      const counts: BatchCounters = found?.batch ?? summaryOf(b);
      const total = {
        all: counts.total_calls,
        waiting: counts.waiting_count,
        active: counts.active_count,
        completed: counts.completed_count,
        failed: counts.failed_count,
        cancelled: counts.cancelled_count,
      }[status];
      const columns = JSON.parse(b.columns) as string[];
      return c.json(
        {
          calls: (found?.rows ?? []).map((r) => toCallView(b.id, r, columns)),
          pagination: pagination(page, limit, total),
          summary: { total: counts.total_calls, waiting: counts.waiting_count, active: counts.active_count, completed: counts.completed_count, failed: counts.failed_count },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/batch-calls/{batchId}",
      tags: ["Batches"],
      summary: "Cancel a batch",
      description: "Waiting calls are cancelled at once, calls in progress finish, nothing new is dialled after the response. Cancelling twice answers the same way; a completed batch is 409.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: {
          description: "Cancelled",
          content: {
            "application/json": {
              schema: z.object({
                batchId: z.string(),
                status: z.literal("cancelled"),
                message: z.string(),
                details: z.object({ completedCalls: z.number(), failedCalls: z.number(), cancelledCalls: z.number(), totalCalls: z.number() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await cancelBatch(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
  );

  const ControlSchema = z.object({ batchId: z.string(), status: BatchStatusSchema.shape.status, message: z.string() });
  for (const [action, summary, run] of [
    ["pause", "Pause a batch (ext): no new calls start; calls in progress finish. Pausing twice is harmless.", pauseBatch],
    ["resume", "Resume a paused batch (ext). A completed or cancelled batch is 409.", resumeBatch],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/batch-calls/{batchId}/${action}`,
        tags: ["Batches"],
        summary,
        security: apiKeySecurity,
        request: { headers: workspaceHeaders, params: BatchIdParam },
        responses: { 200: { description: "The batch's new state", content: { "application/json": { schema: ControlSchema } } }, ...errorResponses(400, 401, 403, 404, 409) },
      }),
      async (c) => c.json(await run(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
    );
  }

  app.openapi(
    createRoute({
      method: "post",
      path: "/batch-calls/{batchId}/retry",
      tags: ["Batches"],
      summary: "Start a new pass over calls that ended no_answer, busy or failed (ext)",
      description: "Only for a completed batch (409 otherwise). Each re-queued call gets the batch's full smart-callback budget again; attempts keep counting.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "How many calls were re-queued", content: { "application/json": { schema: ControlSchema.extend({ requeued: z.number().int() }) } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await retryBatch(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/results.csv",
      tags: ["Batches"],
      summary: "Results as CSV (ext): one row per recipient, the file's columns plus the call's result",
      description:
        "Columns: the upload's own (normalised names, original values), then " +
        RESULT_COLUMNS.join(", ") +
        ". e164 is the number as dialled (the file's own phone_number column stays as it was sent). Times are ISO 8601 UTC, duration in seconds. Cells starting with = + - @, tab or CR get a leading apostrophe " +
        "(spreadsheet formula injection), except a + followed only by digits. Streamed, in file order.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "text/csv", content: { "text/csv": { schema: z.string() } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      const columns = JSON.parse(b.columns) as string[];
      const scheduler = c.env.BATCH_SCHEDULER.getByName(b.id);
      const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());
      const enc = new TextEncoder();
      let after = -1;
      let headerSent = false;
      // Pulled a page at a time, so a 200k-row batch never sits in memory at once.
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          if (!headerSent) {
            headerSent = true;
            ctl.enqueue(enc.encode(csvLine([...columns, ...RESULT_COLUMNS])));
            return;
          }
          const rows = await scheduler.callsAfter(after, EXPORT_PAGE_ROWS);
          if (rows.length === 0) return ctl.close();
          after = rows.at(-1)!.seq;
          let chunk = "";
          for (const r of rows) {
            const values = JSON.parse(r.metadata) as string[];
            chunk += csvLine([
              ...columns.map((_, i) => values[i] ?? ""),
              r.phone_number,
              callId(b.id, r.seq),
              r.status,
              r.outcome,
              r.attempts,
              iso(r.start_time),
              iso(r.end_time),
              r.duration,
              r.error,
            ]);
          }
          ctl.enqueue(enc.encode(chunk));
        },
      });
      return c.body(body, 200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${b.id}-results.csv"` });
    },
  );

  return app;
}

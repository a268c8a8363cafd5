import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { idempotencyKey, replayedHeader, withIdempotency } from "../middleware/idempotency";
import { listBatches } from "../db/batch.repo";
import {
  BatchEventStreamSchema,
  BatchIdParam,
  BatchListSchema,
  BatchSchema,
  CancelResponseSchema,
  ControlResponseSchema,
  RetryResponseSchema,
  StartBatchResponseSchema,
  StatusBodySchema,
  UploadSchema,
} from "../schemas/batch";
import { apiKeySecurity, errorResponses, pagination, PaginationQuerySchema, workspaceHeaders } from "../schemas/common";
import { batchNotFound, cancelBatch, pauseBatch, requireBatch, resumeBatch, retryBatch, startDraft } from "../services/batch-control";
import { batchOptionsOf, startBatch } from "../services/batch-intake";
import { DEV_DRAIN_MAX_BYTES } from "../lib/body";
import { batchView, liveStatus, summaryStatus } from "../views/batch";
import { batchResultRoutes } from "./batch-results";
import { readUploadForm, uploadHash } from "./upload-form";

export function batchCallRoutes() {
  const app = newApp();

  // Documented here, decoded by the handler: the body must be size-checked
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
      "Limits: 200 columns (empty trailing header columns not counted; a header with more is a 400 giving the count), 64 KiB per cell, " +
      "128 KiB per row (UTF-8 bytes); a row over them is an invalid row (400 naming line and column with onInvalidRows=reject, " +
      "left out with skip, the same verdict in a dry run). The file must be UTF-8 (UTF-16, with or without its BOM, is a 400 saying so). " +
      "Invisible characters in phone_number (zero-width, bidirectional marks) are ignored and not stored or echoed. With onInvalidRows=reject, " +
      'once 100 invalid rows are in details, rows only a costly check could judge are no longer judged and the message says "At least N" ' +
      "(invalidRows is then that N); a dry run and skip count every row. A `file` part without a filename is still the file. " +
      "scheduledAt must exist on the calendar and be at most 365 days ahead. " +
      "Idempotency-Key: same key and same fields + file bytes within 24 h returns the first 201 with the header Idempotent-Replayed: true; a different payload is 422; " +
      "a request still running with that key is 409; a request that failed frees its key, and one whose Worker died holds it for at most 5 minutes (a lease). " +
      "The body limit is 20 MiB for the file plus 64 KiB for the multipart framing and fields.",
    security: apiKeySecurity,
    request: {
      headers: workspaceHeaders.extend({ "idempotency-key": z.string().max(255).optional() }),
      body: { required: true, content: { "multipart/form-data": { schema: UploadSchema } } },
    },
    responses: {
      201: { description: "Accepted and stored", headers: replayedHeader, content: { "application/json": { schema: StartBatchResponseSchema } } },
      200: {
        description: "dryRun=true: what would happen; nothing created",
        headers: replayedHeader,
        content: { "application/json": { schema: StartBatchResponseSchema } },
      },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 500),
    },
  });
  app.post("/batch-calls", async (c) => {
    const upload = await readUploadForm(c.req.raw, { drainOverLimit: c.env.ENVIRONMENT === "development", drainMaxBytes: DEV_DRAIN_MAX_BYTES });
    // The fields' 400s come before the key's, and before the key is claimed.
    const options = batchOptionsOf(upload.fields);
    const ctx = { workspaceId: c.get("workspaceId"), requestId: c.get("requestId") };
    const key = { workspaceId: ctx.workspaceId, key: idempotencyKey(c.req.raw), payloadHash: () => uploadHash(upload) };
    const result = await withIdempotency(c.env.DB, key, (hold) => startBatch(c.env, ctx, upload.file, options, hold));
    // Only a replay says so (as Stripe does): the client can tell a repeat from a first answer.
    if (result.replayed) c.header("Idempotent-Replayed", "true");
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
          content: { "application/json": { schema: BatchListSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      const { rows, total } = await listBatches(c.env.DB, c.get("workspaceId"), limit, (page - 1) * limit);
      // One D1 query: each row is the summary its batch's object keeps current.
      const batches = rows.map((b) => batchView(b, summaryStatus(b)));
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
      description:
        "recent_calls holds the 10 calls that ended last, each with a metadata excerpt (the file's first 10 columns, names and values cut to 100 characters " +
        "with …, marked metadataTruncated when anything was left out or cut), so the body stays small however wide the file; /calls has every column. " +
        "outcomes counts calls by their current outcome and dispositions by the latest label their agent reported (the 100 largest labels), " +
        "both kept as counters on every change, never by reading the calls; the event stream's snapshot and progress carry the same.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "Progress", content: { "application/json": { schema: StatusBodySchema } } },
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
        "4 updates a second (a batch with more than 25 subscribers gets one update every 10 ms × subscribers, at most every 2 s: 1 a second for 100): " +
        "`call` (data: a /calls item with a metadata excerpt as in recent_calls, for up to 50 changed calls per update, or 1,000 ÷ subscribers " +
        "when more than 20 are connected — beyond that none are sent: refresh your page of calls), " +
        "`batch` (data: {status}) when the batch's status changes, and `progress` (data: the /status body, `id:` the ledger version). " +
        "A comment line `: heartbeat` every 15 s. The stream ends after the batch is final and its last `progress` is sent; a batch already " +
        "final gets its snapshot and one progress, then the end. Send the usual x-api-key and x-workspace-id headers (EventSource cannot: " +
        "read it with fetch). A client that reconnects (Last-Event-ID is accepted) gets a fresh snapshot, which is all it needs.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "The event stream", content: { "text/event-stream": { schema: BatchEventStreamSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      // The batch's object sees every transition and holds the stream; the Worker only checked who may read it.
      const res = await c.env.BATCH_SCHEDULER.getByName(b.id).fetch("https://batch-scheduler/events");
      if (res.status === 404) throw batchNotFound(b.id);
      return res;
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/batch-calls/{batchId}",
      tags: ["Batches"],
      summary: "Cancel a batch",
      description:
        "Waiting calls are cancelled at once, calls in progress finish, nothing new is dialled after the response. Cancelling twice answers the same way; a completed batch is 409. A draft is cancelled with nothing dialled.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "Cancelled", content: { "application/json": { schema: CancelResponseSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await cancelBatch(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/batch-calls/{batchId}/start",
      tags: ["Batches"],
      summary: "Start a draft: at its scheduledAt if that is still ahead, else now",
      description:
        "A batch uploaded with start=false is a draft: validated, stored and counted (totalCalls, duplicatesRemoved, suppressed), nothing dialled. " +
        "Start sends it on: `queued` until its scheduledAt while that is still ahead, else `processing` at once; batch.started is sent when it really starts. " +
        "Only a draft can be started: any other status is a 409 naming it, so a start repeated after its answer was lost is a 409 saying the batch is " +
        "queued or processing (the first start worked). A draft can also be cancelled (DELETE, nothing dialled); pause, resume and retry of a draft are 409.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "The batch's new state: queued or processing", content: { "application/json": { schema: ControlResponseSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await startDraft(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
  );

  for (const [action, summary, run] of [
    ["pause", "Pause a batch (ext): no new calls start; calls in progress finish. Pausing twice is harmless.", pauseBatch],
    ["resume", "Resume a paused batch (ext). 409 if completed or cancelled, or if its billedMinutes reached maxMinutes (PATCH it first).", resumeBatch],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/batch-calls/{batchId}/${action}`,
        tags: ["Batches"],
        summary,
        security: apiKeySecurity,
        request: { headers: workspaceHeaders, params: BatchIdParam },
        responses: {
          200: { description: "The batch's new state", content: { "application/json": { schema: ControlResponseSchema } } },
          ...errorResponses(400, 401, 403, 404, 409),
        },
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
        200: { description: "How many calls were re-queued", content: { "application/json": { schema: RetryResponseSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await retryBatch(c.env, c.get("workspaceId"), c.req.valid("param").batchId, c.get("requestId")), 200),
  );

  // One call whole, its transcript, results.csv and results.jsonl.
  app.route("/", batchResultRoutes());

  return app;
}

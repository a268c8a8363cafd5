import * as z from "zod";
import { newApp } from "../app-factory";
import { ApiError } from "../errors";
import { DEV_DRAIN_MAX_BYTES } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { idempotencyKey, replayedHeader, withIdempotency } from "../middleware/idempotency";
import { BatchIdParam } from "../schemas/batch";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { AppendRowsResponseSchema, appendRows, appendTarget } from "../services/batch-append";
import { readUploadForm, uploadHash } from "./upload-form";

const AppendRowsFormSchema = z
  .object({
    file: z.string().openapi({
      type: "string",
      format: "binary",
      description: "CSV, at most 20 MiB (20,971,520 bytes): the same rules as an upload's file, and a header naming the batch's columns (in any order)",
    }),
  })
  .openapi("AppendRowsForm");

/** POST /batch-calls/{batchId}/rows: more rows for a batch that has not finished. */
export function batchRowRoutes() {
  const app = newApp();

  // Documented here, decoded by the handler: the body must be size-checked before it is buffered, so no validator may read it first.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/batch-calls/{batchId}/rows",
    tags: ["Batches"],
    summary: "Append rows to a batch that has not finished (ext)",
    description:
      "Adds the rows of a CSV to a draft, queued, processing or paused batch (409 naming those states for a completed, cancelled or failed one). " +
      "The file is read as an upload's is (the same dialects, limits and row rules, and the batch's defaultCountry) and every row must be valid: " +
      "an invalid row is a 400 with its line in this file (details lists up to 100) and nothing is added. " +
      "The header must name exactly the batch's columns, in any order: a 400 names the missing and the extra ones. " +
      "An empty file, or a header with no data rows, is a 400. A row whose phone number the batch already has (a call of any status, " +
      "or one of a recipient's other numbers from phone_number_2 … phone_number_5), or that an earlier row of this file gave, is a duplicate and is not added; " +
      "a row all of whose numbers are on the workspace's do-not-call list is not added either. An append that adds nothing (all duplicates) is still a 201. " +
      "The new calls follow the batch's others in file order; a processing batch dials them without further action, a paused one when it resumes, " +
      "a draft or queued one when it starts. totalCalls grows by `added` in every view of the batch (GET, /status, /calls and the list). " +
      "The only form field is `file` (the batch's settings change with PATCH). " +
      "Idempotency-Key: the same key with the same file for the same batch within 24 h returns the first 201 with Idempotent-Replayed: true and adds nothing; " +
      "the same key with another file or batch is 422; a request still running with that key is 409.",
    security: apiKeySecurity,
    request: {
      headers: workspaceHeaders.extend({ "idempotency-key": z.string().max(255).optional() }),
      params: BatchIdParam,
      body: { required: true, content: { "multipart/form-data": { schema: AppendRowsFormSchema } } },
    },
    responses: {
      201: {
        description: "Appended: how many rows were added and left out, and the batch's calls now",
        headers: replayedHeader,
        content: { "application/json": { schema: AppendRowsResponseSchema } },
      },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
    },
  });
  app.post("/batch-calls/:batchId/rows", async (c) => {
    const upload = await readUploadForm(c.req.raw, { drainOverLimit: c.env.ENVIRONMENT === "development", drainMaxBytes: DEV_DRAIN_MAX_BYTES });
    const extra = Object.keys(upload.fields);
    if (extra.length > 0) {
      throw new ApiError(
        "validation_failed",
        `Send only the file field: ${extra.slice(0, 5).join(", ")} ${extra.length === 1 ? "is" : "are"} not taken here (change a batch's settings with PATCH /v1/api/batch-calls/{batchId}).`,
      );
    }
    const ctx = { workspaceId: c.get("workspaceId"), requestId: c.get("requestId") };
    const batch = await appendTarget(c.env, ctx.workspaceId, c.req.param("batchId"));
    // Bound to this batch and the file's bytes: the same key for another batch or file is a 422, not another batch's answer.
    let hashing: Promise<string> | undefined;
    const payloadHash = () => (hashing ??= uploadHash(upload).then((file) => sha256Hex(`rows:${batch.id}:${file}`)));
    const key = idempotencyKey(c.req.raw);
    const result = await withIdempotency(c.env.DB, { workspaceId: ctx.workspaceId, key, payloadHash }, async () => ({
      status: 201 as const,
      body: await appendRows(c.env, ctx, batch, upload.file, key ? { key, payloadHash } : null),
    }));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result.body, result.status);
  });

  return app;
}

import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import type { BatchRow } from "../db/batch.repo";
import { AGENT_RESULT_COLUMNS, RESULT_COLUMNS } from "../domain/results-csv";
import type { CallDetail } from "../durable/batch/contract";
import { ApiError } from "../errors";
import { parseCallId } from "../lib/ids";
import { issuesText } from "../lib/issues";
import { BatchIdParam } from "../schemas/batch";
import { CallDetailSchema, ResultsJsonlLineSchema } from "../schemas/call";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { requireBatch } from "../services/batch-control";
import { MAX_ATTEMPT } from "../telephony/status-report";
import { columnsOf } from "../views/batch";
import { attemptHistory, toCallView } from "../views/call";
import { resultsCsvStream } from "../views/results-csv";
import { resultsJsonlStream, TRANSCRIPT_READS, transcriptTurns } from "../views/results-jsonl";

// What a batch's calls achieved, read back: one call whole, its
// transcript, and the two exports that walk the whole batch page by page.

const CallParams = BatchIdParam.extend({
  callId: z
    .string()
    .max(100)
    .openapi({ param: { name: "callId", in: "path" }, example: "call_0190a1b2c3d4e5f60718293a_12" }),
});

const TranscriptQuery = z.object({
  attempt: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ATTEMPT)
    .optional()
    .openapi({ description: "the attempt whose transcript to read; by default the attempt of the call's result" }),
});

/** A transcript as the Worker stores it. */
const TranscriptSchema = z
  .object({
    callId: z.string(),
    attempt: z.number().int(),
    turns: z.array(z.object({ role: z.enum(["agent", "user"]), text: z.string(), at: z.union([z.string(), z.number()]).optional() })),
  })
  .openapi("Transcript");

const notFound = (callId: string, batchId: string) => new ApiError("not_found", `Call ${callId} does not exist in batch ${batchId}.`);

/** The caller's batch and one of its calls, whole; 404 for a batch of another workspace or a call id of another batch. */
async function findCall(env: Env, workspaceId: string, batchId: string, id: string): Promise<{ b: BatchRow; seq: number; detail: CallDetail }> {
  const b = await requireBatch(env.DB, workspaceId, batchId);
  const call = parseCallId(id);
  if (!call || call.batchId !== b.id) throw notFound(id, batchId);
  const detail = await env.BATCH_SCHEDULER.getByName(b.id).callDetail(call.seq);
  if (!detail) throw notFound(id, batchId);
  return { b, seq: call.seq, detail };
}

/** A stored transcript's turns, or null when the object is gone or is not one. */
async function readTranscript(bucket: R2Bucket, key: string): Promise<unknown[] | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  try {
    return transcriptTurns(await object.json());
  } catch {
    return null;
  }
}

const CSV_HEADER_RULE =
  "Columns: the upload's own (normalised names, original values), then " +
  [...RESULT_COLUMNS, ...AGENT_RESULT_COLUMNS].join(", ") +
  ", then one `data.<name>` column per data field: the agent's declared fields in order, then names seen in reports in first-seen order (at most 200; " +
  "a field first reported after the export started is in the next export). No header name is ever repeated: a service column whose name the file " +
  "already has (a file with its own e164, call_id, disposition or data.x column) is written with the smallest free suffix _2, _3… " +
  "(e164_2, call_id_2); the file's own columns keep their names. ";

export function batchResultRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/calls/{callId}",
      tags: ["Batches"],
      summary: "One call whole: every column, each attempt, and the agent's result (ext)",
      description:
        "The /calls item with every column of the row (never an excerpt), the agent's latest result whole (its transcript as a link: transcriptUrl), " +
        "and attemptHistory: each finished attempt (the caller ID it was placed from, `from`, and the recipient's number it called, `to`; start and end, " +
        "outcome, duration, error), then the attempt under way " +
        "while the call is active (endTime and outcome null). 404 for a batch of another workspace, or a callId of another batch.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: CallParams },
      responses: {
        200: { description: "The call", content: { "application/json": { schema: CallDetailSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { batchId, callId } = c.req.valid("param");
      const { b, detail } = await findCall(c.env, c.get("workspaceId"), batchId, callId);
      const call = toCallView(b.id, { ...detail.row, result: detail.result }, detail.columns);
      return c.json({ ...call, attemptHistory: attemptHistory(detail.row, detail.attempts) }, 200);
    },
  );

  // Documented here, answered with the stored object's bytes as they are: no typed JSON response to build.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/batch-calls/{batchId}/calls/{callId}/transcript",
    tags: ["Batches"],
    summary: "A call's transcript, as its agent reported it (ext)",
    description:
      '`{callId, attempt, turns: [{role: "agent"|"user", text, at?}]}`. By default the transcript of the attempt the call\'s result is about ' +
      "(result.transcriptUrl links here); `attempt` reads another attempt's. 404 with a sentence when that attempt has no transcript.",
    security: apiKeySecurity,
    request: { headers: workspaceHeaders, params: CallParams, query: TranscriptQuery },
    responses: {
      200: { description: "The transcript", content: { "application/json": { schema: TranscriptSchema } } },
      ...errorResponses(400, 401, 403, 404),
    },
  });
  app.get("/batch-calls/:batchId/calls/:callId/transcript", async (c) => {
    const query = TranscriptQuery.safeParse(c.req.query());
    if (!query.success) throw new ApiError("validation_failed", `The request is invalid: ${issuesText(query.error.issues)}.`, query.error.issues);
    const { batchId, callId } = c.req.param();
    const { detail } = await findCall(c.env, c.get("workspaceId"), batchId, callId);
    const attempt = query.data.attempt ?? detail.result?.attempt;
    if (attempt === undefined) throw new ApiError("not_found", `Call ${callId} has no transcript: its agent has not reported a result.`);
    const stored = detail.transcriptKeys[attempt];
    const object = stored ? await c.env.CSV_BUCKET.get(stored) : null;
    if (!object) throw new ApiError("not_found", `Call ${callId} has no transcript for attempt ${attempt}.`);
    return c.body(object.body, 200, { "content-type": "application/json; charset=utf-8" });
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/results.csv",
      tags: ["Batches"],
      summary: "Results as CSV (ext): one row per recipient, the file's columns plus the call's result",
      description:
        CSV_HEADER_RULE +
        "e164 is the number as dialled (the file's own phone_number column stays as it was sent). Times are ISO 8601 UTC, duration in seconds. " +
        "disposition is the recipient's latest; summary, sentiment, recording_url, transcript_url (a path on this API, read with the same key), " +
        "callback_requested_at and the data fields are from the latest attempt with a result; opted_out is true or false. " +
        "The last two columns, from_number and to_number, are the caller ID the call's latest attempt used and the number it called " +
        "(one of phone_number … phone_number_5); both are empty before a first attempt. " +
        "Spreadsheet formula injection: each line of a cell whose first visible character is = + - @ or a full-width ＝ ＋ － ＠ (after spaces, " +
        "control and invisible characters such as a zero-width space) gets a leading apostrophe, so does a cell starting with tab or CR; " +
        "a + followed only by digits (an E.164 number) is left as it is. Streamed, in file order.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "text/csv", content: { "text/csv": { schema: z.string() } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      const scheduler = c.env.BATCH_SCHEDULER.getByName(b.id);
      const body = resultsCsvStream(b.id, columnsOf(b), {
        rows: (after, limit, maxBytes) => scheduler.exportAfter(after, limit, maxBytes, false),
        fields: () => scheduler.resultFields(),
      });
      return c.body(body, 200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${b.id}-results.csv"` });
    },
  );

  // Documented here (the schema is one line's), streamed by the handler.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/batch-calls/{batchId}/results.jsonl",
    tags: ["Batches"],
    summary: "Results as JSON Lines (ext): one object per recipient, every attempt and the whole result, transcript included",
    description:
      "application/x-ndjson: one ResultsJsonlLine per line, in file order, each ending with a newline. metadata has every column of the row by name; " +
      "attemptHistory every attempt (as GET …/calls/{callId}); result the latest attempt's result with its transcript's turns inline (null when the " +
      `agent sent none). Streamed page by page as the client reads (transcripts read ${TRANSCRIPT_READS} at a time), so a batch of any size is never held whole.`,
    security: apiKeySecurity,
    request: { headers: workspaceHeaders, params: BatchIdParam },
    responses: {
      200: { description: "One JSON object per line", content: { "application/x-ndjson": { schema: ResultsJsonlLineSchema } } },
      ...errorResponses(400, 401, 403, 404),
    },
  });
  app.get("/batch-calls/:batchId/results.jsonl", async (c) => {
    const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.param("batchId"));
    const scheduler = c.env.BATCH_SCHEDULER.getByName(b.id);
    const body = resultsJsonlStream(b.id, columnsOf(b), {
      rows: (after, limit, maxBytes) => scheduler.exportAfter(after, limit, maxBytes, true),
      transcript: (key) => readTranscript(c.env.CSV_BUCKET, key),
    });
    const headers = { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="${b.id}-results.jsonl"` };
    return c.body(body, 200, headers);
  });

  return app;
}

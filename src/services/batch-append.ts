import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { type BatchRow, markControl } from "../db/batch.repo";
import { hasAnyDnc } from "../db/dnc.repo";
import { BATCH_STATUSES } from "../domain/vocabulary";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/crypto";
import { randomHex } from "../lib/ids";
import { log } from "../lib/log";
import { batchNotFound } from "./batch-control";
import { csvError, invalidRowsText, scanFile, type ScannedFile } from "./intake-scan";

export const AppendRowsResponseSchema = z
  .object({
    batchId: z.string(),
    added: z.number().int().describe("calls added to the batch: they are dialled after its other first attempts, in file order"),
    duplicates: z
      .number()
      .int()
      .describe(
        "rows not added because their phone number is already in the batch (a call of any status, any of a recipient's numbers), " +
          "or on an earlier row of this file",
      ),
    suppressed: z.number().int().describe("rows not added because every number they give is on the workspace's do-not-call list"),
    totalCalls: z.number().int().describe("the batch's calls now, these included (GET …/{batchId} and …/status show the same)"),
    status: z
      .enum(BATCH_STATUSES)
      .describe("the batch's status (appending does not change it): draft, queued, processing or paused, unless this answer is an earlier append's, replayed"),
  })
  .openapi("AppendRowsResponse");
export type AppendRowsResponse = z.infer<typeof AppendRowsResponseSchema>;

type Ctx = { workspaceId: string; requestId: string };

/** The request's Idempotency-Key and what it is bound to (the batch, and the file's bytes); null without a key. */
export type AppendKey = { key: string; payloadHash: () => Promise<string> } | null;

/**
 * The batch the caller may append to, marked as sent a control request
 * (as pause and resume mark it): if the object's own summary write fails
 * after it added the calls, the cron's next visit copies its counters to D1.
 */
export async function appendTarget(env: Env, workspaceId: string, batchId: string): Promise<BatchRow> {
  const batch = await markControl(env.DB, workspaceId, batchId, Date.now());
  if (!batch) throw batchNotFound(batchId);
  return batch;
}

/**
 * POST /v1/api/batch-calls/{batchId}/rows once the route has read the
 * form: the upload's scan and do-not-call check (the same dialects,
 * limits and row errors; any invalid row refuses the file), the header
 * checked against the batch's columns, the file stored beside the batch's
 * own, and the batch's object told to add its rows (it leaves out the
 * numbers it already holds and decides under its own status). The append's
 * key names the stored file and the append in the object: with an
 * Idempotency-Key, a retry after a crash stores the same file under the
 * same name and the object, having seen the key, adds nothing again.
 */
export async function appendRows(env: Env, ctx: Ctx, batch: BatchRow, file: File, idempotency: AppendKey): Promise<AppendRowsResponse> {
  const dncWorkspace = (await hasAnyDnc(env.DB, ctx.workspaceId)) ? ctx.workspaceId : null;
  const scanned = await scanFile(env, file, batch.default_country, dncWorkspace, true);
  checkFile(batch, scanned);
  const key = idempotency ? (await sha256Hex(`${idempotency.key}\n${await idempotency.payloadHash()}`)).slice(0, 32) : randomHex(16);
  const fileKey = `${batch.csv_key}.rows-${key}`;
  await env.CSV_BUCKET.put(fileKey, file, {
    httpMetadata: { contentType: "text/csv" },
    customMetadata: { workspaceId: ctx.workspaceId, batchId: batch.id, fileName: file.name.slice(0, 200) },
  });
  const r = await env.BATCH_SCHEDULER.getByName(batch.id).append({ key, fileKey, suppressed: scanned.suppressed });
  if (!r.ok) {
    // Refused before a row was added: the stored file is no one's.
    await env.CSV_BUCKET.delete(fileKey).catch((err) => log("warn", "batch.append_file_left", { batchId: batch.id, fileKey, error: String(err) }));
    if (r.status === "gone") throw batchNotFound(batch.id);
    throw notAppendable(batch.id, r.status);
  }
  log("info", "batch.append_answered", {
    requestId: ctx.requestId,
    workspaceId: ctx.workspaceId,
    batchId: batch.id,
    added: r.added,
    replayed: r.replayed,
    bytes: file.size,
  });
  return {
    batchId: batch.id,
    added: r.added,
    duplicates: scanned.summary.duplicatesRemoved + r.duplicates,
    suppressed: r.suppressed,
    totalCalls: r.totalCalls,
    status: r.status,
  };
}

/** The 409 for a batch that has finished (or has failed): no row may join it. */
export function notAppendable(batchId: string, status: string): ApiError {
  return new ApiError(
    "invalid_transition",
    `Rows cannot be appended to batch ${batchId}: rows can be appended while a batch is draft, queued, processing or paused; this batch is ${status}. ` +
      "Upload the file as a new batch instead.",
  );
}

/** The 400s of an appended file: a header that is not the batch's, no data rows, or any invalid row (the append is all or nothing). */
function checkFile(batch: BatchRow, scanned: ScannedFile): void {
  const s = scanned.summary;
  const columns = JSON.parse(batch.columns) as string[];
  const missing = columns.filter((name) => !s.columns.includes(name));
  const extra = s.columns.filter((name) => !columns.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [
      missing.length > 0 ? `it lacks ${quoted(missing)}` : null,
      extra.length > 0 ? `it has ${quoted(extra)}, which the batch does not` : null,
    ].filter((p) => p !== null);
    throw csvError(`The file's header must name the batch's columns, in any order: ${problems.join(", and ")}. The batch's columns are ${quoted(columns)}.`);
  }
  if (s.dataRows === 0) throw csvError("The CSV has a header but no data rows.");
  if (s.invalidRows > 0) throw csvError(`${invalidRowsText(s, "so no row was added")} Fix them and send the file again.`, s);
}

function quoted(names: string[]): string {
  const shown = names.slice(0, 10).map((n) => `"${n.length > 40 ? `${n.slice(0, 40)}…` : n}"`);
  return names.length > 10 ? `${shown.join(", ")} and ${names.length - 10} more` : shown.join(", ");
}

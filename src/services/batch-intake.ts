import { getAgent } from "../db/agent.repo";
import { discardPreparingBatch, insertPreparingBatch, publishBatch, staleBatches } from "../db/batch.repo";
import { dncSeqsInSlice, hasAnyDnc } from "../db/dnc.repo";
import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_LEASE_MS, releaseIdempotencyKey, type IdempotencyHold } from "../db/idempotency.repo";
import { readWorkspace } from "../db/workspace.repo";
import { BatchFormFieldsSchema, isoUtc, MAX_BODY_BYTES, MAX_FILE_BYTES, parseBatchOptions, type BatchOptions } from "../domain/batch-options";
import { scanCsv, type CsvSummary, type SliceSink } from "../domain/csv";
import { ABANDONED_UPLOAD_MS } from "../engine-config";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { issuesText } from "../lib/issues";
import { killPoint } from "../lib/fault";
import { log } from "../lib/log";
import type { StartBatchResponse } from "../schemas/batch";

type Ctx = { workspaceId: string; requestId: string };

const MIB = 1024 * 1024;

const BOUNDARY_MISSING =
  "The Content-Type header says multipart/form-data but has no boundary parameter, so the parts cannot be found. " +
  "Don't set Content-Type yourself: let the HTTP library set it with its boundary (curl -F, Python requests files=, " +
  "fetch or axios with a FormData body and no Content-Type header).";

/** Refuses a body that is not multipart/form-data with a usable boundary, naming the mistake. */
function checkContentType(type: string): void {
  const [media = "", ...params] = type.split(";").map((p) => p.trim());
  if (media.toLowerCase() !== "multipart/form-data") {
    throw new ApiError("unsupported_media_type", "Send the batch as multipart/form-data with the CSV in a field named file.");
  }
  const boundary = params
    .find((p) => /^boundary\s*=/i.test(p))
    ?.replace(/^boundary\s*=\s*/i, "")
    .replace(/^"(.*)"$/, "$1");
  if (!boundary) throw new ApiError("multipart_boundary_missing", BOUNDARY_MISSING);
}

/**
 * In local development an over-limit body without Content-Length is read to
 * its end (discarding the excess) before the 413, up to this many bytes in
 * all — Cloudflare's own cap on a request body for most plans.
 */
export const DEV_DRAIN_MAX_BYTES = 100 * MIB;

/**
 * Reads the multipart body without ever buffering more than the limit allows.
 *
 * `drainOverLimit` (local development only): under `wrangler dev` every request
 * reaches the Worker through wrangler's proxy Worker, and a body that the Worker
 * read part-way and then cancelled or abandoned breaks that proxy's connection:
 * the next request fails with 503 "worker restarted mid-request" (workerd#1741;
 * a body never touched, or read to its end, does not). So there the rest of an
 * over-limit body is drained before answering. In production the read stops at
 * the limit: nothing past it is worth receiving.
 */
async function readForm(req: Request, { drainOverLimit }: { drainOverLimit: boolean }): Promise<FormData> {
  checkContentType(req.headers.get("content-type") ?? "");
  const tooLarge = () => new ApiError("payload_too_large", `The upload is over ${MAX_FILE_BYTES / MIB} MiB; split the CSV into smaller files.`);
  const length = req.headers.get("content-length");
  if (length !== null && Number(length) > MAX_BODY_BYTES) throw tooLarge();

  let body = req.body;
  let exceeded = false;
  if (length === null && body) {
    // No declared length: count bytes as they arrive and stop at the limit.
    let seen = 0;
    body = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          seen += chunk.byteLength;
          if (seen <= MAX_BODY_BYTES) return ctl.enqueue(chunk);
          exceeded = true;
          // Erroring here cancels the request body; draining drops the chunk and reads on.
          if (!drainOverLimit || seen > DEV_DRAIN_MAX_BYTES) ctl.error(new Error("body over limit"));
        },
        flush(ctl) {
          if (exceeded) ctl.error(new Error("body over limit"));
        },
      }),
    );
  }
  try {
    return await new Request(req.url, { method: "POST", headers: req.headers, body }).formData();
  } catch {
    if (exceeded) throw tooLarge();
    throw new ApiError("bad_request", "The body is not valid multipart/form-data.");
  }
}

/**
 * The `file` part as a File. A part sent without a filename (curl -F 'file=<x.csv',
 * form.append('file', buffer)) arrives as a string: it is the same CSV, so it
 * becomes a File of its UTF-8 bytes — byte for byte what was sent, unless the
 * bytes were not UTF-8, which the form parser has already replaced with U+FFFD.
 */
function fileOf(part: File | string | null): File {
  if (part instanceof File) return part;
  if (part === null) throw new ApiError("missing_file", "Attach the CSV as a file in the form field named file.");
  if (part.includes("\uFFFD")) {
    throw new ApiError(
      "csv_invalid",
      "The file part has no filename and is not valid UTF-8 text. Save the CSV as UTF-8, or send it as a file with a filename (curl -F 'file=@people.csv').",
    );
  }
  return new File([part], "upload.csv", { type: "text/csv" });
}

async function payloadHash(fields: Record<string, string>, file: File): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await file.stream().pipeTo(digest);
  const fileHash = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const sorted = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k]]);
  return sha256Hex(JSON.stringify({ fields: sorted, file: fileHash, size: file.size }));
}

function csvError(message: string, summary?: CsvSummary): ApiError {
  return new ApiError("csv_invalid", message, summary?.errors, summary ? { invalidRows: summary.invalidRows } : undefined);
}

/** The contract's 400s for a scanned file, or null when the batch may go ahead. */
function checkSummary(summary: CsvSummary, opts: BatchOptions, totalCalls: number): ApiError | null {
  if (summary.dataRows === 0) return csvError("The CSV has a header but no data rows.");
  if (opts.onInvalidRows === "reject" && summary.invalidRows > 0) {
    const first = summary.errors[0];
    const where = first ? ` The first is on line ${first.row}${first.column ? ` (${first.column})` : ""}: ${first.message}.` : "";
    // Past the reported rows a reject-mode scan skips the costly checks: its count is then a floor.
    const count = summary.invalidRowsIsLowerBound
      ? `At least ${summary.invalidRows} row(s) are invalid (after the first ${summary.errors.length}, rows were only partly checked)`
      : `${summary.invalidRows} row(s) are invalid`;
    return csvError(`${count}, so nothing was created.${where} Fix them, or send onInvalidRows=skip to leave them out.`, summary);
  }
  if (totalCalls === 0) {
    return csvError(
      `No rows are left to call (${summary.invalidRows} invalid, ${summary.duplicatesRemoved} duplicate, the rest on the do-not-call list).`,
      summary,
    );
  }
  return null;
}

/**
 * POST /v1/api/batch-calls: validate everything, then create the batch so
 * that it appears whole or not at all. A 'preparing' row that no read path
 * shows comes first; the CSV goes to R2 while every row is checked; the
 * batch's object is armed (it materialises the calls from the stored file)
 * and only then is the batch published. Any failure before that undoes all three.
 */
export async function startBatch(env: Env, ctx: Ctx, req: Request): Promise<{ status: 200 | 201; body: StartBatchResponse }> {
  const form = await readForm(req, { drainOverLimit: env.ENVIRONMENT === "development" });
  const file = fileOf(form.get("file"));
  if (file.size > MAX_FILE_BYTES) {
    throw new ApiError("payload_too_large", `The file is ${(file.size / MIB).toFixed(1)} MiB; the limit is ${MAX_FILE_BYTES / MIB} MiB.`);
  }

  const fields: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === "string" && k !== "file") fields[k] = v;
  if (!fields.agentId?.trim()) throw new ApiError("missing_agent_id", "Send agentId: the agent that should make these calls.");
  const parsedFields = BatchFormFieldsSchema.safeParse(fields);
  if (!parsedFields.success) {
    throw new ApiError("validation_failed", issuesText(parsedFields.error.issues));
  }
  const options = parseBatchOptions(parsedFields.data, new Date());
  if (!options.ok) throw new ApiError(options.error.code, options.error.message);
  const opts = options.value;

  const idemKey = req.headers.get("idempotency-key")?.trim();
  if (idemKey !== undefined && (idemKey.length === 0 || idemKey.length > 255)) {
    throw new ApiError("validation_failed", "Idempotency-Key must be 1 to 255 characters.");
  }
  let hold: IdempotencyHold | undefined;
  if (idemKey) {
    const claim = await claimIdempotencyKey(env.DB, ctx.workspaceId, idemKey, await payloadHash(fields, file), Date.now());
    if (claim.kind === "mismatch") {
      throw new ApiError("idempotency_mismatch", "This Idempotency-Key was already used with a different file or fields; use a new key.");
    }
    if (claim.kind === "in_progress") {
      throw new ApiError(
        "idempotency_conflict",
        `A request with this Idempotency-Key is still running; retry when it has finished (a request that died frees its key within ${IDEMPOTENCY_LEASE_MS / 60_000} minutes).`,
      );
    }
    if (claim.kind === "replay") return { status: claim.status as 201, body: JSON.parse(claim.body) as StartBatchResponse };
    hold = claim.hold;
  }

  try {
    const result = await createBatch(env, ctx, file, opts, hold);
    // A 201's key was completed with the publish itself; a dry run's 200 is recorded here.
    if (hold && result.status !== 201) await completeIdempotencyKey(env.DB, hold, result.status, JSON.stringify(result.body));
    return result;
  } catch (err) {
    if (hold) await releaseIdempotencyKey(env.DB, hold);
    throw err;
  }
}

async function createBatch(
  env: Env,
  ctx: Ctx,
  file: File,
  opts: BatchOptions,
  hold: IdempotencyHold | undefined,
): Promise<{ status: 200 | 201; body: StartBatchResponse }> {
  const agent = await getAgent(env.DB, ctx.workspaceId, opts.agentId);
  if (!agent) throw new ApiError("agent_not_found", `Agent ${opts.agentId} does not exist in this workspace.`);
  const workspace = await readWorkspace(env.DB, ctx.workspaceId, ["max_concurrent_calls"]);
  if (!workspace) throw new ApiError("unauthorized", "The workspace no longer exists.");
  if (opts.maxConcurrentCalls !== null && opts.maxConcurrentCalls > workspace.max_concurrent_calls) {
    throw new ApiError(
      "validation_failed",
      `maxConcurrentCalls is ${opts.maxConcurrentCalls}, above this workspace's limit of ${workspace.max_concurrent_calls}.`,
    );
  }
  const dncWorkspace = (await hasAnyDnc(env.DB, ctx.workspaceId)) ? ctx.workspaceId : null;
  const scheduledAt = opts.scheduledAt ? isoUtc(opts.scheduledAt) : null;
  const scanOpts = { defaultCountry: opts.defaultCountry, stopOnInvalid: opts.onInvalidRows === "reject" };

  if (opts.dryRun) {
    let suppressed = 0;
    const sink: SliceSink | null = dncWorkspace
      ? async (json) => {
          // Read the count first: `x += await …` would read x before the await and lose concurrent updates.
          const n = (await dncSeqsInSlice(env.DB, dncWorkspace, json)).length;
          suppressed += n;
        }
      : null;
    const scan = await scanCsv(file.stream(), { ...scanOpts, stopOnInvalid: false, withValues: false }, sink);
    if (!scan.ok) throw csvError(`The CSV cannot be read: ${scan.message}.`);
    const s = scan.summary;
    const totalCalls = s.validRows - suppressed;
    const problem = checkSummary(s, opts, totalCalls);
    if (problem) throw problem;
    return {
      status: 200,
      body: {
        batchId: null,
        totalCalls,
        status: "dry_run",
        message: "Dry run: the file is valid; nothing was created",
        scheduledAt,
        duplicatesRemoved: s.duplicatesRemoved,
        suppressed,
        invalidRows: s.invalidRows,
        details: s.errors,
      },
    };
  }

  const batchId = newId("batch");
  const csvKey = `workspaces/${ctx.workspaceId}/batches/${batchId}/input.csv`;
  const logFields = { requestId: ctx.requestId, workspaceId: ctx.workspaceId, batchId };
  let armed = false;
  let published: StartBatchResponse | null = null;
  await insertPreparingBatch(env.DB, {
    id: batchId,
    workspaceId: ctx.workspaceId,
    agentId: agent.id,
    name: opts.name,
    scheduledAt,
    smartCallbackConfig: opts.smartCallbackConfig,
    callingWindow: opts.callingWindow,
    maxConcurrentCalls: opts.maxConcurrentCalls,
    defaultCountry: opts.defaultCountry,
    columns: [],
    csvKey,
    createdAt: new Date().toISOString(),
  });

  // The raw file goes to R2 while the rows are checked: on the common path
  // they overlap; on any failure the rollback deletes it.
  const storing = env.CSV_BUCKET.put(csvKey, file, {
    httpMetadata: { contentType: "text/csv" },
    customMetadata: { workspaceId: ctx.workspaceId, batchId, fileName: file.name.slice(0, 200) },
  });
  storing.catch(() => undefined); // observed below; never an unhandled rejection
  const started = Date.now();
  try {
    // Every row is checked here; none is written. The batch's object
    // materialises the calls from the stored file, leaving out exactly the
    // rows found on the do-not-call list now.
    const suppressedSeqs: number[] = [];
    // Without a do-not-call list there is nothing to look up, so nothing to serialise.
    const scan = await scanCsv(
      file.stream(),
      { ...scanOpts, withValues: false },
      dncWorkspace
        ? async (json) => {
            suppressedSeqs.push(...(await dncSeqsInSlice(env.DB, dncWorkspace, json)));
          }
        : null,
    );
    if (!scan.ok) throw csvError(`The CSV cannot be read: ${scan.message}.`);
    const s = scan.summary;
    const totalCalls = s.validRows - suppressedSeqs.length;
    const problem = checkSummary(s, opts, totalCalls);
    if (problem) throw problem;
    const scannedMs = Date.now() - started;
    await storing;
    const storedMs = Date.now() - started;
    const dueAt = opts.scheduledAt?.getTime() ?? Date.now();
    const scheduler = env.BATCH_SCHEDULER.getByName(batchId);
    armed = true;
    await scheduler.arm({
      batchId,
      workspaceId: ctx.workspaceId,
      dueAt,
      suppressed: suppressedSeqs,
      config: {
        columns: s.columns,
        agent: { id: agent.id, provider: agent.provider, from_number: agent.from_number, voice_url: agent.voice_url, dial_url: agent.dial_url },
        smartCallbackConfig: opts.smartCallbackConfig,
        callingWindow: opts.callingWindow,
        maxConcurrentCalls: opts.maxConcurrentCalls,
        csvKey,
        defaultCountry: opts.defaultCountry,
        totalCalls,
      },
    });

    const counts = { totalCalls, duplicatesRemoved: s.duplicatesRemoved, suppressed: suppressedSeqs.length, invalidRows: s.invalidRows };
    const body: StartBatchResponse = {
      batchId,
      ...counts,
      status: "queued",
      message: "Batch calls initiated successfully",
      scheduledAt,
      ...(s.invalidRows > 0 ? { details: s.errors } : {}),
    };
    await killPoint(env, "intake.armed");
    // Publishing and completing the key with this 201 are one D1 transaction.
    if (!(await publishBatch(env.DB, batchId, counts, s.columns, hold && { hold, status: 201, body: JSON.stringify(body) }))) {
      // This request outlived its key's lease and a retry took the key over: that one creates the batch.
      if (hold)
        throw new ApiError(
          "idempotency_conflict",
          "This request took too long and a retry with the same Idempotency-Key took over; that retry's batch is the one created.",
        );
      throw new Error("batch vanished before it was published");
    }
    // Published in D1: from here the batch exists. Telling its object is an
    // optimisation; an object not told finds out from D1 on its next tick.
    published = body;
    await killPoint(env, "intake.published");
    await scheduler.publish().catch((err) => log("warn", "batch.publish_notice_failed", { ...logFields, error: String(err) }));
    await killPoint(env, "intake.noticed");
    // Phase timings (ms from the start of the scan) let an operator see where a slow upload spent its time.
    log("info", "batch.created", {
      ...logFields,
      ...counts,
      dataRows: s.dataRows,
      bytes: file.size,
      scheduledAt,
      scannedMs,
      storedMs,
      publishedMs: Date.now() - started,
    });
    return { status: 201, body };
  } catch (err) {
    // Published means created: a later step's failure (a log line) must not undo or deny it.
    if (published) return { status: 201, body: published };
    await storing.catch(() => undefined); // let the put settle, so the delete comes after it
    await rollback(env, batchId, csvKey, armed, logFields);
    if (err instanceof ApiError) throw err;
    log("error", "batch.create_failed", { ...logFields, error: String(err) });
    throw new ApiError("batch_start_failed", "The batch could not be prepared or started; nothing was created. Try again.");
  }
}

async function rollback(env: Env, batchId: string, csvKey: string, armed: boolean, logFields: Record<string, string>): Promise<void> {
  // Each undo step is tried even if another fails; whatever is left over
  // stays invisible ('preparing') and the scheduled sweep removes it.
  // Deleting an R2 key that was never written is harmless.
  const steps: Promise<unknown>[] = [discardPreparingBatch(env.DB, batchId), env.CSV_BUCKET.delete(csvKey)];
  if (armed) steps.push(env.BATCH_SCHEDULER.getByName(batchId).discard());
  const results = await Promise.allSettled(steps);
  for (const r of results) if (r.status === "rejected") log("error", "batch.rollback_step_failed", { ...logFields, error: String(r.reason) });
}

/** Deletes uploads whose request died before publishing (older than an hour). */
export async function sweepAbandonedUploads(env: Env): Promise<number> {
  const cutoff = new Date(Date.now() - ABANDONED_UPLOAD_MS).toISOString();
  const stale = await staleBatches(env.DB, cutoff);
  for (const b of stale) {
    await rollback(env, b.id, b.csv_key, true, { batchId: b.id });
    log("warn", "batch.abandoned_upload_removed", { batchId: b.id });
  }
  return stale.length;
}

import { declaredResultsOf, getAgent, type AgentRow } from "../db/agent.repo";
import { discardPreparingBatch, insertPreparingBatch, publishBatch, staleBatches } from "../db/batch.repo";
import { hasAnyDnc } from "../db/dnc.repo";
import type { IdempotencyHold } from "../db/idempotency.repo";
import { readWorkspace } from "../db/workspace.repo";
import { BatchFormFieldsSchema, isoUtc, parseBatchOptions, type BatchOptions } from "../domain/batch-options";
import { tenantUrlProblem } from "../lib/url-policy";
import { ABANDONED_UPLOAD_MS } from "../engine-config";
import { ApiError } from "../errors";
import { killPoint } from "../lib/fault";
import { newId } from "../lib/ids";
import { issuesText } from "../lib/issues";
import { log } from "../lib/log";
import type { StartBatchResponse } from "../schemas/batch";
import { estimateOf, estimateRatesFor } from "./estimate";
import { scanAndCheck, type ScannedFile } from "./intake-scan";

type Ctx = { workspaceId: string; requestId: string };

/** What an upload answers. `recorded`: its Idempotency-Key was completed with this answer in the publish's own D1 transaction. */
export type IntakeAnswer = { status: 200 | 201; body: StartBatchResponse; recorded: boolean };

/** The upload's form fields (every part but the file) as typed options, or the contract's 400 for the first that is wrong. */
export function batchOptionsOf(fields: Record<string, string>): BatchOptions {
  if (!fields.agentId?.trim()) throw new ApiError("missing_agent_id", "Send agentId: the agent that should make these calls.");
  const parsedFields = BatchFormFieldsSchema.safeParse(fields);
  if (!parsedFields.success) {
    throw new ApiError("validation_failed", issuesText(parsedFields.error.issues));
  }
  const options = parseBatchOptions(parsedFields.data, new Date());
  if (!options.ok) throw new ApiError(options.error.code, options.error.message);
  return options.value;
}

/**
 * POST /v1/api/batch-calls, once the route has decoded the form: validate
 * everything, then create the batch so that it appears whole or not at all.
 * With `hold` (the request's Idempotency-Key) the batch is published only
 * while the key is still this request's, and the key is completed in the
 * same D1 transaction as the publish.
 */
export async function startBatch(env: Env, ctx: Ctx, file: File, opts: BatchOptions, hold?: IdempotencyHold): Promise<IntakeAnswer> {
  const target = await intakeTarget(env, ctx, opts);
  if (opts.dryRun) return dryRun(env, target, file, opts);
  return createBatch(env, ctx, target, file, opts, hold);
}

/** Who the batch is for: the agent the options name, and whose do-not-call list applies (null: the workspace has none). */
type IntakeTarget = { agent: AgentRow; dncWorkspace: string | null; scheduledAt: string | null };

async function intakeTarget(env: Env, ctx: Ctx, opts: BatchOptions): Promise<IntakeTarget> {
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
  const preDialProblem = opts.preDial ? tenantUrlProblem("preDialUrl", opts.preDial.url, env) : null;
  if (preDialProblem) throw new ApiError("validation_failed", preDialProblem);
  const dncWorkspace = (await hasAnyDnc(env.DB, ctx.workspaceId)) ? ctx.workspaceId : null;
  return { agent, dncWorkspace, scheduledAt: opts.scheduledAt ? isoUtc(opts.scheduledAt) : null };
}

/** dryRun=true: the same scan and the same 400s as an upload (every row counted), nothing created, and the estimate of the minutes it would bill. */
async function dryRun(env: Env, target: IntakeTarget, file: File, opts: BatchOptions): Promise<IntakeAnswer> {
  const { summary: s, suppressed, totalCalls } = await scanAndCheck(env, file, opts, target.dncWorkspace, false);
  const estimate = await estimateOf(env, target.agent.workspace_id, target.agent.id, opts.smartCallbackConfig, totalCalls);
  return {
    status: 200,
    body: {
      batchId: null,
      totalCalls,
      status: "dry_run",
      message: "Dry run: the file is valid; nothing was created",
      scheduledAt: target.scheduledAt,
      duplicatesRemoved: s.duplicatesRemoved,
      suppressed: suppressed.length,
      invalidRows: s.invalidRows,
      details: s.errors,
      estimate,
    },
    recorded: false,
  };
}

/** Where an upload under way has got to, for its rollback. */
type Upload = { batchId: string; csvKey: string; storing: Promise<unknown>; armed: boolean; logFields: Record<string, string> };

/**
 * A 'preparing' row that no read path shows comes first; the CSV goes to R2
 * while every row is checked; the batch's object is armed (it materialises
 * the calls from the stored file) and only then is the batch published.
 * Any failure before that undoes all three.
 */
async function createBatch(env: Env, ctx: Ctx, target: IntakeTarget, file: File, opts: BatchOptions, hold?: IdempotencyHold): Promise<IntakeAnswer> {
  const upload = await prepareBatch(env, ctx, target, file, opts);
  let published: StartBatchResponse | null = null;
  const started = Date.now();
  try {
    const scanned = await scanAndCheck(env, file, opts, target.dncWorkspace, opts.onInvalidRows === "reject");
    const scannedMs = Date.now() - started;
    await upload.storing;
    const storedMs = Date.now() - started;
    const scheduler = await armBatch(env, ctx, target, opts, upload, scanned);
    const body = createdBody(upload.batchId, target, scanned, opts.start);
    await killPoint(env, "intake.armed");
    await publish(env, upload.batchId, scanned, body, opts.start ? "queued" : "draft", hold);
    // Published in D1: from here the batch exists. Telling its object is an
    // optimisation; an object not told finds out from D1 on its next tick.
    published = body;
    await killPoint(env, "intake.published");
    await scheduler.publish().catch((err) => log("warn", "batch.publish_notice_failed", { ...upload.logFields, error: String(err) }));
    await killPoint(env, "intake.noticed");
    // Phase timings (ms from the start of the scan) let an operator see where a slow upload spent its time.
    log("info", "batch.created", {
      ...upload.logFields,
      ...countsOf(scanned),
      dataRows: scanned.summary.dataRows,
      bytes: file.size,
      scheduledAt: target.scheduledAt,
      draft: !opts.start,
      scannedMs,
      storedMs,
      publishedMs: Date.now() - started,
    });
    return { status: 201, body, recorded: hold !== undefined };
  } catch (err) {
    // Published means created: a later step's failure (a log line) must not undo or deny it.
    if (published) return { status: 201, body: published, recorded: hold !== undefined };
    await upload.storing.catch(() => undefined); // let the put settle, so the delete comes after it
    await rollback(env, upload.batchId, upload.csvKey, upload.armed, upload.logFields);
    if (err instanceof ApiError) throw err;
    log("error", "batch.create_failed", { ...upload.logFields, error: String(err) });
    throw new ApiError("batch_start_failed", "The batch could not be prepared or started; nothing was created. Try again.");
  }
}

/** The name the client gave its file, without a path some clients send, at most 255 characters; null when it gave none. */
function fileNameOf(file: File): string | null {
  const name = file.name.split(/[\\/]/).pop()?.trim() ?? "";
  return name === "" ? null : name.slice(0, 255);
}

/** The invisible 'preparing' row, and the raw file on its way to R2 (on the common path the put overlaps the scan). */
async function prepareBatch(env: Env, ctx: Ctx, target: IntakeTarget, file: File, opts: BatchOptions): Promise<Upload> {
  const batchId = newId("batch");
  const csvKey = `workspaces/${ctx.workspaceId}/batches/${batchId}/input.csv`;
  await insertPreparingBatch(env.DB, {
    id: batchId,
    workspaceId: ctx.workspaceId,
    agentId: target.agent.id,
    name: opts.name,
    fileName: fileNameOf(file),
    scheduledAt: target.scheduledAt,
    smartCallbackConfig: opts.smartCallbackConfig,
    callingWindow: opts.callingWindow,
    maxConcurrentCalls: opts.maxConcurrentCalls,
    stopRules: opts.stopRules,
    preDial: opts.preDial,
    maxMinutes: opts.maxMinutes,
    // A draft's view shows the estimate: its per-call rates are kept now, as of this upload (an edit refreshes them).
    estimate: opts.start ? null : await estimateRatesFor(env, ctx.workspaceId, target.agent.id, opts.smartCallbackConfig),
    defaultCountry: opts.defaultCountry,
    columns: [],
    csvKey,
    createdAt: new Date().toISOString(),
  });
  const storing = env.CSV_BUCKET.put(csvKey, file, {
    httpMetadata: { contentType: "text/csv" },
    customMetadata: { workspaceId: ctx.workspaceId, batchId, fileName: file.name.slice(0, 200) },
  });
  storing.catch(() => undefined); // observed by the caller; never an unhandled rejection
  return { batchId, csvKey, storing, armed: false, logFields: { requestId: ctx.requestId, workspaceId: ctx.workspaceId, batchId } };
}

/**
 * Hands the batch to its object, which materialises the calls from the stored file, leaving out the rows found on the do-not-call list now.
 * With start=false the object holds it as a draft from the first moment: no tick can start it before POST …/start.
 */
async function armBatch(env: Env, ctx: Ctx, target: IntakeTarget, opts: BatchOptions, upload: Upload, scanned: ScannedFile) {
  const { agent } = target;
  const scheduler = env.BATCH_SCHEDULER.getByName(upload.batchId);
  upload.armed = true;
  await scheduler.arm({
    batchId: upload.batchId,
    workspaceId: ctx.workspaceId,
    dueAt: opts.scheduledAt?.getTime() ?? Date.now(),
    draft: !opts.start,
    suppressed: scanned.suppressed,
    config: {
      columns: scanned.summary.columns,
      agent: dialAgentOf(agent),
      smartCallbackConfig: opts.smartCallbackConfig,
      callingWindow: opts.callingWindow,
      maxConcurrentCalls: opts.maxConcurrentCalls,
      stopRules: opts.stopRules,
      preDial: opts.preDial,
      maxMinutes: opts.maxMinutes,
      csvKey: upload.csvKey,
      defaultCountry: opts.defaultCountry,
      totalCalls: scanned.totalCalls,
    },
  });
  return scheduler;
}

function countsOf(scanned: ScannedFile) {
  const s = scanned.summary;
  return { totalCalls: scanned.totalCalls, duplicatesRemoved: s.duplicatesRemoved, suppressed: scanned.suppressed.length, invalidRows: s.invalidRows };
}

function createdBody(batchId: string, target: IntakeTarget, scanned: ScannedFile, start: boolean): StartBatchResponse {
  const s = scanned.summary;
  return {
    batchId,
    ...countsOf(scanned),
    status: start ? "queued" : "draft",
    message: start ? "Batch calls initiated successfully" : `Draft saved: nothing is dialled until POST /v1/api/batch-calls/${batchId}/start`,
    scheduledAt: target.scheduledAt,
    ...(s.invalidRows > 0 ? { details: s.errors } : {}),
  };
}

/** preparing → queued (or draft). Publishing and completing the key with this 201 are one D1 transaction: no crash can come between them. */
async function publish(
  env: Env,
  batchId: string,
  scanned: ScannedFile,
  body: StartBatchResponse,
  as: "queued" | "draft",
  hold?: IdempotencyHold,
): Promise<void> {
  const key = hold && { hold, status: 201, body: JSON.stringify(body) };
  if (await publishBatch(env.DB, batchId, countsOf(scanned), scanned.summary.columns, key, as)) return;
  // This request outlived its key's lease and a re-sent request took the key over: that one creates the batch.
  if (hold)
    throw new ApiError(
      "idempotency_conflict",
      "This request took too long and a retry with the same Idempotency-Key took over; that retry's batch is the one created.",
    );
  throw new Error("batch vanished before it was published");
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

/** The agent as a batch's object keeps it (a snapshot: the batch dials through it as it was when the batch was created or edited). */
export function dialAgentOf(agent: AgentRow) {
  return {
    id: agent.id,
    provider: agent.provider,
    from_number: agent.from_number,
    voice_url: agent.voice_url,
    dial_url: agent.dial_url,
    result_schema: declaredResultsOf(agent.result_schema),
    record: agent.record === 1,
  };
}

import * as z from "zod";
import { getAgent } from "../db/agent.repo";
import { dialAgentOf } from "./batch-intake";
import { writeBatchEdit } from "../db/batch.repo";
import { readWorkspace } from "../db/workspace.repo";
import { CallingWindowSchema, isoUtc, parseBatchOptions, SmartCallbackConfigSchema } from "../domain/batch-options";
import { MaxMinutesSchema, type PreDial } from "../domain/batch-safety";
import { StopRulesSchema } from "../domain/stop-rules";
import { ApiError } from "../errors";
import { log } from "../lib/log";
import { tenantUrlProblem } from "../lib/url-policy";
import type { BatchView } from "../schemas/batch";
import { batchView, liveStatus } from "../views/batch";
import { batchNotFound, requireBatch } from "./batch-control";
import { estimateRatesFor } from "./estimate";

/** The states an edit applies to (the batch's object checks again: it is the authority). */
const EDITABLE = ["draft", "queued", "paused"];

/**
 * PATCH /v1/api/batch-calls/{batchId}: the upload's options as JSON values
 * (objects, not JSON in strings), each checked by the same rules as at
 * upload. Absent: unchanged; null: cleared (for the optional ones).
 */
export const EditBatchSchema = z
  .strictObject({
    name: z.string().max(200).nullable().optional().describe("label shown in lists; null clears it"),
    agentId: z.string().trim().min(1).optional().describe("a live agent of this workspace; the next attempts dial through it as it is now"),
    scheduledAt: z
      .string()
      .optional()
      .describe("draft or queued only: ISO 8601 with a zone, not in the past, at most 365 days ahead; a queued batch starts then instead"),
    callingWindow: CallingWindowSchema.nullable().optional().describe("as at upload, as a JSON object; null: call at any time"),
    maxConcurrentCalls: z.number().int().min(1, "must be a whole number of at least 1").nullable().optional().describe("at most the workspace's"),
    smartCallbackConfig: SmartCallbackConfigSchema.nullable().optional().describe("as at upload, as a JSON object; null: one attempt each"),
    stopRules: StopRulesSchema.nullable().optional().describe("as at upload, as a JSON object; null: none. A change starts a fresh window"),
    preDialUrl: z.string().nullable().optional().describe("same URL rules as at upload; null (or empty) removes the pre-dial check"),
    preDialOnError: z.enum(["skip", "dial"]).optional().describe("with preDialUrl, or alone to change the current check's policy"),
    maxMinutes: MaxMinutesSchema.nullable()
      .optional()
      .describe(
        "the budget in billed minutes (1 to 1,000,000); null: none. Raising it above billedMinutes (or clearing it) lets a batch paused for its budget " +
          "resume; it does not resume it",
      ),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message:
      "Send at least one of name, agentId, scheduledAt, callingWindow, maxConcurrentCalls, smartCallbackConfig, stopRules, preDialUrl, preDialOnError, maxMinutes",
  });
export type EditBatch = z.infer<typeof EditBatchSchema>;

type Ctx = { workspaceId: string; requestId: string };

/** What the batch's object takes (its contract's EditInput, read through the binding: this layer does not import the object). */
type EditInput = Parameters<ReturnType<Env["BATCH_SCHEDULER"]["getByName"]>["edit"]>[0];

/**
 * Checks the edit against the batch as D1 shows it (a fast 404 or 409),
 * hands it to the batch's object (which decides, under its own status,
 * and swaps its config whole), then copies what the object now holds into
 * D1 and answers with the batch as GET shows it. A copy that fails after
 * the object changed is repaired by sending the same edit again.
 */
export async function editBatch(env: Env, ctx: Ctx, batchId: string, body: EditBatch): Promise<BatchView> {
  const row = await requireBatch(env.DB, ctx.workspaceId, batchId);
  if (!EDITABLE.includes(row.status)) throw notEditable(batchId, row.status);
  if (body.scheduledAt !== undefined && row.status === "paused") throw alreadyStarted(batchId);
  const input = await editInput(env, ctx.workspaceId, body, row.pre_dial_url !== null);
  const r = await env.BATCH_SCHEDULER.getByName(batchId).edit(input);
  if (!r.ok) {
    if (r.status === "gone") throw batchNotFound(batchId);
    throw r.status === "paused" ? alreadyStarted(batchId) : notEditable(batchId, r.status);
  }
  const { config } = r;
  const name = body.name === undefined ? undefined : body.name?.trim() || null;
  const scheduledAt = input.dueAt === undefined ? undefined : isoUtc(new Date(input.dueAt));
  const stored = await writeBatchEdit(env.DB, ctx.workspaceId, batchId, {
    name,
    scheduledAt,
    agentId: config.agent.id,
    smartCallbackConfig: config.smartCallbackConfig,
    callingWindow: config.callingWindow,
    maxConcurrentCalls: config.maxConcurrentCalls,
    stopRules: config.stopRules ?? null,
    preDial: config.preDial ?? null,
    maxMinutes: config.maxMinutes ?? null,
    // A draft's estimate follows its agent and smart callbacks as they now are.
    estimate: row.status === "draft" ? await estimateRatesFor(env, ctx.workspaceId, config.agent.id, config.smartCallbackConfig) : null,
  });
  if (!stored) throw batchNotFound(batchId);
  log("info", "batch.edited", { requestId: ctx.requestId, workspaceId: ctx.workspaceId, batchId, fields: Object.keys(body).join(",") });
  return batchView(stored, await liveStatus(env, stored));
}

function notEditable(batchId: string, status: string): ApiError {
  const hint = status === "processing" ? " — pause it first" : "";
  return new ApiError(
    "invalid_transition",
    `Batch ${batchId} cannot be edited now: a batch can be edited while draft, queued or paused; this batch is ${status}${hint}.`,
  );
}

function alreadyStarted(batchId: string): ApiError {
  return new ApiError(
    "validation_failed",
    `scheduledAt cannot change: batch ${batchId} is paused, so it has already started. Leave scheduledAt out (resume continues it now).`,
  );
}

/**
 * The body as the object's EditInput: the agent as a snapshot (as intake
 * arms a batch with), scheduledAt as the instant it names, the pre-dial
 * check as the upload builds it; each bad value a 400 saying what to fix.
 */
async function editInput(env: Env, workspaceId: string, body: EditBatch, hasPreDial: boolean): Promise<EditInput> {
  const changes: EditInput["changes"] = {};
  if (body.smartCallbackConfig !== undefined) changes.smartCallbackConfig = body.smartCallbackConfig;
  if (body.callingWindow !== undefined) changes.callingWindow = body.callingWindow;
  if (body.stopRules !== undefined) changes.stopRules = body.stopRules;
  if (body.maxConcurrentCalls !== undefined) changes.maxConcurrentCalls = body.maxConcurrentCalls;
  if (body.maxMinutes !== undefined) changes.maxMinutes = body.maxMinutes;
  if (body.maxConcurrentCalls != null) {
    const ws = await readWorkspace(env.DB, workspaceId, ["max_concurrent_calls"]);
    if (!ws) throw new ApiError("unauthorized", "The workspace no longer exists.");
    if (body.maxConcurrentCalls > ws.max_concurrent_calls) {
      throw new ApiError("validation_failed", `maxConcurrentCalls is ${body.maxConcurrentCalls}, above this workspace's limit of ${ws.max_concurrent_calls}.`);
    }
  }
  if (body.agentId !== undefined) changes.agent = await dialAgent(env, workspaceId, body.agentId);
  const preDial = preDialOf(env, body, hasPreDial);
  if (preDial !== undefined) changes.preDial = preDial;
  const dueAt = body.scheduledAt === undefined ? undefined : startOf(body.scheduledAt);
  const onErrorOnly = body.preDialUrl === undefined ? body.preDialOnError : undefined;
  return { changes, ...(onErrorOnly ? { preDialOnError: onErrorOnly } : {}), ...(dueAt !== undefined ? { dueAt } : {}) };
}

/** A live agent of the workspace, as the batch's object dials through it (built as intake's armBatch builds it). */
async function dialAgent(env: Env, workspaceId: string, agentId: string) {
  const agent = await getAgent(env.DB, workspaceId, agentId);
  // The batch exists, so an agent it cannot use is a bad value in the body (a 400), not a missing resource.
  if (!agent) throw new ApiError("validation_failed", `agentId: Agent ${agentId} does not exist in this workspace.`);
  return dialAgentOf(agent);
}

/** scheduledAt by the upload's own rules (a real time with a zone, not in the past, not too far ahead), as epoch ms. */
function startOf(raw: string): number {
  if (raw.trim() === "") throw new ApiError("invalid_scheduled_at", "scheduledAt must be an ISO 8601 time with a zone, e.g. 2026-12-01T15:00:00Z");
  const r = parseBatchOptions({ agentId: "-", scheduledAt: raw }, new Date());
  if (!r.ok) throw new ApiError(r.error.code, r.error.message);
  return r.value.scheduledAt!.getTime();
}

/** The new pre-dial check (null: none), undefined when the body leaves it as it is; by the upload's rules and URL policy. */
function preDialOf(env: Env, body: EditBatch, hasPreDial: boolean): PreDial | null | undefined {
  if (body.preDialUrl === undefined) {
    if (body.preDialOnError !== undefined && !hasPreDial) {
      throw new ApiError("validation_failed", "preDialOnError needs preDialUrl: this batch has no pre-dial check; send preDialUrl with it.");
    }
    return undefined;
  }
  const r = parseBatchOptions({ agentId: "-", preDialUrl: body.preDialUrl ?? "", preDialOnError: body.preDialOnError }, new Date());
  if (!r.ok) throw new ApiError(r.error.code, r.error.message);
  const problem = r.value.preDial ? tenantUrlProblem("preDialUrl", r.value.preDial.url, env) : null;
  if (problem) throw new ApiError("validation_failed", problem);
  return r.value.preDial;
}

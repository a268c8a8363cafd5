import { dncAmong } from "../db/dnc.repo";
import { MAX_TEST_CALLS } from "../domain/test-call";
import { toE164 } from "../domain/phone";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/crypto";
import { log } from "../lib/log";
import type { TestCallRequest, TestCallView } from "../schemas/test-call";
import { batchNotFound, requireBatch } from "./batch-control";

/**
 * The Worker's checks of a test call (POST …/{batchId}/test-call) and its
 * reads. The batch's object decides what only it knows (its status now,
 * its rows, how many test calls it has had) and records the call; the
 * dial itself is telephony/test-call.ts's (this layer does not dial).
 */

type Ctx = { workspaceId: string; requestId: string };

/** The object's answer, read through the binding: this layer does not import the object. */
type Created = Awaited<ReturnType<ReturnType<Env["BATCH_SCHEDULER"]["getByName"]>["testCall"]>>;
export type NewTestCall = Extract<Created, { ok: true }>;

/** What an Idempotency-Key is bound to: the batch and the body as parsed (a default row is row 1). */
export function testCallHash(batchId: string, body: TestCallRequest): Promise<string> {
  return sha256Hex(JSON.stringify(["test-call", batchId, body.to.trim(), body.row ?? 1]));
}

/**
 * Checks the request against the batch (D1: the caller may see it, its
 * country reads `to`) and the workspace's do-not-call list, then has the
 * batch's object record the call. Every refusal is a 4xx sentence.
 */
export async function createTestCall(env: Env, ctx: Ctx, batchId: string, body: TestCallRequest): Promise<NewTestCall> {
  // D1 says whether the caller may see the batch and how to read `to`; its status is the object's to judge (D1's may lag it).
  const batch = await requireBatch(env.DB, ctx.workspaceId, batchId);
  const to = toE164(body.to, batch.default_country);
  if (!to) {
    throw new ApiError(
      "validation_failed",
      `to: "${body.to}" is not a phone number; send it in E.164 (+14155550100) or as a national number of the batch's defaultCountry (${batch.default_country}).`,
    );
  }
  if ((await dncAmong(env.DB, ctx.workspaceId, [to])).has(to)) {
    throw new ApiError("validation_failed", `to: ${to} is on this workspace's do-not-call list; a test call never calls a listed number. Use another number.`);
  }
  const row = body.row ?? 1;
  const r = await env.BATCH_SCHEDULER.getByName(batchId).testCall({ to, row });
  if (!r.ok) {
    if (r.kind === "row") {
      throw new ApiError(
        "validation_failed",
        `row: the batch has ${r.calls} row${r.calls === 1 ? "" : "s"}; row ${row} is past its last. Send a row from 1 to ${r.calls}.`,
      );
    }
    if (r.kind === "limit") {
      throw new ApiError(
        "invalid_transition",
        `Batch ${batchId} has had its ${MAX_TEST_CALLS} test calls, the most a batch may place; upload a new batch to test again.`,
      );
    }
    if (r.status === "gone") throw batchNotFound(batchId);
    throw notAllowed(batchId, r.status);
  }
  log("info", "batch.test_call", { requestId: ctx.requestId, workspaceId: ctx.workspaceId, batchId, callId: r.testCall.callId, row });
  return r as NewTestCall;
}

/** GET …/{batchId}/test-calls: newest first. */
export async function listTestCalls(env: Env, workspaceId: string, batchId: string): Promise<{ testCalls: TestCallView[] }> {
  await requireBatch(env.DB, workspaceId, batchId);
  const testCalls = await env.BATCH_SCHEDULER.getByName(batchId).testCalls();
  if (!testCalls) throw batchNotFound(batchId);
  return { testCalls: testCalls as TestCallView[] };
}

function notAllowed(batchId: string, status: string): ApiError {
  const hint = status === "processing" ? " Pause it first (POST …/pause), or test before starting it." : "";
  return new ApiError("invalid_transition", `Batch ${batchId} is ${status}; a test call can be placed while a batch is draft or paused.${hint}`);
}

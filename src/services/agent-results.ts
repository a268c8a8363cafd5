import type { AgentKeys } from "../db/agent.repo";
import { AgentResultSchema, parseCallbackAt, resultProblem } from "../domain/agent-result";
import { MORE_PHONE_COLUMNS } from "../domain/csv";
import { ApiError } from "../errors";
import { DEV_DRAIN_MAX_BYTES, readTextWithin } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { issuesText } from "../lib/issues";
import { count } from "../lib/metrics";

/**
 * The agent's side of a call, behind both result routes (agent-signed and
 * API key) and the agent's context read: who may report for a batch, what
 * a report may say, and the one request to the batch's object that records it.
 */

/** What the agent routes need to know about a batch: which workspace it is in, its name, and whose secret signs for it. */
export type BatchAgent = {
  batchId: string;
  workspaceId: string;
  batchName: string | null;
  agentId: string;
  fromNumber: string | null;
  keys: AgentKeys;
};

type BatchAgentRow = AgentKeys & { workspace_id: string; batch_name: string | null; from_number: string | null };

/** The batch (published) and the agent it was started with, deleted or not, in one D1 read. */
async function readBatchAgent(db: D1Database, batchId: string): Promise<BatchAgent | null> {
  const row = await db
    .prepare(
      `SELECT b.workspace_id, b.name AS batch_name, a.id, a.provider, a.from_number, a.result_schema,
         a.signing_secret_enc, a.previous_secret_enc, a.previous_secret_expires_at
       FROM batches b JOIN agents a ON a.id = b.agent_id AND a.workspace_id = b.workspace_id
       WHERE b.id = ?1 AND b.status != 'preparing'`,
    )
    .bind(batchId)
    .first<BatchAgentRow>();
  if (!row) return null;
  // result_schema rides along in AgentKeys; the batch's object checks reports against its own copy of it.
  const { workspace_id, batch_name, from_number, ...keys } = row;
  return { batchId, workspaceId: workspace_id, batchName: batch_name, agentId: row.id, fromNumber: from_number, keys };
}

/** How long an isolate trusts what it read about a batch's agent, and how many batches it remembers. */
export const BATCH_AGENT_TTL_MS = 60_000;
export const BATCH_AGENT_CACHE_MAX = 1000;

/**
 * Each batch's agent as this isolate last read it. An agent reports many
 * times per batch, so the signed routes' hot path reads no D1: one
 * request to the Worker, one to the batch's object. A secret a second
 * rotation retires at once still verifies here for up to the TTL;
 * a signature that fails with a cached entry re-reads D1 before it is
 * refused (see the route), so a just-rotated secret works at once. Unknown batches are remembered
 * too, so a stream of forged ids costs D1 one read per id per minute.
 */
const cache = new Map<string, { value: BatchAgent | null; at: number }>();
/** Reads in flight, shared by concurrent reports of one batch. */
const reading = new Map<string, Promise<BatchAgent | null>>();

/** The batch's agent; `fromCache` says whether it came from this isolate's memory (then a failed check may re-read with `fresh`). */
export async function batchAgent(
  env: Env,
  batchId: string,
  now: number,
  opts: { fresh?: boolean } = {},
): Promise<{ agent: BatchAgent | null; fromCache: boolean }> {
  const hit = cache.get(batchId);
  if (hit && !opts.fresh && Math.abs(now - hit.at) < BATCH_AGENT_TTL_MS) return { agent: hit.value, fromCache: true };
  let pending = reading.get(batchId);
  if (!pending) {
    pending = readBatchAgent(env.DB, batchId);
    reading.set(batchId, pending);
    void pending.finally(() => reading.delete(batchId)).catch(() => undefined);
  }
  const agent = await pending;
  cache.delete(batchId);
  cache.set(batchId, { value: agent, at: now });
  // Map keeps insertion order: the first key is the one read longest ago.
  if (cache.size > BATCH_AGENT_CACHE_MAX) cache.delete(cache.keys().next().value!);
  return { agent, fromCache: false };
}

/** The most a result body may be: a little above the contract's limits together (transcript 256 KiB, summary, 50 fields of 1 KiB). */
export const RESULT_BODY_MAX_BYTES = 1024 * 1024;

/**
 * The result's body as text: refused with 415 unless it is sent as JSON (like every JSON route), and with
 * 413 past RESULT_BODY_MAX_BYTES before anything else is looked at.
 */
export function readResultBody(env: Env, req: Request): Promise<string> {
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError("unsupported_media_type", "This route takes a JSON body: send it with the header Content-Type: application/json.");
  }
  return readTextWithin(req, RESULT_BODY_MAX_BYTES, "The result", {
    drainOverLimit: env.ENVIRONMENT === "development",
    drainMaxBytes: DEV_DRAIN_MAX_BYTES,
  });
}

/**
 * The call a result is for; `unknownCall` is the refusal when the batch has
 * no such call (the signed route gives its one 403, the API-key route a 404).
 */
export type ResultTarget = { batchId: string; seq: number; callId: string; unknownCall?: () => ApiError };

/** The 200 of both result routes. */
export type ResultAnswer = {
  callId: string;
  attempt: number;
  recorded: true;
  changed: boolean;
  callback: "scheduled" | "pending" | "none" | "ignored";
  nextAttemptAt?: string;
  callbackNote?: string;
};

/**
 * Where one transcript of an attempt is kept (CSV_BUCKET): named by its
 * content, so a replay writes the same object again and a report that is
 * refused later can never overwrite the transcript a recorded result points at.
 */
export async function transcriptKey(batchId: string, callId: string, attempt: number, body: string): Promise<string> {
  return `transcripts/${batchId}/${callId}/${attempt}-${(await sha256Hex(body)).slice(0, 16)}.json`;
}

/**
 * Checks a result (JSON, the contract's shape and limits, callbackAt
 * against `now`), puts its transcript in R2, then tells the batch's object
 * in one request; the object checks the agent's declared results. The
 * transcript goes first: once the object has recorded a result its pointer
 * must lead somewhere, and a replay only rewrites the same object. Every
 * refusal is a 4xx sentence.
 */
export async function submitResult(env: Env, target: ResultTarget, raw: string, source: "agent" | "api", now: number): Promise<ResultAnswer> {
  count("results.requests");
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ApiError("bad_request", "The result must be a JSON object, sent with Content-Type: application/json.");
  }
  // A record's parse would drop this name without a word (it is the prototype's setter): refused, not lost.
  if (hasOwn((body as { data?: unknown } | null)?.data, "__proto__")) {
    throw new ApiError("validation_failed", "The result is invalid: data.__proto__ cannot be a field name; rename the field.");
  }
  const parsed = AgentResultSchema.safeParse(body);
  if (!parsed.success) throw new ApiError("validation_failed", `The result is invalid: ${issuesText(parsed.error.issues)}.`);
  const result = parsed.data;
  // The agent's declared results are the batch's object's to check: it keeps them as they were when the batch was created.
  // A callbackAt already past goes to the batch with its sentence: the same report sent again after that time is a replay, not an error.
  const problem = resultProblem(result, null, now, { pastCallbackAt: "allow" });
  if (problem) throw new ApiError("validation_failed", problem);

  const { batchId, seq, callId } = target;
  const transcript = result.transcript ? JSON.stringify({ callId, attempt: result.attempt, turns: result.transcript }) : null;
  const key = transcript === null ? undefined : await transcriptKey(batchId, callId, result.attempt, transcript);
  if (key) await env.CSV_BUCKET.put(key, transcript!, { httpMetadata: { contentType: "application/json" } });
  const callbackAt = result.callbackAt === undefined ? null : parseCallbackAt(result.callbackAt, now);
  const answer = await env.BATCH_SCHEDULER.getByName(batchId).recordResult(seq, {
    attempt: result.attempt,
    ...(result.disposition !== undefined ? { disposition: result.disposition } : {}),
    ...(result.summary !== undefined ? { summary: result.summary } : {}),
    ...(result.sentiment !== undefined ? { sentiment: result.sentiment } : {}),
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(key ? { transcriptKey: key } : {}),
    ...(result.recordingUrl !== undefined ? { recordingUrl: result.recordingUrl } : {}),
    // resultProblem has already refused a callbackAt that does not parse; one in the past is the batch's to judge.
    ...(callbackAt?.ok ? { callbackAt: callbackAt.at } : {}),
    ...(callbackAt && !callbackAt.ok && callbackAt.pastAt !== undefined ? { callbackAt: callbackAt.pastAt, pastCallbackProblem: callbackAt.problem } : {}),
    // false changes nothing: an opt-out is never withdrawn.
    ...(result.optOut ? { optOut: true as const } : {}),
    source,
  });
  if (answer.kind === "unknown_call") {
    await dropTranscript(env, key);
    throw target.unknownCall?.() ?? new ApiError("not_found", `Call ${callId} is not a call of batch ${batchId}.`);
  }
  // Outside the declaration the batch keeps. The transcript stays: an earlier report of this attempt with the same transcript points at that key.
  if (answer.kind === "invalid") throw new ApiError("validation_failed", answer.problem);
  if (answer.kind === "not_dialled") {
    await dropTranscript(env, key);
    const made = answer.attempts === 0 ? "no attempt yet" : `${answer.attempts} attempt${answer.attempts === 1 ? "" : "s"}`;
    throw new ApiError("invalid_transition", `Attempt ${result.attempt} of ${callId} has not been dialled; it has made ${made}.`);
  }
  return {
    callId,
    attempt: result.attempt,
    recorded: true,
    changed: answer.changed,
    callback: answer.callback,
    ...(answer.nextAttemptAt ? { nextAttemptAt: answer.nextAttemptAt } : {}),
    ...(answer.callbackNote ? { callbackNote: answer.callbackNote } : {}),
  };
}

const hasOwn = (v: unknown, key: string) => typeof v === "object" && v !== null && Object.hasOwn(v, key);

/** A transcript put for an attempt the object has no result for and never will: nothing points at it, so it goes. */
async function dropTranscript(env: Env, key: string | undefined): Promise<void> {
  if (key) await env.CSV_BUCKET.delete(key);
}

/** What an agent reads about the call it is on (GET /v1/agent/calls/{callId}). */
export type CallContext = {
  callId: string;
  batchId: string;
  batchName: string | null;
  agentId: string;
  attempt: number;
  status: string;
  to: string;
  from: string | null;
  variables: Record<string, string>;
  timezone: string | null;
};

/** Columns the file may have that are not variables: the number dialled and the zone the calling window uses. */
const NOT_VARIABLES = new Set<string>(["phone_number", ...MORE_PHONE_COLUMNS, "timezone"]);

/** The call's context from its batch's object (one request), or null for a call it does not hold. */
export async function callContext(env: Env, agent: BatchAgent, seq: number, callId: string): Promise<CallContext | null> {
  const detail = await env.BATCH_SCHEDULER.getByName(agent.batchId).callDetail(seq);
  if (!detail) return null;
  const { row, columns, attempts } = detail;
  const values = JSON.parse(row.metadata) as (string | null)[];
  // fromEntries defines each key as data: a column named "__proto__" is a variable like any other.
  const variables = Object.fromEntries(columns.flatMap((col, i) => (NOT_VARIABLES.has(col) ? [] : [[col, values[i] ?? ""]])));
  const zoneAt = columns.indexOf("timezone");
  const from = row.dial_from ?? attempts.find((a) => a.attempt === row.attempts)?.from_number ?? agent.fromNumber;
  return {
    callId,
    batchId: agent.batchId,
    batchName: agent.batchName,
    agentId: agent.agentId,
    attempt: row.attempts,
    status: row.status,
    to: row.dial_to ?? row.phone_number,
    from,
    variables,
    timezone: (zoneAt >= 0 && values[zoneAt]) || null,
  };
}

import type { CallRow, StoredResult } from "../../db/call-ledger";
import { addDncSources } from "../../db/dnc.repo";
import type { WorkspaceEngineInfo } from "../../db/workspace.repo";
import { declaredProblem } from "../../domain/agent-result";
import { maxRequestedCallbacks } from "../../domain/batch-options";
import { nextOpening } from "../../domain/calling-window";
import { countryOf } from "../../domain/phone";
import { isTestSeq } from "../../domain/test-call";
import { POKE_COALESCE_MS } from "../../engine-config";
import { callId } from "../../lib/ids";
import { log } from "../../lib/log";
import { count } from "../../lib/metrics";
import { suppressInLiveBatches } from "../../services/dnc";
import { poke, wakeBy } from "./clock";
import { batchFields, type BatchContext } from "./context";
import type { BatchConfig, RecordResultAnswer, ResultReport, SchedulerState } from "./contract";
import { emit, release, syncSummary } from "./effects";
import * as testCalls from "./test-call-reports";

// The batch acting on what a conversation achieved: an agent's result is
// merged into its attempt, a callback the recipient asked for is scheduled
// (now, or when the attempt ends), and an opt-out reaches the workspace's
// do-not-call list and every live batch. The result and what it decides
// commit together; the opt-out's D1 write and fan-out are recorded first
// (optouts) and retried by the tick until done, so a crash between the two
// loses neither and repeats neither.

/** How long an opt-out whose D1 write failed waits before the tick tries again. */
export const OPT_OUT_RETRY_MS = 5_000;

/** When a requested callback is due: the time asked for, moved into the batch's calling window in the recipient's zone. */
export function requestedDueAt(config: BatchConfig, ws: WorkspaceEngineInfo | null, row: CallRow, at: number): number {
  const window = config.callingWindow;
  if (!window) return at;
  const tzColumn = config.columns.indexOf("timezone");
  const rowTz = tzColumn >= 0 ? ((JSON.parse(row.metadata) as string[])[tzColumn] ?? "") : "";
  const tz = window.timezone === "recipient" ? rowTz || ws?.timezone || "UTC" : window.timezone;
  return nextOpening(window, tz, at, window.overrides ? countryOf(row.phone_number) : null);
}

type Callback = { state: "scheduled" | "pending" | "none" | "ignored"; note?: string; dueAt?: number };

/** Records one report and acts on it; see RecordResultAnswer. */
export async function recordResult(c: BatchContext, state: SchedulerState, seq: number, report: ResultReport): Promise<RecordResultAnswer> {
  count("results.reports");
  if (isTestSeq(seq)) return testCalls.recordResult(c, state, seq, report);
  const row = c.ledger.call(seq);
  if (!row) return { kind: "unknown_call" };
  if (report.attempt > row.attempts) return { kind: "not_dialled", attempts: row.attempts };
  const config = await c.config();
  // The declaration the batch started with: a later PATCH of the agent applies to new batches, so exports keep their columns.
  const declared = config.agent.result_schema;
  const problem = declared ? declaredProblem(report, declared) : null;
  if (problem) return { kind: "invalid", problem };
  // A callback time that has passed is news only if this attempt's result does not hold it already.
  if (report.pastCallbackProblem && c.ledger.results.get(seq, report.attempt)?.callback_at !== report.callbackAt) {
    return { kind: "invalid", problem: report.pastCallbackProblem };
  }
  const ws = await c.workspace(state);
  const now = c.now();
  // Armed before the step commits: a process that dies after it still leaves the tick that carries the opt-out and moves the batch.
  if (report.callbackAt !== undefined || report.optOut) await wakeBy(c, now + POKE_COALESCE_MS);
  const { attempt, source: _source, pastCallbackProblem: _past, ...fields } = report;
  let outcome: { result: StoredResult; changed: boolean; callback: Callback; reopened: boolean } | null = null;
  c.storage.transactionSync(() => {
    const before = c.ledger.results.get(seq, attempt);
    const { result, changed } = c.ledger.results.merge(row, attempt, fields, now);
    let callback: Callback = { state: result.callback_at === null ? "none" : ((result.callback_state as Callback["state"]) ?? "none") };
    let reopened = false;
    if (changed && result.opt_out === 1 && before?.opt_out !== 1) optOut(c, state, row, attempt, now);
    if (changed && result.callback_at !== null) ({ callback, reopened } = actOnCallback(c, config, ws, result, attempt));
    outcome = { result, changed, callback, reopened };
  });
  const { result, changed, callback, reopened } = outcome!;
  const id = callId(state.batchId, seq);
  if (changed) {
    log("info", "call.result_recorded", { ...batchFields(state), seq, attempt, source: report.source, callback: callback.state });
    c.feed?.changed([seq]);
    if (reopened) await syncSummary(c, true);
    await emit(c, "call.result", `${id}:${attempt}:result:${result.revision}`, resultWebhook(state.batchId, id, result));
    if (callback.state === "scheduled" && callback.dueAt !== undefined && result.callback_state !== "scheduled") {
      await emit(c, "call.retry_scheduled", `${id}:${attempt}:requested`, {
        batchId: state.batchId,
        callId: id,
        attempt,
        outcome: "callback_requested",
        reason: "callback_requested",
        error: null,
        nextAttemptAt: new Date(callback.dueAt).toISOString(),
      });
    }
    // An opt-out reaches the do-not-call list with the next tick (≤ POKE_COALESCE_MS): opt-outs ending together share its D1 write.
    await poke(c);
  }
  return {
    kind: "recorded",
    changed,
    callback: callback.state,
    ...(callback.note ? { callbackNote: callback.note } : {}),
    ...(callback.dueAt !== undefined ? { nextAttemptAt: new Date(callback.dueAt).toISOString() } : {}),
  };
}

/** The recipient asked never to be called again: recorded for the do-not-call list, and their waiting calls here cancelled now. */
export function optOut(c: BatchContext, state: SchedulerState, row: CallRow, attempt: number, now: number): void {
  // The number they answered on: a recipient with several numbers opted out on that one.
  const phone = row.dial_to ?? row.phone_number;
  c.ledger.results.addOptOut(row.seq, attempt, phone, now);
  const { dispatched } = c.ledger.cancelNumbers([phone], "The recipient asked on a call not to be called again.", now);
  release(c, state.batchId, dispatched);
}

/** A result's callbackAt for an attempt already over (or still on: pending until it ends). Runs inside the report's step. */
function actOnCallback(
  c: BatchContext,
  config: BatchConfig,
  ws: WorkspaceEngineInfo | null,
  result: StoredResult,
  attempt: number,
): { callback: Callback; reopened: boolean } {
  const { seq } = result;
  const row = c.ledger.call(seq)!;
  const status = c.ledger.head()!.status;
  const ignore = (note: string) => {
    c.ledger.results.setCallbackState(seq, attempt, "ignored");
    return { callback: { state: "ignored" as const, note }, reopened: false };
  };
  if (result.opt_out === 1) return ignore("The recipient opted out, so no callback is scheduled.");
  if (row.attempts > attempt) return ignore(`Attempt ${row.attempts} was already made after this one.`);
  if (status === "cancelled" || status === "failed") return ignore(`The batch is ${status}.`);
  const dueAt = requestedDueAt(config, ws, row, result.callback_at!);
  if (row.status === "active") {
    c.ledger.results.setCallbackState(seq, attempt, "pending");
    return { callback: { state: "pending" }, reopened: false };
  }
  if (result.callback_state === "scheduled") {
    c.ledger.results.moveCallback(seq, attempt, dueAt);
    return { callback: { state: "scheduled", dueAt: c.ledger.call(seq)!.due_at || dueAt }, reopened: false };
  }
  if (result.callback_state === "ignored") return { callback: { state: "ignored" }, reopened: false };
  const max = maxRequestedCallbacks(config.smartCallbackConfig);
  if (row.requested_callbacks >= max) return ignore(`This recipient already had ${max} requested callback(s) (maxRequestedCallbacks).`);
  if (!c.ledger.results.requestCallback(seq, attempt, dueAt, max)) return ignore("A callback attempt for this call is already on its way.");
  c.ledger.results.setCallbackState(seq, attempt, "scheduled");
  // The batch had finished: the callback reopens it, as a new pass (batch.completed is sent again, with a new id, when it ends).
  const reopened = status === "completed" && c.ledger.setStatus(["completed"], "processing", { completedTime: null, passPlusOne: true });
  return { callback: { state: "scheduled", dueAt }, reopened };
}

/** call.result's data: what the agent reported, with the transcript as a link. */
export function resultWebhook(batchId: string, id: string, r: StoredResult): Record<string, unknown> {
  return {
    batchId,
    callId: id,
    attempt: r.attempt,
    disposition: r.disposition,
    summary: r.summary,
    sentiment: r.sentiment,
    data: r.data ? (JSON.parse(r.data) as unknown) : {},
    recordingUrl: r.recording_url,
    transcriptUrl: r.transcript_key ? `/v1/api/batch-calls/${batchId}/calls/${id}/transcript?attempt=${r.attempt}` : null,
    callbackAt: r.callback_at === null ? null : new Date(r.callback_at).toISOString(),
    optOut: r.opt_out === 1,
  };
}

/**
 * Carries recorded opt-outs to the workspace's do-not-call list (with their
 * source; the first record of a number stays) and to every other live batch
 * of the workspace, then forgets them. Safe to repeat. Returns whether any
 * is left (a D1 failure): the tick tries again.
 */
export async function flushOptOuts(c: BatchContext, state: SchedulerState): Promise<boolean> {
  const pending = c.ledger.results.optOuts();
  if (pending.length === 0) return false;
  try {
    // One statement for every opt-out this tick carries; a number already listed keeps its first source.
    await addDncSources(
      c.env.DB,
      state.workspaceId,
      pending.map((o) => ({ phone: o.phone, source: { batchId: state.batchId, callId: callId(state.batchId, o.seq), at: new Date(o.at).toISOString() } })),
    );
    await suppressInLiveBatches(
      c.env,
      state.workspaceId,
      pending.map((o) => o.phone),
      state.batchId,
    );
  } catch (err) {
    log("warn", "call.opt_out_pending", { ...batchFields(state), count: pending.length, error: String(err) });
    await wakeBy(c, c.now() + OPT_OUT_RETRY_MS);
    return true;
  }
  for (const o of pending) c.ledger.results.clearOptOut(o.seq, o.attempt);
  log("info", "call.opted_out", { ...batchFields(state), count: pending.length });
  return c.ledger.results.optOuts().length > 0;
}

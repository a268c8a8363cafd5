import type { CallRow } from "../../db/call-ledger";
import { TestCallLedger } from "../../db/ledger/test-calls";
import { declaredProblem } from "../../domain/agent-result";
import { connected, failureReason, finalStatus } from "../../domain/outcome";
import { callId } from "../../lib/ids";
import { log } from "../../lib/log";
import type { WebhookEventType } from "../../queue/webhook-event";
import { resultView } from "../../views/call";
import { batchFields, type BatchContext } from "./context";
import type { ApplyResult, CallDetail, CallEvent, PlacedReport, RecordResultAnswer, ResultReport, SchedulerState } from "./contract";
import { emit } from "./effects";

// What settles a test call (test-calls.ts): the provider's answer to its
// dial (claims.ts placed), its status reports (results.ts applyLocal) and
// the agent's result (agent-results.ts recordResult), each of which hands a
// test call's seq here before it touches the batch's calls; and the read of
// one call (reads.ts callDetail). Nothing here writes the batch's calls or
// its row, so its counters, summary, feed and stop window never see it.

export type Webhook = [WebhookEventType, string, Record<string, unknown>];

export const ledgerOf = (c: BatchContext) => {
  void c.ledger; // the batch ledger's constructor brings the schema, test_calls included, up to date
  return new TestCallLedger(c.sql);
};

/** What the provider said about a test call's dial (claims.ts placed): taken, in doubt (a report or the lease settles it), or ended unplaced. */
export async function placed(c: BatchContext, state: SchedulerState, r: PlacedReport): Promise<void> {
  const tests = ledgerOf(c);
  const t = tests.get(r.seq);
  if (!t) return;
  const id = callId(state.batchId, r.seq);
  const started = (): Webhook => [
    "call.started",
    `${id}:1`,
    { batchId: state.batchId, callId: id, attempt: 1, phone_number: t.to_number, from: t.from_number, startTime: t.start_time, test: true },
  ];
  let webhook: Webhook | null = null;
  // call.started goes out even when the final report came first (a short call): it rang.
  if (r.kind === "placed") {
    tests.confirm(r.seq, r.providerCallId);
    webhook = started();
  } else if (r.kind === "unknown") {
    tests.note(r.seq, r.error);
    webhook = started();
  } else {
    // Nothing rings: a test call is never re-sent (placing another is the operator's choice).
    const error = "error" in r ? r.error : "The provider refused the call for now (rate limited); nothing was dialled. Place the test call again in a moment.";
    webhook = end(state, tests, r.seq, { outcome: "failed", at: c.now(), error });
  }
  if (webhook) await emit(c, ...webhook);
}

/** A status report about a test call (results.ts applyLocal): applied only if it ends the active call; its webhook joins the batch's. */
export function applyEvent(c: BatchContext, state: SchedulerState, ev: CallEvent, webhooks: Webhook[]): ApplyResult {
  const tests = ledgerOf(c);
  const t = tests.get(ev.seq);
  if (!t) return "unknown_call";
  if (ev.attempt !== 1 || t.status !== "active") return "ignored";
  if (ev.kind === "progress") {
    tests.confirm(ev.seq, ev.providerCallId);
    return "applied";
  }
  const webhook = end(state, tests, ev.seq, { outcome: ev.outcome, at: ev.at, error: ev.error ?? null, durationSec: ev.durationSec });
  if (webhook) webhooks.push(webhook);
  return "applied";
}

/** Ends an active test call; its webhook (call.completed or call.failed with `test: true`), none for a cancelled one, or null if it had ended. */
export function end(
  state: SchedulerState,
  tests: TestCallLedger,
  seq: number,
  ev: { outcome: Extract<CallEvent, { kind: "final" }>["outcome"]; at: number; error: string | null; durationSec?: number | null },
): Webhook | null {
  const status = finalStatus(ev.outcome);
  const duration = connected(ev.outcome) ? (ev.durationSec ?? 0) : (ev.durationSec ?? null);
  const error = failureReason(ev.outcome, 1, ev.error);
  if (!tests.finish(seq, { status, outcome: ev.outcome, endTime: ev.at, duration, error })) return null;
  log("info", "call.test_ended", { ...batchFields(state), seq, outcome: ev.outcome });
  if (status === "cancelled") return null;
  const id = callId(state.batchId, seq);
  const type = status === "completed" ? "call.completed" : "call.failed";
  return [type, `${id}:1`, { batchId: state.batchId, callId: id, attempt: 1, status, outcome: ev.outcome, endTime: ev.at, duration, error, test: true }];
}

/**
 * An agent's result for a test call (agent-results.ts recordResult):
 * checked against the batch's declared results and merged like a call's,
 * announced as call.result with `test: true`. Acted on never: a callback
 * is not scheduled and an opt-out does not reach the do-not-call list
 * (the operator is not a recipient).
 */
export async function recordResult(c: BatchContext, state: SchedulerState, seq: number, report: ResultReport): Promise<RecordResultAnswer> {
  const tests = ledgerOf(c);
  const t = tests.get(seq);
  if (!t) return { kind: "unknown_call" };
  if (report.attempt > 1) return { kind: "not_dialled", attempts: 1 };
  const declared = (await c.config()).agent.result_schema;
  const problem = declared ? declaredProblem(report, declared) : null;
  if (problem) return { kind: "invalid", problem };
  const prev = t.result ? (JSON.parse(t.result) as { callback_at: number | null }) : null;
  if (report.pastCallbackProblem && prev?.callback_at !== report.callbackAt) return { kind: "invalid", problem: report.pastCallbackProblem };
  const { attempt: _a, source: _s, pastCallbackProblem: _p, ...fields } = report;
  const merged = tests.mergeResult(seq, fields, c.now())!;
  const id = callId(state.batchId, seq);
  if (merged.changed) {
    log("info", "call.test_result_recorded", { ...batchFields(state), seq, source: report.source });
    // call.result's fields, as the API shows a result (its receivedAt aside).
    const { receivedAt: _r, ...result } = resultView(state.batchId, merged.result);
    await emit(c, "call.result", `${id}:1:result:${merged.result.revision}`, { batchId: state.batchId, callId: id, ...result, test: true });
  }
  const asked = merged.result.callback_at !== null;
  return {
    kind: "recorded",
    changed: merged.changed,
    callback: asked ? "ignored" : "none",
    ...(asked ? { callbackNote: "A test call schedules no callback." } : {}),
  };
}

/** GET …/calls/{callId} and the agent's context read for a test call: its one attempt, shown as a call's. */
export async function callDetail(c: BatchContext, seq: number): Promise<CallDetail | null> {
  const t = ledgerOf(c).get(seq);
  const b = c.ledger.batch();
  if (!t || !b) return null;
  const config = await c.config();
  const result = t.result ? (JSON.parse(t.result) as NonNullable<CallDetail["result"]>) : null;
  const row: CallRow = {
    seq,
    phone_number: t.to_number,
    metadata: t.metadata,
    status: t.status,
    outcome: t.outcome,
    attempts: 1,
    next_attempt_at: null,
    start_time: t.start_time,
    end_time: t.end_time,
    duration: t.duration,
    error: t.error,
    dispatched_attempt: 1,
    dispatched_at: t.start_time,
    pass_base: 0,
    due_at: 0,
    provider_call_id: t.provider_call_id,
    lease_expires_at: null,
    disposition: result?.disposition ?? null,
    result_attempt: result ? 1 : null,
    requested_callbacks: 0,
    opted_out: 0,
    numbers: null,
    dial_to: t.to_number,
    dial_from: t.from_number,
    wait_reason: null,
    result,
  };
  const attempt = { seq, attempt: 1, from_number: t.from_number, to_number: t.to_number, start_time: t.start_time, end_time: t.end_time };
  return {
    row,
    attempts:
      t.status === "active" ? [] : [{ ...attempt, outcome: t.outcome ?? "failed", duration: t.duration, error: t.error, provider_call_id: t.provider_call_id }],
    result,
    transcriptKeys: result?.transcript_key ? { 1: result.transcript_key } : {},
    columns: config.columns,
    agentId: config.agent.id,
    batchStatus: b.status,
  };
}

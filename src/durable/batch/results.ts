import { isoMs, type CallRow } from "../../db/call-ledger";
import type { WorkspaceEngineInfo } from "../../db/workspace.repo";
import { maxRequestedCallbacks } from "../../domain/batch-options";
import { connected, failureReason, nextStep, timeScale } from "../../domain/outcome";
import { overBudget } from "../../domain/budget";
import { trippedRule } from "../../domain/stop-rules";
import { isTestSeq } from "../../domain/test-call";
import type { CallStatus } from "../../domain/vocabulary";
import { engineConfig } from "../../engine-config";
import { callId } from "../../lib/ids";
import { log } from "../../lib/log";
import { count } from "../../lib/metrics";
import type { WebhookEventType } from "../../queue/webhook-event";
import { poke } from "./clock";
import { optOut, requestedDueAt } from "./agent-results";
import { batchFields, type BatchContext } from "./context";
import type { ApplyResult, BatchConfig, CallEvent, SchedulerState } from "./contract";
import { announce, emit, pauseUnannounced, release, syncSummary } from "./effects";
import * as testCalls from "./test-call-reports";

type Webhook = [WebhookEventType, string, Record<string, unknown>];

/** An ended attempt, as the one log line of its report batch lists it. */
type Ended = { seq: number; attempt: number; outcome: string; next: CallStatus };

/**
 * Status reports (provider webhooks, the simulated carrier, lease expiry),
 * applied only if news: a final result for the attempt that is active now.
 * Each ended attempt frees its lease, schedules its callback or closes the
 * call, and says so in a webhook.
 */
export async function applyLocal(c: BatchContext, state: SchedulerState, events: CallEvent[]): Promise<ApplyResult[]> {
  const config = await c.config();
  const ws = await c.workspace(state);
  const webhooks: Webhook[] = [];
  const results: ApplyResult[] = [];
  const ends: Ended[] = [];
  for (const ev of events) {
    // A test call is the batch's own business: none of what follows (counters, stop rules, the feed) sees it.
    if (isTestSeq(ev.seq)) {
      results.push(testCalls.applyEvent(c, state, ev, webhooks));
      continue;
    }
    const row = c.ledger.call(ev.seq);
    let result: ApplyResult;
    if (!row) result = "unknown_call";
    else if (ev.kind === "progress") {
      // Any report proves the dial happened.
      c.ledger.confirmDials([{ seq: ev.seq, attempt: ev.attempt, providerCallId: ev.providerCallId }], engineConfig(c.env).callLeaseMs);
      result = "applied";
    } else {
      const webhook = finishAttempt(c, state, config, ws, row, ev, ends);
      result = webhook ? "applied" : "ignored";
      if (webhook && webhook !== "silent") webhooks.push(webhook);
    }
    results.push(result);
  }
  if (ends.length > 0) {
    // One line per report batch, not per call: at the workspace limit a line per call was most of
    // the Worker's log volume (Workers Logs bills per line) and a fifth of the local thread.
    log("info", "call.attempts_ended", { ...batchFields(state), attempts: ends });
    count("engine.finals", ends.length);
    c.feed?.changed(events.filter((_, i) => results[i] === "applied").map((e) => e.seq));
    // A stop rule paused the batch: D1 and the webhook hear it now (the tick and the cron retry both).
    if (pauseUnannounced(c.ledger.batch()!)) {
      await syncSummary(c, true);
      await announce(c, state);
    }
    await poke(c);
  }
  if (webhooks.length > 0) await Promise.all(webhooks.map(([type, key, data]) => emit(c, type, key, data)));
  return results;
}

/**
 * Ends the attempt a final report is about, if it is the active one:
 * waiting again for a callback, or closed. An agent's result that came
 * first decides too: an opt-out closes the call, a requested callbackAt
 * schedules the next attempt then. Returns the webhook that says so
 * ("silent" for a call cancelled with its batch), or null if the report
 * was not news; an attempt it ended is added to `ends`.
 */
function finishAttempt(
  c: BatchContext,
  state: SchedulerState,
  config: BatchConfig,
  ws: WorkspaceEngineInfo | null,
  row: CallRow,
  ev: CallEvent & { kind: "final" },
  ends: Ended[],
): Webhook | "silent" | null {
  if (row.status !== "active" || row.attempts !== ev.attempt) return null;
  const status = c.ledger.head()!.status;
  const running = status === "processing" || status === "paused";
  const reported = c.ledger.results.get(ev.seq, ev.attempt);
  const optedOut = reported?.opt_out === 1;
  const smart = nextStep({
    config: config.smartCallbackConfig,
    outcome: ev.outcome,
    attemptInPass: ev.attempt - row.pass_base,
    endedAt: ev.at,
    batchRunning: running && !optedOut,
    timeScale: timeScale(c.env),
  });
  const requested = running && !optedOut && reported?.callback_at != null && row.requested_callbacks < maxRequestedCallbacks(config.smartCallbackConfig);
  const step = requested ? { kind: "callback" as const, dueAt: requestedDueAt(config, ws, row, reported!.callback_at!) } : smart;
  const answered = connected(ev.outcome);
  const duration = answered ? (ev.durationSec ?? 0) : (ev.durationSec ?? null);
  const next: CallStatus = step.kind === "callback" ? "waiting" : step.status;
  // Every attempt that did not connect says why, in a sentence (a failed call's `error`).
  const error = failureReason(ev.outcome, ev.attempt - row.pass_base, ev.error);
  const dueAt = step.kind === "callback" ? step.dueAt : 0;
  const outcome = requested ? "callback_requested" : ev.outcome;
  const end = { status: next, outcome, endTime: ev.at, duration, error: requested ? null : error, dueAt, requested };
  let ended = false;
  // The attempt's end, its history line and what its result decided commit together.
  c.storage.transactionSync(() => {
    ended = c.ledger.finish(ev.seq, ev.attempt, end);
    if (!ended) return;
    c.ledger.results.logAttempt(ev.seq, ev.attempt, ev.outcome, config.agent.from_number);
    if (config.stopRules || config.maxMinutes) judge(c, config, ev.outcome);
    if (reported?.callback_at != null) c.ledger.results.setCallbackState(ev.seq, ev.attempt, requested ? "scheduled" : "ignored");
    if (optedOut) optOut(c, state, row, ev.attempt, ev.at);
  });
  // Its lease is owed to the limiter now: finish()'s counters trigger named it in the batch row (releases.list).
  if (!ended) return null;
  ends.push({ seq: ev.seq, attempt: ev.attempt, outcome: ev.outcome, next });
  const id = callId(state.batchId, ev.seq);
  const key = `${id}:${ev.attempt}`;
  const about = { batchId: state.batchId, callId: id, attempt: ev.attempt };
  if (step.kind === "callback") {
    const why = requested ? { outcome, reason: "callback_requested", error: null } : { outcome: ev.outcome, reason: "smart_callback", error };
    return ["call.retry_scheduled", key, { ...about, ...why, nextAttemptAt: isoMs(step.dueAt) }];
  }
  if (step.status === "cancelled") return "silent";
  const type = step.status === "completed" ? "call.completed" : "call.failed";
  return [type, key, { ...about, status: step.status, outcome: ev.outcome, endTime: ev.at, duration, error }];
}

/**
 * Adds a finished attempt to the stop rules' window and pauses a running
 * batch whose full window breaks one, or whose billed minutes reached its
 * maxMinutes, in the same step as the attempt's end: a crash cannot leave
 * the rule tripped (or the budget spent) and the batch running.
 */
function judge(c: BatchContext, config: BatchConfig, outcome: string): void {
  const rules = config.stopRules;
  const tripped = rules ? trippedRule(rules, c.ledger.stopWindow.note(outcome, rules.window)) : null;
  // finish()'s counters trigger has already added this attempt's billed minutes to the batch row.
  const spent = !tripped && overBudget(config.maxMinutes, c.ledger.batch()?.billed_minutes ?? 0);
  const reason = tripped ?? (spent ? "budget" : null);
  if (reason && c.ledger.setStatus(["processing"], "paused", { pausedReason: reason, autoPause: true })) {
    log("warn", "batch.auto_paused", { reason });
  }
}

/** Numbers that joined the do-not-call list: their waiting calls are cancelled now, dispatched or not. */
export async function suppress(c: BatchContext, state: SchedulerState, phones: string[]): Promise<number> {
  const { cancelled, dispatched } = c.ledger.cancelNumbers(phones, "on the do-not-call list", c.now());
  // A job already on the queue will find nothing to claim; its reservation is freed now, not when it lapses.
  release(c, state.batchId, dispatched);
  if (cancelled > 0) await poke(c);
  return cancelled;
}

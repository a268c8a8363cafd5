import type { LedgerBatch } from "../../db/call-ledger";
import { unsettled } from "../../db/ledger/batch";
import { overBudget } from "../../domain/budget";
import { RETRYABLE_OUTCOMES, type BatchStatus } from "../../domain/vocabulary";
import { killPoint } from "../../lib/fault";
import { log } from "../../lib/log";
import { armFor, poke, restoreAlarm } from "./clock";
import { batchFields, type BatchContext } from "./context";
import type { ControlResult, SchedulerState } from "./contract";
import { announce, announcePending, release, syncSummary } from "./effects";
import { applyLocal } from "./results";
import { start as beginProcessing, settleCancelSlice } from "./tick";

// Start (a draft), pause, resume, cancel and retry (a new pass over the retryable calls): each arms the clock before it commits
// (a process that dies after the commit still leaves a tick to finish the
// job), and each, asked again, finishes what a first request left undone.

// PATCH …/{batchId} is a control step too; its object side lives in edit.ts.
export { edit } from "./edit";

/** The states a cancel applies to: a draft is cancelled with nothing dialled. */
const CANCELLABLE: BatchStatus[] = ["draft", "queued", "processing", "paused"];

/**
 * Waiting calls are cancelled with the batch, in one step: no claim can
 * follow (claims need a processing batch), and from then on they count as
 * cancelled. The step writes the ones holding a job and a first slice of
 * the rest; the batch's next ticks write the others, a slice each, so the
 * answer's time does not grow with the batch. Active calls finish.
 */
export async function cancel(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<ControlResult<{ already: boolean; batch: LedgerBatch }>> {
  if (b.status === "cancelled") {
    // A repeated cancel (its first answer may have been lost with a crash) finishes what the first left undone.
    await settleControl(c, state);
    return { ok: true, value: { already: true, batch: c.ledger.batch()! } };
  }
  if (!CANCELLABLE.includes(b.status)) return { ok: false, status: b.status };
  await armFor(c, "cancelled", state, false);
  if (!c.ledger.setStatus(CANCELLABLE, "cancelled", { completedTime: c.now() })) return { ok: false, status: b.status };
  release(c, state.batchId, c.ledger.cancelWaiting());
  settleCancelSlice(c, state.batchId);
  c.feed?.changed();
  await settleUnreachable(c, state);
  await killPoint(c.env, "cancel.committed");
  await syncSummary(c, true);
  await killPoint(c.env, "cancel.summarised");
  await announce(c, state);
  await killPoint(c.env, "cancel.emitted");
  await poke(c);
  return { ok: true, value: { already: false, batch: c.ledger.batch()! } };
}

/** Dials that got no response hold their slots only for want of a lease expiry: a cancel settles them now. */
async function settleUnreachable(c: BatchContext, state: SchedulerState): Promise<void> {
  const unreachable = c.ledger.unreachableActive();
  if (unreachable.length === 0) return;
  const at = c.now();
  const finals = unreachable.map((u) => ({
    kind: "final" as const,
    batchId: state.batchId,
    seq: u.seq,
    attempt: u.attempt,
    outcome: "failed" as const,
    at,
    error: u.error,
  }));
  await applyLocal(c, state, finals);
}

/** A repeated control request re-arms a live batch and writes a summary that fell behind: a crash after the first leaves nothing stranded. */
async function settleControl(c: BatchContext, state: SchedulerState): Promise<void> {
  const b = c.ledger.batch()!;
  if (b.status === "queued" || b.status === "processing") await armFor(c, b.status, state, false);
  // A cancel still settling its waiting calls keeps its clock running.
  if (unsettled(c.sql) > 0) await poke(c);
  await syncSummary(c, true);
  await announce(c, state);
}

/**
 * A draft starts: at its scheduledAt while that is still ahead (queued: the
 * clock wakes it then, as any scheduled batch), else now (processing, its
 * summary and batch.started, as the tick starts a due batch). Only a draft
 * starts: a start repeated after its answer was lost finds the batch queued
 * or running, keeps it moving and answers with its status (a 409 naming it).
 */
export async function start(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<ControlResult<BatchStatus>> {
  if (b.status !== "draft") {
    await settleControl(c, state);
    return { ok: false, status: b.status };
  }
  const to = state.dueAt > c.now() ? "queued" : "processing";
  await armFor(c, to, state, false);
  const started = to === "queued" ? c.ledger.setStatus(["draft"], "queued") : await beginProcessing(c, state, "draft");
  if (!started) return { ok: false, status: c.ledger.batch()!.status };
  c.feed?.changed();
  // beginProcessing wrote the summary of a start now; a crash before either write leaves the control mark for the cron to repair.
  if (to === "queued") await syncSummary(c, true);
  return { ok: true, value: to };
}

/** Pause keeps the queue; calls in flight finish. Pausing a paused batch is harmless. */
export async function pause(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<ControlResult<BatchStatus>> {
  if (b.status === "paused") {
    await settleControl(c, state);
    return { ok: true, value: "paused" };
  }
  if (!c.ledger.setStatus(["queued", "processing"], "paused", { pausedReason: "manual" })) return { ok: false, status: b.status };
  c.feed?.changed();
  await killPoint(c.env, "pause.committed");
  await syncSummary(c, true);
  await killPoint(c.env, "pause.summarised");
  return { ok: true, value: "paused" };
}

/** A batch paused before its first dial goes back to waiting for its start time; one that has used its budget does not resume. */
export async function resume(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<ControlResult<BatchStatus>> {
  if (b.status === "queued" || b.status === "processing") {
    // Already running — or a first resume died after its step: make sure the clock runs and D1 knows.
    await settleControl(c, state);
    return { ok: true, value: b.status };
  }
  if (b.status !== "paused") return { ok: false, status: b.status };
  // A batch that has used its budget stays paused until PATCH raises (or clears) maxMinutes.
  const { maxMinutes } = await c.config();
  const billedMinutes = b.billed_minutes ?? 0;
  if (maxMinutes != null && overBudget(maxMinutes, billedMinutes)) return { ok: false, status: "over_budget", billedMinutes, maxMinutes };
  const to = b.start_time === null ? "queued" : "processing";
  await armFor(c, to, state, true);
  if (!c.ledger.setStatus(["paused"], to, { pausedReason: null })) return { ok: false, status: c.ledger.batch()!.status };
  // The stop rules judge the attempts made after the resume, not the ones that paused the batch.
  c.ledger.stopWindow.reset();
  c.feed?.changed();
  await killPoint(c.env, "resume.committed");
  await syncSummary(c, true);
  await killPoint(c.env, "resume.summarised");
  return { ok: true, value: to };
}

/** A new pass over recipients whose final outcome was no_answer, busy or failed. */
export async function retry(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<ControlResult<{ status: BatchStatus; requeued: number }>> {
  if (b.status !== "completed") {
    // A retry whose first answer was lost finds the batch running: keep it moving, then say it is running.
    await settleControl(c, state);
    return { ok: false, status: b.status };
  }
  if (!c.ledger.hasRetryable(RETRYABLE_OUTCOMES)) return { ok: true, value: { status: b.status, requeued: 0 } };
  await armFor(c, "processing", state, true);
  // One synchronous step: the new pass and its re-queued calls commit together.
  c.ledger.setStatus(["completed"], "processing", { completedTime: null, passPlusOne: true });
  const requeued = c.ledger.requeue(RETRYABLE_OUTCOMES);
  c.feed?.changed();
  await killPoint(c.env, "retry.committed");
  await syncSummary(c, true);
  await killPoint(c.env, "retry.summarised");
  log("info", "batch.retry", { ...batchFields(state), requeued });
  return { ok: true, value: { status: "processing", requeued } };
}

/**
 * The cron's safety net: a summary left behind by a process that died
 * mid-transition is written now (the object is the truth), and a batch
 * that may still act but has no alarm (it gave up after repeated
 * failures, or was lost) gets one — a cancel still settling its waiting
 * calls among them.
 */
export async function ensureAlarm(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<{ alarmRestored: boolean; summaryRepaired: boolean }> {
  const summaryRepaired = state.materialised && (await syncSummary(c, true, true));
  if (summaryRepaired) log("warn", "batch.summary_repaired", { ...batchFields(state), status: b.status });
  const live = b.status === "queued" || b.status === "processing" || !state.materialised;
  const idle = !c.ledger.releases.pending() && !announcePending(state, b) && unsettled(c.sql) === 0;
  if (!live && idle) return { alarmRestored: false, summaryRepaired };
  const now = c.now();
  const alarmRestored = await restoreAlarm(c, b.status === "queued" && state.materialised ? Math.max(now, state.dueAt) : now);
  if (alarmRestored) log("warn", "batch.alarm_restored", { ...batchFields(state), status: b.status });
  return { alarmRestored, summaryRepaired };
}

import { batchStatus } from "../../db/batch.repo";
import { settleCancelled, unsettled } from "../../db/ledger/batch";
import type { BatchStatus } from "../../domain/vocabulary";
import { MIN_WAKE_GAP_MS, nextWake, type WakeInput } from "../../domain/wake";
import { engineConfig, SUMMARY_FLUSH_MS, UNPUBLISHED_RECHECK_MS } from "../../engine-config";
import { log } from "../../lib/log";
import { observe } from "../../lib/metrics";
import { batchFields, type BatchContext } from "./context";
import type { SchedulerState } from "./contract";
import { dispatch } from "./dispatch";
import { flushOptOuts, OPT_OUT_RETRY_MS } from "./agent-results";
import { announce, emit, flushOutbox, flushReleases, release, syncSummary } from "./effects";
import { resolveExpired } from "./expiry";
import { ready } from "./materialise";

/**
 * One pass of the batch's clock; returns when to run again, or null.
 * Passes never overlap: an alarm and a test-driven tick (or two alarms
 * racing an eviction) queue behind each other in this instance.
 */
export function tick(c: BatchContext): Promise<number | null> {
  const run = c.tickChain.then(async () => {
    // Materialising (once per batch) is measured on its own, not as a tick.
    await ready(c);
    const elapsed = c.stopwatch();
    try {
      const next = await tickOnce(c);
      // Opt-outs recorded but not yet on the do-not-call list keep the clock going, whatever the batch's status.
      const state = await c.state();
      const left = state?.published ? await flushOptOuts(c, state) : false;
      return left ? Math.min(next ?? Number.POSITIVE_INFINITY, c.now() + OPT_OUT_RETRY_MS) : next;
    } finally {
      c.feed?.changed();
      // Workers' clocks advance at I/O, so this is the tick's wall time across its awaits.
      observe("tick.ms", elapsed());
    }
  });
  c.tickChain = run.catch(() => undefined);
  return run;
}

async function tickOnce(c: BatchContext): Promise<number | null> {
  let state = await ready(c);
  if (!state) return null;
  const now = c.now();
  // A queued batch cancelled before its start settles its calls now, not at the start it will never have.
  if (now < state.dueAt && c.ledger.head()?.status !== "cancelled") return state.dueAt;
  await flushOutbox(c);
  if (!state.published) {
    const status = await batchStatus(c.env.DB, state.batchId);
    if (status === null) return null; // rolled back: discard follows
    if (status === "preparing") return c.now() + UNPUBLISHED_RECHECK_MS;
    state = await c.patchState({ published: true });
  }
  const status = c.ledger.head()!.status;
  if (status === "queued") {
    await start(c, state);
    return tickOnce(c);
  }
  if (status !== "processing") return settleStopped(c, state, now);
  return runPass(c, state, now);
}

/**
 * A queued batch whose time has come starts: processing, its summary and
 * batch.started. A draft started for now (control.ts) starts the same way,
 * `from` draft; false if the batch was not in `from`.
 */
export async function start(c: BatchContext, state: SchedulerState, from: BatchStatus = "queued"): Promise<boolean> {
  if (!c.ledger.setStatus([from], "processing")) return false;
  log("info", "batch.started", batchFields(state));
  await syncSummary(c, true);
  const b = c.ledger.batch()!;
  await emit(c, "batch.started", `${state.batchId}:${b.pass}`, { batchId: state.batchId, totalCalls: b.total_calls });
  return true;
}

/**
 * A draft: nothing is dialled until its start (control.ts) arms the clock.
 * Paused: resume pokes the clock; cancelled, completed, failed: nothing
 * more to dial. Calls still in flight (a pause or cancel lets them finish)
 * settle by their leases, and the tick wakes for the next lease to expire.
 * A cancel's waiting calls are written as cancelled a slice per tick, the
 * next tick following at once until none is left.
 */
async function settleStopped(c: BatchContext, state: SchedulerState, now: number): Promise<number | null> {
  const inFlight = c.ledger.head()!.active_count > 0;
  if (inFlight) await resolveExpired(c, state, now);
  const left = settleCancelSlice(c, state.batchId);
  await flushReleases(c);
  // Settling changes no counter the summary shows (those calls count as cancelled already): D1 hears at its usual pace, and at the end.
  await syncSummary(c, left === 0);
  await announce(c, state);
  if (left > 0) return now + MIN_WAKE_GAP_MS;
  const lease = inFlight ? c.ledger.dueTimes().lease : null;
  return lease === null ? null : Math.max(lease, now + MIN_WAKE_GAP_MS);
}

/**
 * Writes one slice of a cancelled batch's waiting calls as cancelled (none
 * in any other batch), freeing the reservations of any that held a job;
 * returns how many are left. One synchronous step.
 */
export function settleCancelSlice(c: BatchContext, batchId: string): number {
  const sql = c.sql;
  if (unsettled(sql) === 0) return 0;
  const slice = settleCancelled(sql, engineConfig(c.env).cancelSliceCalls, c.settledThrough);
  c.settledThrough = slice.lastSeq;
  release(c, batchId, slice.dispatched);
  return unsettled(sql);
}

/** A processing batch: settle expired and lost work, dispatch a slice, complete the batch or say when to look again. */
async function runPass(c: BatchContext, state: SchedulerState, now: number): Promise<number | null> {
  const cfg = engineConfig(c.env);
  const version = c.ledger.head()!.version;
  const resolved = await resolveExpired(c, state, now);
  // Jobs not heard of for dispatchStaleMs were lost with a queue message: hand them out again (one indexed query).
  const stale = c.ledger.reclaimStaleDispatches(now - cfg.dispatchStaleMs);
  if (stale.length) {
    release(c, state.batchId, stale);
    log("warn", "batch.stale_dispatches_reclaimed", { ...batchFields(state), count: stale.length });
  }
  const sent = await dispatch(c, state, now);
  // A tick that changed nothing backs off from work it found overdue (see nextWake).
  const progressed = resolved > 0 || stale.length > 0 || sent.sent > 0 || c.ledger.head()!.version !== version;
  c.idleTicks = progressed ? 0 : c.idleTicks + 1;
  await flushReleases(c);
  const b = c.ledger.head()!;
  if (b.waiting_count === 0 && b.active_count === 0) {
    await complete(c, state, now);
    return null;
  }
  const due = c.ledger.dueTimes();
  const wake: WakeInput = {
    now,
    callbackDue: due.callback,
    leaseExpires: due.lease,
    oldestDispatch: due.dispatched,
    dispatchStaleMs: cfg.dispatchStaleMs,
    moreDue: sent.moreDue,
    retryAfterMs: sent.retryAfterMs,
    anyActive: b.active_count > 0,
    heartbeatMs: cfg.heartbeatMs,
    summaryBehind: false,
    summaryFlushMs: SUMMARY_FLUSH_MS,
    releasesPending: c.ledger.releases.pending(),
    idleTicks: c.idleTicks,
  };
  // Counters reach D1 at most every SUMMARY_FLUSH_MS while calls flow; a batch about to sleep writes them now.
  const idle = nextWake(wake);
  const behind = await syncSummary(c, idle === null || idle - now >= SUMMARY_FLUSH_MS);
  return behind ? nextWake({ ...wake, summaryBehind: true }) : idle;
}

/** Every call is final: the batch completes, once, with its summary and batch.completed. */
async function complete(c: BatchContext, state: SchedulerState, now: number): Promise<void> {
  if (!c.ledger.setStatus(["processing"], "completed", { completedTime: now })) return;
  log("info", "batch.completed", { ...batchFields(state), total: c.ledger.batch()!.total_calls });
  await syncSummary(c, true);
  const done = c.ledger.batch()!;
  await emit(c, "batch.completed", `${state.batchId}:${done.pass}`, {
    batchId: state.batchId,
    totalCalls: done.total_calls,
    completed: done.completed_count,
    failed: done.failed_count,
    cancelled: done.cancelled_count,
    completedTime: now,
  });
}

import type { BatchRow } from "../db/batch.repo";
import type { LedgerBatch } from "../db/call-ledger";
import type { BatchView, CallPage, StatusBody } from "../schemas/batch";
import type { CallFilter, CallView } from "../schemas/call";
import { pagination } from "../schemas/common";
import { statusBody, type BatchCounters } from "./batch-status";

/** The upload's column names, in file order: the keys of every call's metadata. */
export const columnsOf = (b: BatchRow) => JSON.parse(b.columns) as string[];

/** A D1 row read as counters (its status is never 'preparing' once visible). */
const summaryOf = (b: BatchRow) => b as BatchRow & BatchCounters;

/** Progress from the summary the batch's object keeps in D1: at most about a second behind, and no call to the object. */
export const summaryStatus = (b: BatchRow): StatusBody => statusBody(b.id, summaryOf(b), columnsOf(b), []);

/** Progress from the batch's object, or the D1 summary if the object has no ledger. */
export async function liveStatus(env: Env, b: BatchRow): Promise<StatusBody> {
  const live = await env.BATCH_SCHEDULER.getByName(b.id).progress(10);
  return live ? statusBody(b.id, live, columnsOf(b), live.recent) : summaryStatus(b);
}

export function batchView(b: BatchRow, progress: StatusBody): BatchView {
  return {
    id: b.id,
    status: progress.status,
    isComplete: progress.isComplete,
    totalCalls: b.total_calls,
    progress,
    timestamp: Date.now(),
    name: b.name,
    agentId: b.agent_id,
    scheduledAt: b.scheduled_at,
    smartCallbackConfig: b.smart_callback_config ? (JSON.parse(b.smart_callback_config) as unknown) : null,
    callingWindow: b.calling_window ? (JSON.parse(b.calling_window) as unknown) : null,
    createdAt: b.created_at,
  };
}

/**
 * A page of a batch's calls with the batch's counters. `found` is what its
 * object returned, the calls already bounded (views/call boundedCalls);
 * null if it has no ledger: the D1 summary counts then, and there are no
 * calls to show.
 */
export function callPage(b: BatchRow, found: { calls: CallView[]; batch: LedgerBatch } | null, filter: CallFilter, page: number, limit: number): CallPage {
  const counts: BatchCounters = found?.batch ?? summaryOf(b);
  const matching: Record<CallFilter, number> = {
    all: counts.total_calls,
    waiting: counts.waiting_count,
    active: counts.active_count,
    completed: counts.completed_count,
    failed: counts.failed_count,
    cancelled: counts.cancelled_count,
  };
  return {
    calls: found?.calls ?? [],
    pagination: pagination(page, limit, matching[filter]),
    summary: {
      total: counts.total_calls,
      waiting: counts.waiting_count,
      active: counts.active_count,
      completed: counts.completed_count,
      failed: counts.failed_count,
    },
  };
}

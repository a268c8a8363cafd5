import type { BatchRow } from "../db/batch.repo";
import type { LedgerBatch, ResultCounters } from "../db/call-ledger";
import { estimateFor, type EstimateRates } from "../domain/budget";
import { encodeCursor } from "../domain/call-cursor";
import type { BatchView, CallPage, StatusBody } from "../schemas/batch";
import type { CallFilter, CallView } from "../schemas/call";
import { pagination } from "../schemas/common";
import { statusBody, type BatchCounters } from "./batch-status";

/** The upload's column names, in file order: the keys of every call's metadata. */
export const columnsOf = (b: BatchRow) => JSON.parse(b.columns) as string[];

/** A JSON object column of the D1 summary, or {} when it is missing or not an object of counts. */
function countsColumn(text: string | null): Record<string, number> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/** A D1 row read as counters (its status is never 'preparing' once visible); the outcome and disposition counts are JSON text there. */
function summaryOf(b: BatchRow): BatchCounters {
  const { outcomes, dispositions, ...rest } = b;
  return {
    ...rest,
    status: b.status as BatchCounters["status"],
    outcomes: countsColumn(outcomes) as ResultCounters["outcomes"],
    dispositions: countsColumn(dispositions),
  };
}

/** How many calls carry `label` as their latest disposition: an own key of the counts, never an inherited one ("constructor"). */
const dispositionCount = (d: Record<string, number> | undefined, label: string) => (d && Object.hasOwn(d, label) ? (d[label] ?? 0) : 0);

/** Progress from the summary the batch's object keeps in D1: at most about a second behind, and no call to the object. */
export const summaryStatus = (b: BatchRow): StatusBody => statusBody(b.id, summaryOf(b), columnsOf(b), []);

/** Progress from the batch's object, or the D1 summary if the object has no ledger. */
export async function liveStatus(env: Env, b: BatchRow): Promise<StatusBody> {
  const live = await env.BATCH_SCHEDULER.getByName(b.id).progress(10);
  // The budget is the D1 row's (the object's config holds the same; its counters do not).
  return live ? statusBody(b.id, { ...live, max_minutes: b.max_minutes }, columnsOf(b), live.recent) : summaryStatus(b);
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
    fileName: b.file_name,
    agentId: b.agent_id,
    scheduledAt: b.scheduled_at,
    smartCallbackConfig: b.smart_callback_config ? (JSON.parse(b.smart_callback_config) as unknown) : null,
    callingWindow: b.calling_window ? (JSON.parse(b.calling_window) as unknown) : null,
    maxConcurrentCalls: b.max_concurrent_calls,
    stopRules: b.stop_rules ? (JSON.parse(b.stop_rules) as BatchView["stopRules"]) : null,
    preDial: b.pre_dial_url ? { url: b.pre_dial_url, onError: b.pre_dial_on_error === "dial" ? "dial" : "skip" } : null,
    maxMinutes: b.max_minutes ?? null,
    billedMinutes: progress.billedMinutes,
    // A draft's rates as of its upload or last edit, times the calls it has now (appended rows count).
    estimate: progress.status === "draft" && b.estimate ? estimateFor(progress.total, JSON.parse(b.estimate) as EstimateRates) : null,
    createdAt: b.created_at,
  };
}

/**
 * A page of a batch's calls with the batch's counters. `found` is what its
 * object returned, the calls already bounded (views/call boundedCalls) and
 * `next` the seq of the page's last call when more match after it; null if
 * it has no ledger: the D1 summary counts then, and there are no calls to
 * show. With a `disposition` the total is that label's counter (the
 * object's, kept on every change: never a count of rows). `page` null: the
 * page was asked for by cursor, which has no page number (pagination.page
 * 0, hasNext from the cursor, hasPrev true: a cursor is always after a call).
 */
export function callPage(
  b: BatchRow,
  found: { calls: CallView[]; batch: LedgerBatch & Partial<ResultCounters>; next?: number | null } | null,
  filter: CallFilter,
  page: number | null,
  limit: number,
  disposition: string | null = null,
): CallPage {
  const counts: BatchCounters = found?.batch ?? summaryOf(b);
  const matching: Record<CallFilter, number> = {
    all: counts.total_calls,
    waiting: counts.waiting_count,
    active: counts.active_count,
    completed: counts.completed_count,
    failed: counts.failed_count,
    cancelled: counts.cancelled_count,
  };
  const next = found?.next ?? null;
  const nextCursor = next === null ? null : encodeCursor(b.id, { status: filter === "all" ? null : filter, disposition }, next);
  const total = disposition === null ? matching[filter] : dispositionCount(counts.dispositions, disposition);
  return {
    calls: found?.calls ?? [],
    pagination: page === null ? { ...pagination(0, limit, total), hasNext: nextCursor !== null, hasPrev: true } : pagination(page, limit, total),
    summary: {
      total: counts.total_calls,
      waiting: counts.waiting_count,
      active: counts.active_count,
      completed: counts.completed_count,
      failed: counts.failed_count,
    },
    nextCursor,
  };
}

import type { BatchProgress, CallRow, LedgerBatch, ResultCounters } from "../db/call-ledger";
import { largestDispositions } from "../db/batch.repo";
import type { BudgetCounters } from "../domain/budget";
import { CALL_OUTCOMES, FINAL_STATUSES } from "../domain/vocabulary";
import type { StatusBody } from "../schemas/batch";
import { toCallExcerpt } from "./call";

export type { StatusBody };

/**
 * A batch's counters as a status body reads them: the outcome, disposition and budget counters may be absent (an object or summary
 * from before they were kept); `max_minutes` is the budget, which the D1 row holds (absent: none).
 */
export type BatchCounters = BatchProgress & Pick<LedgerBatch, "status"> & Partial<ResultCounters> & BudgetCounters & { max_minutes?: number | null };

/** Every outcome a call may show, counted, 0 for those the counters lack. */
export function outcomeCounts(outcomes: Partial<Record<string, number>> | undefined): StatusBody["outcomes"] {
  return Object.fromEntries(CALL_OUTCOMES.map((o) => [o, (outcomes && Object.hasOwn(outcomes, o) ? outcomes[o] : 0) ?? 0])) as StatusBody["outcomes"];
}

/**
 * The /status body, built from a batch's counters and its most recent
 * calls (each with a metadata excerpt: the body stays small however wide
 * the file). The same body is the data of the event stream's `snapshot`
 * and `progress` events, so a client handles both alike.
 */
export function statusBody(batchId: string, b: BatchCounters, columns: string[], recent: CallRow[]): StatusBody {
  return {
    status: b.status,
    isComplete: FINAL_STATUSES.has(b.status),
    waiting: b.waiting_count,
    active: b.active_count,
    completed: b.completed_count,
    failed: b.failed_count,
    total: b.total_calls,
    startTime: b.start_time,
    lastCompletedTime: b.last_completed_time,
    completedTime: b.completed_time,
    averageCallDuration: b.completed_count > 0 ? Math.round(b.total_duration_ms / b.completed_count / 10) / 100 : 0,
    recent_calls: recent.map((r) => toCallExcerpt(batchId, r, columns)),
    cancelled: b.cancelled_count,
    paused: b.status === "paused",
    // A batch paused before reasons were kept was paused by request.
    pausedReason: b.status === "paused" ? ((b.paused_reason ?? "manual") as StatusBody["pausedReason"]) : null,
    outcomes: outcomeCounts(b.outcomes),
    dispositions: largestDispositions(b.dispositions ?? {}),
    maxMinutes: b.max_minutes ?? null,
    billedMinutes: b.billed_minutes ?? 0,
  };
}

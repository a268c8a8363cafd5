import type { BatchProgress, CallRow, LedgerBatch } from "../db/call-ledger";
import { FINAL_STATUSES } from "../domain/vocabulary";
import type { StatusBody } from "../schemas/batch";
import { toCallExcerpt } from "./call";

export type { StatusBody };

export type BatchCounters = BatchProgress & Pick<LedgerBatch, "status">;

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
  };
}

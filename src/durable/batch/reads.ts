import type { CallRow, LedgerBatch } from "../../db/call-ledger";
import type { CallStatus } from "../../domain/vocabulary";
import { statusBody } from "../../views/batch-status";
import { changedCalls, readCallPage, recentCallRows, type CallView } from "../../views/call";
import { alarmAt } from "./clock";
import type { BatchContext } from "./context";
import type { EngineState, Progress, SchedulerState } from "./contract";
import { ProgressFeed } from "./progress-feed";

// What callers read: the live event stream, progress, pages of calls, and
// the operator's view of the engine. Each read is one snapshot of the
// ledger: no await between the rows and the counters sent with them.

/** The live event stream, one feed per instance shared by every subscriber. */
export async function subscribe(c: BatchContext, state: SchedulerState): Promise<Response> {
  const { columns } = await c.config();
  c.feed ??= new ProgressFeed({
    status: () => {
      const b = c.ledger.batch();
      return b ? statusBody(state.batchId, b, columns, recentCallRows(c.ledger, 10)) : null;
    },
    // Metadata excerpts only: what a subscriber is sent stays small however wide the file.
    calls: (seqs) => changedCalls(c.ledger, state.batchId, columns, seqs),
    version: () => c.ledger.batch()?.version ?? 0,
  });
  return c.feed.subscribe();
}

/** Status, counters and times as the ledger has them now, with the most recent calls. */
export function progress(c: BatchContext, b: LedgerBatch, recent: number): Progress {
  return { ...b, recent: recentCallRows(c.ledger, recent) };
}

/** A page of calls, at most `maxBytes` of JSON however wide the rows (views/call boundedCalls), with the counters. */
export async function listCalls(
  c: BatchContext,
  state: SchedulerState,
  page: { status: CallStatus | null; limit: number; offset: number; maxBytes?: number },
): Promise<{ calls: CallView[]; batch: LedgerBatch }> {
  const { columns } = await c.config();
  // No await from here on: the page and the counters are one snapshot of the ledger.
  const calls = readCallPage(c.ledger, state.batchId, columns, page);
  return { calls, batch: c.ledger.batch()! };
}

/** Calls after `afterSeq` in file order, at most `limit` and about `maxBytes` of metadata: keyset pages for exports that walk a whole batch. */
export function callsAfter(c: BatchContext, afterSeq: number, limit: number, maxBytes: number): CallRow[] {
  return c.ledger.callsAfterWithin(afterSeq, limit, maxBytes);
}

/** What an operator needs to see whether the batch's clock and summary are sound (GET /v1/admin/batches/{id}/engine). */
export async function engineState(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<EngineState> {
  const alarm = await alarmAt(c);
  return {
    status: b.status,
    version: b.version,
    summaryVersion: state.summaryVersion,
    waiting: b.waiting_count,
    active: b.active_count,
    alarmAt: alarm === null ? null : new Date(alarm).toISOString(),
    published: state.published,
    materialised: state.materialised,
  };
}
